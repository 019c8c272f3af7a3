"""A request id on every response and every log line written while the request runs.

An incoming `X-Request-ID` (set by a proxy or a caller) is kept when it is printable
ASCII of at most 200 characters; otherwise, or when there is none, a new one is made.
The id goes back in the response's `X-Request-ID` header and sits in a context variable
that `RequestIdLogFilter` copies onto each log record as `request_id`.

The variable is set when the request enters the middleware and cleared when Django
reports the request finished, so the lines Django itself writes after the middleware
returns (its "Not Found: /path" warning, for example) carry the id too. Work that runs
in another thread sees the id only if that thread was started with a copy of the
request's context (`contextvars.copy_context().run`); django.tasks' immediate backend
runs in the request's thread and sees it.
"""

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponseBase

HEADER = "X-Request-ID"
MAX_LENGTH = 200
NO_REQUEST = "-"

_VALID = re.compile(rf"[\x20-\x7e]{{1,{MAX_LENGTH}}}")
_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request this code runs in, or None outside a request."""
    return _request_id.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


def acceptable_request_id(value: str | None) -> str | None:
    """The incoming id when it may be kept (printable ASCII, 1 to 200 characters after
    trimming surrounding spaces), else None."""
    if value is None:
        return None
    value = value.strip()
    return value if _VALID.fullmatch(value) else None


class RequestIdMiddleware:
    """Outermost middleware: every later middleware, the view and the logs see the id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request_id = acceptable_request_id(request.headers.get(HEADER)) or new_request_id()
        _request_id.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


def _forget_request_id(**_kwargs: Any) -> None:
    _request_id.set(None)


request_finished.connect(_forget_request_id, dispatch_uid="operations.forget_request_id")


class RequestIdLogFilter(logging.Filter):
    """Adds `request_id` to every record ("-" outside a request). A record that already
    carries one (logged with `extra={"request_id": ...}`) keeps it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = _request_id.get() or NO_REQUEST
        return True
