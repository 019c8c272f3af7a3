"""Pinning query counts by name: each query described by what it does to which tables,
so a page that grows a query fails with that query named in the diff."""

import re
from collections.abc import Callable

from django.db import connection
from django.http import HttpResponse
from django.test.utils import CaptureQueriesContext

_TABLE = re.compile(r'(?:FROM|JOIN|UPDATE|INTO)\s+"(\w+)"')


def describe(sql: str) -> str:
    """'SELECT auth_user', 'COUNT reviews_conversation', 'UPDATE reviews_intelligenceitem':
    the statement's kind and every table it touches, in order of first mention."""
    text = sql.lstrip().lstrip("(")  # PostgreSQL wraps the parts of a UNION
    # PostgreSQL reads `.iterator()` through a server-side cursor: the query is the same.
    if text.upper().startswith("DECLARE ") and " FOR " in text.upper():
        text = text[text.upper().index(" FOR ") + len(" FOR ") :]
    verb = text.split(None, 1)[0].upper()
    if text.upper().startswith("SELECT COUNT("):
        verb = "COUNT"
    tables = list(dict.fromkeys(_TABLE.findall(text)))
    return " ".join([verb, *tables]) if tables else verb


def queries_of(request: Callable[[], HttpResponse]) -> list[str]:
    """Run one request and describe the queries it made; it must succeed."""
    with CaptureQueriesContext(connection) as captured:
        response = request()
    assert response.status_code in (200, 302), response.status_code
    return [describe(query["sql"]) for query in captured.captured_queries]
