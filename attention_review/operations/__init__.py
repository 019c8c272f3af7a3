"""What operators need from a running app: readiness, metrics, request ids in the logs,
and the client address behind proxies. Nothing here changes the app's data."""
