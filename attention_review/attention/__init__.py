"""The boundary with Attention's REST API: payload schemas and the HTTP client.

Nothing in this package knows about Django models or views.
"""
