"""The LOGGING setting: one handler on stdout, text lines by default or JSON lines with
`LOG_FORMAT=json`, and the request id on every line either way.

Imported by settings.py, so it imports nothing from Django.
"""

from typing import Any

LOG_FORMATS = ("text", "json")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# A JSON line holds these fields in order, anything passed with `extra=`, "exc_info" (the
# traceback) when an exception is logged, and "time" (ISO 8601, UTC) last.
JSON_FIELDS = ["levelname", "name", "request_id", "message"]
JSON_RENAMES = {"levelname": "level", "name": "logger"}


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    if log_format not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
    formatters: dict[str, dict[str, Any]] = {
        "text": {"format": TEXT_FORMAT},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": JSON_FIELDS,
            "rename_fields": JSON_RENAMES,
            "timestamp": "time",
        },
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "attention_review.operations.request_id.RequestIdLogFilter"}
        },
        "formatters": {log_format: formatters[log_format]},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # urllib3 logs request lines at DEBUG; keep it quiet so nothing near a header
            # leaks.
            "urllib3": {"level": "WARNING"},
        },
    }
