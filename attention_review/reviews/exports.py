"""The audit ledger as CSV, streamed row by row and safe to open in a spreadsheet."""

import csv
import functools
import io
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from django.db.models import TextField
from django.db.models.functions import Cast

from .forms import value_as_text
from .selectors.audit import person_name

CSV_HEADER = [
    "attempt_id",
    "started_at",
    "finished_at",
    "outcome",
    "confirmed_by",
    "conversation_id",
    "conversation_title",
    "team",
    "opportunity_id",
    "api_milliseconds",
    "field_key",
    "field_title",
    "ai_value",
    "sent_value",
    "edited",
    "excluded",
]

# A cell starting with one of these is a formula (or a field separator, or a line break)
# to Excel, LibreOffice or Sheets; the full-width forms are read as their ASCII twins.
_UNSAFE_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")
_UNSAFE_STARTS_FULL_WIDTH = ("\uff1d", "\uff0b", "\uff0d", "\uff20")  # = + - @
# Spreadsheets skip these before looking for a formula, so the check does too.
_LEADING_SPACES = " \u00a0\u3000"
# A plain number, negative or not, is never a formula and must stay a number.
_PLAIN_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def spreadsheet_safe(value: Any) -> str:
    """Text a spreadsheet shows as text: a cell that could start a formula, even after
    leading spaces, gets a leading apostrophe; a plain number is left as it is."""
    text = "" if value is None else str(value)
    if _PLAIN_NUMBER.fullmatch(text):
        return text
    if text.lstrip(_LEADING_SPACES).startswith(_UNSAFE_STARTS + _UNSAFE_STARTS_FULL_WIDTH):
        return "'" + text
    return text


def spreadsheet_value(value: Any) -> int | float | str:
    """An item's JSON value as a cell: a number as a number, anything else as safe text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return spreadsheet_safe(value_as_text(value))


# Rows are written to the response in batches: one socket write per row costs more than
# the row itself (measured in docs/benchmarks.md), and a batch of this size stays small.
ROWS_PER_WRITE = 500
# The text cells repeat (a title, a team, a person, a key per attempt), so each distinct
# text is made safe once per export; bounded, so an export's memory stays flat.
_SAFE_TEXT_CACHE = 4096


def audit_csv_rows(attempt_ids_query: Any, items_query: Any) -> Iterator[str]:
    """CSV lines for every item of the given attempts, fetched in chunks and written in
    batches of `ROWS_PER_WRITE` rows.

    The first line starts with a byte-order mark: without it Excel on Windows reads the
    UTF-8 as its local code page and garbles every accented name.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    yield "\ufeff" + _drain(buffer)
    rows = (
        items_query.filter(attempt__in=attempt_ids_query)
        .order_by("-attempt__started_at", "-attempt_id", "id")
        # The two values as their JSON text: most are plain strings, read without a
        # JSON parser (`_json_cell`); the ORM would parse every one.
        .annotate(
            ai_value_json=Cast("ai_value", TextField()),
            sent_value_json=Cast("sent_value", TextField()),
        )
        .values_list(
            "attempt_id",
            "attempt__started_at",
            "attempt__finished_at",
            "attempt__outcome",
            "attempt__user__first_name",
            "attempt__user__last_name",
            "attempt__user__username",
            "attempt__conversation__attention_id",
            "attempt__conversation__title",
            "attempt__conversation__team__name",
            "attempt__opportunity_id",
            "attempt__api_milliseconds",
            "key",
            "title",
            "ai_value_json",
            "sent_value_json",
            "is_edited",
            "is_excluded",
        )
    )
    safe = functools.lru_cache(maxsize=_SAFE_TEXT_CACHE)(spreadsheet_safe)
    attempt_cells: list[Any] = []
    last_attempt = None
    batch: list[list[Any]] = []
    for row in rows.iterator(chunk_size=5000):
        attempt_id = row[0]
        if attempt_id != last_attempt:
            # The attempt's cells, the same on each of its items.
            started, finished, outcome, first_name, last_name, username = row[1:7]
            conversation_id, title, team, opportunity_id, api_ms = row[7:12]
            attempt_cells = [
                attempt_id,
                started.isoformat() if started else "",
                finished.isoformat() if finished else "",
                outcome,
                safe(person_name(first_name, last_name, username)),
                safe(conversation_id),
                safe(title),
                safe(team),
                safe(opportunity_id),
                "" if api_ms is None else api_ms,
            ]
            last_attempt = attempt_id
        key, field_title, ai_value, sent_value, edited, excluded = row[12:]
        batch.append(
            [
                *attempt_cells,
                safe(key),
                safe(field_title),
                _json_cell(ai_value, safe),
                "" if excluded else _json_cell(sent_value, safe),
                "yes" if edited else "no",
                "yes" if excluded else "no",
            ]
        )
        if len(batch) >= ROWS_PER_WRITE:
            writer.writerows(batch)
            batch.clear()
            yield _drain(buffer)
    writer.writerows(batch)
    if tail := _drain(buffer):
        yield tail


def _json_cell(text: str | None, safe: Callable[[Any], str]) -> int | float | str:
    """`spreadsheet_value` of a value given as its JSON text. A string without escapes
    is its text between the quotes (made safe through the export's cache); anything
    else is parsed."""
    if text is None:
        return ""
    if text.startswith('"') and "\\" not in text:
        return safe(text[1:-1])
    value = json.loads(text)
    if type(value) is str:
        return safe(value)
    return spreadsheet_value(value)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
