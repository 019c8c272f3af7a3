"""The audit ledger as CSV, streamed row by row and safe to open in a spreadsheet."""

import csv
from collections.abc import Iterator
from typing import Any

from .forms import value_as_text

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

# A cell starting with one of these is a formula to Excel, LibreOffice and Sheets.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


def spreadsheet_safe(value: Any) -> str:
    """Text a spreadsheet shows as text: a leading formula trigger is quoted away."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_TRIGGERS):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def audit_csv_rows(attempt_ids_query: Any, items_query: Any) -> Iterator[str]:
    """CSV lines for every item of the given attempts, fetched in chunks."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    rows = (
        items_query.filter(attempt__in=attempt_ids_query)
        .order_by("-attempt__started_at", "-attempt_id", "id")
        .values_list(
            "attempt_id",
            "attempt__started_at",
            "attempt__finished_at",
            "attempt__outcome",
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
        (attempt_id, started, finished, outcome, username, conversation_id, title, team) = row[:8]
        opportunity_id, api_ms, key, field_title, ai_value, sent_value, edited, excluded = row[8:]
        yield writer.writerow(
            [
                attempt_id,
                started.isoformat() if started else "",
                finished.isoformat() if finished else "",
                outcome,
                spreadsheet_safe(username),
                spreadsheet_safe(conversation_id),
                spreadsheet_safe(title),
                spreadsheet_safe(team),
                spreadsheet_safe(opportunity_id),
                "" if api_ms is None else api_ms,
                spreadsheet_safe(key),
                spreadsheet_safe(field_title),
                spreadsheet_safe(value_as_text(ai_value)),
                "" if excluded else spreadsheet_safe(value_as_text(sent_value)),
                "yes" if edited else "no",
                "yes" if excluded else "no",
            ]
        )
