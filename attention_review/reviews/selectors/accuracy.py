"""Field accuracy: how often reviewers take the AI's value for each field as proposed,
edit it or leave it out, why, and how that moves week by week.

Read from the items of successful confirmations (`ConfirmedItem`, which keeps what the
AI proposed, what was sent and the reviewer's reason), scoped to what the manager may
see. Every figure is aggregated in SQL, grouped by field or by week: the page makes the
same few queries however many items were confirmed.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Max, Q, QuerySet
from django.db.models.expressions import F, Window
from django.db.models.functions import RowNumber, TruncWeek
from django.utils import timezone

from ..models import ChangeReason, ConfirmationAttempt, ConfirmedItem
from .access import AnyUser, visibility

# How many AI → sent pairs each field shows, most frequent first.
TYPICAL_EDITS_PER_FIELD = 3
# How many of the worst fields the page's sentence names.
WORST_FIELDS_NAMED = 3

EDITED = Q(is_edited=True, is_excluded=False)
EXCLUDED = Q(is_excluded=True)
ACCEPTED = Q(is_edited=False, is_excluded=False)


@dataclass(frozen=True)
class AccuracyFilters:
    date_from: date
    date_to: date
    team_id: int | None = None
    rep_id: int | None = None
    # One field's key: its figures and its own weekly trend.
    field: str = ""

    def query_for_field(self, key: str) -> str:
        """The query string of the same view narrowed to one field."""
        params: dict[str, Any] = {
            "date_from": self.date_from,
            "date_to": self.date_to,
            "team": self.team_id or "",
            "rep": self.rep_id or "",
            "field": key,
        }
        return urlencode(params)


@dataclass(frozen=True)
class ReasonCount:
    reason: str
    label: str
    count: int


@dataclass(frozen=True)
class TypicalEdit:
    ai_value: Any
    sent_value: Any
    count: int


@dataclass
class FieldAccuracy:
    """One field's figures over the selection."""

    key: str
    title: str
    total: int
    accepted: int
    edited: int
    excluded: int
    reasons: list[ReasonCount] = field(default_factory=list)
    typical_edits: list[TypicalEdit] = field(default_factory=list)
    # The same view narrowed to this field (its own trend), as a query string.
    query: str = ""

    @property
    def changed(self) -> int:
        return self.edited + self.excluded

    @property
    def share_accepted(self) -> float:
        return self.accepted / self.total if self.total else 0.0

    @property
    def share_edited(self) -> float:
        return self.edited / self.total if self.total else 0.0

    @property
    def share_excluded(self) -> float:
        return self.excluded / self.total if self.total else 0.0

    @property
    def share_changed(self) -> float:
        return self.changed / self.total if self.total else 0.0

    @property
    def reasons_given(self) -> int:
        return sum(reason.count for reason in self.reasons)


@dataclass(frozen=True)
class WeekShare:
    """One week (starting Monday) of the trend: items confirmed, and how many changed."""

    week: date
    total: int
    edited: int
    excluded: int

    @property
    def share_changed(self) -> float:
        return (self.edited + self.excluded) / self.total if self.total else 0.0


@dataclass(frozen=True)
class FieldAccuracyReport:
    fields: list[FieldAccuracy]
    weeks: list[WeekShare]
    all_fields_query: str = ""

    @property
    def total(self) -> int:
        return sum(row.total for row in self.fields)

    @property
    def worst(self) -> list[FieldAccuracy]:
        """The fields most often changed, for the page's sentence."""
        return [row for row in self.fields if row.changed][:WORST_FIELDS_NAMED]


