"""The audit ledger as CSV, streamed row by row and safe to open in a spreadsheet."""

import csv
import re
from collections.abc import Iterator
from typing import Any

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


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def audit_csv_rows(attempt_ids_query: Any, items_query: Any) -> Iterator[str]:
    """CSV lines for every item of the given attempts, fetched in chunks.

    The first line starts with a byte-order mark: without it Excel on Windows reads the
    UTF-8 as its local code page and garbles every accented name.
    """
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(CSV_HEADER)
    rows = (
        items_query.filter(attempt__in=attempt_ids_query)
        .order_by("-attempt__started_at", "-attempt_id", "id")
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
            "ai_value",
            "sent_value",
            "is_edited",
            "is_excluded",
        )
    )
    for row in rows.iterator(chunk_size=2000):
        attempt_id, started, finished, outcome, first_name, last_name, username = row[:7]
        conversation_id, title, team, opportunity_id, api_ms, key, field_title = row[7:14]
        ai_value, sent_value, edited, excluded = row[14:]
        yield writer.writerow(
            [
                attempt_id,
                started.isoformat() if started else "",
                finished.isoformat() if finished else "",
                outcome,
                spreadsheet_safe(person_name(first_name, last_name, username)),
                spreadsheet_safe(conversation_id),
                spreadsheet_safe(title),
                spreadsheet_safe(team),
                spreadsheet_safe(opportunity_id),
                "" if api_ms is None else api_ms,
                spreadsheet_safe(key),
                spreadsheet_safe(field_title),
                spreadsheet_value(ai_value),
                "" if excluded else spreadsheet_value(sent_value),
                "yes" if edited else "no",
                "yes" if excluded else "no",
            ]
        )
