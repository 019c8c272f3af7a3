"""Cheap pagination for big tables: no COUNT(*) over everything a user may see.

A page fetches one row more than it shows to know whether another page follows, and
the total shown above the list is counted only up to a cap ("1,000+"): both cost work
in proportion to the page, not to the table.
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet


@dataclass(frozen=True)
class Page:
    object_list: list[Any]
    number: int
    per_page: int
    has_next: bool
    count: int
    count_is_capped: bool

    def __iter__(self) -> Any:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1


def page_number_from(raw: str | None) -> int:
    """A page number from the query string; anything odd is page 1."""
    try:
        return max(1, min(int(raw or 1), 10_000))
    except ValueError:
        return 1


def paginate(queryset: QuerySet, *, number: int, per_page: int, count_cap: int = 1000) -> Page:
    offset = (number - 1) * per_page
    rows = list(queryset[offset : offset + per_page + 1])
    has_next = len(rows) > per_page
    rows = rows[:per_page]
    if number == 1 and not has_next:
        count, capped = len(rows), False
    else:
        # Only the ids are counted: a row's annotations (a marker per row, say) would
        # otherwise be computed for every row up to the cap.
        count = queryset.order_by().values("pk")[: count_cap + 1].count()
        capped = count > count_cap
        count = min(count, count_cap)
    return Page(rows, number, per_page, has_next, count, capped)