def _moment(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def accuracy_items(user: AnyUser, filters: AccuracyFilters) -> QuerySet[ConfirmedItem]:
    """The confirmed items the figures count: of successful attempts finished in the
    period, on calls the user may see, of the team and rep chosen."""
    items = ConfirmedItem.objects.filter(
        attempt__outcome=ConfirmationAttempt.Outcome.SUCCEEDED,
        attempt__finished_at__gte=_moment(filters.date_from),
        attempt__finished_at__lt=_moment(filters.date_to + timedelta(days=1)),
    )
    condition = visibility(user, prefix="attempt__conversation__")
    if condition is not None:
        items = items.filter(condition)
    if filters.team_id:
        items = items.filter(attempt__conversation__team_id=filters.team_id)
    if filters.rep_id:
        items = items.filter(attempt__user_id=filters.rep_id)
    if filters.field:
        items = items.filter(key=filters.field)
    return items.order_by()


def field_accuracy(user: AnyUser, filters: AccuracyFilters) -> FieldAccuracyReport:
    """Per field: shares accepted, edited and excluded, the reasons given and the typical
    edits, worst first; and the weekly share changed. Five queries, whatever the rows."""
    items = accuracy_items(user, filters)
    per_field = list(
        items.values("key").annotate(
            total=Count("pk"),
            accepted=Count("pk", filter=ACCEPTED),
            edited=Count("pk", filter=EDITED),
            excluded=Count("pk", filter=EXCLUDED),
            # The field reads by its latest title: the definition may have been renamed.
            latest=Max("pk", filter=~Q(title="")),
        )
    )
    titles = dict(
        ConfirmedItem.objects.filter(pk__in=[row["latest"] for row in per_field if row["latest"]])
        .order_by()
        .values_list("key", "title")
    )
    fields = {
        row["key"]: FieldAccuracy(
            key=row["key"],
            title=titles.get(row["key"]) or row["key"],
            total=row["total"],
            accepted=row["accepted"],
            edited=row["edited"],
            excluded=row["excluded"],
            query=filters.query_for_field(row["key"]),
        )
        for row in per_field
    }
    if not fields:
        return FieldAccuracyReport(fields=[], weeks=_weeks(items, filters))

    labels = dict(ChangeReason.choices)
    reasons = (
        items.exclude(change_reason="")
        .values("key", "change_reason")
        .annotate(count=Count("pk"))
        .order_by("key", "-count", "change_reason")
    )
    for reason in reasons:
        fields[reason["key"]].reasons.append(
            ReasonCount(
                reason["change_reason"], str(labels.get(reason["change_reason"])), reason["count"]
            )
        )

    # The most frequent AI → sent pairs of each field, ranked in SQL so only the few
    # shown are read, however many edits there were.
    pairs = (
        items.filter(EDITED)
        .values("key", "ai_value", "sent_value")
        .annotate(count=Count("pk"), latest_pair=Max("pk"))
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("key")],
                order_by=[F("count").desc(), F("latest_pair").desc()],
            ),
        )
        .filter(rank__lte=TYPICAL_EDITS_PER_FIELD)
        .order_by("key", "rank")
    )
    for pair in pairs:
        fields[pair["key"]].typical_edits.append(
            TypicalEdit(pair["ai_value"], pair["sent_value"], pair["count"])
        )

    ranked = sorted(
        fields.values(), key=lambda row: (-row.share_changed, -row.total, row.title.casefold())
    )
    return FieldAccuracyReport(
        fields=ranked, weeks=_weeks(items, filters), all_fields_query=filters.query_for_field("")
    )


def _weeks(items: QuerySet[ConfirmedItem], filters: AccuracyFilters) -> list[WeekShare]:
    """Every week of the period, empty ones included, so the chart's gaps are real."""
    rows = (
        items.annotate(week=TruncWeek("attempt__finished_at"))
        .values("week")
        .annotate(
            total=Count("pk"),
            edited=Count("pk", filter=EDITED),
            excluded=Count("pk", filter=EXCLUDED),
        )
        .order_by("week")
    )
    # Weeks start on Monday in the app's time zone (TruncWeek truncates in it).
    counted: dict[date, tuple[int, int, int]] = {
        _as_date(row["week"]): (row["total"], row["edited"], row["excluded"]) for row in rows
    }
    weeks = []
    monday = filters.date_from - timedelta(days=filters.date_from.weekday())
    while monday <= filters.date_to:
        total, edited, excluded = counted.get(monday, (0, 0, 0))
        weeks.append(WeekShare(week=monday, total=total, edited=edited, excluded=excluded))
        monday += timedelta(days=7)
    return weeks


def _as_date(moment: datetime | date) -> date:
    return timezone.localdate(moment) if isinstance(moment, datetime) else moment
