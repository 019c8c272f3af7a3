"""The audit ledger: confirmation attempts a manager may see, filtered, with a per-rep
summary and confirmations per day."""

import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from ..models import ConfirmationAttempt, ConfirmedItem, Team
from .access import REPS_GROUP, AnyUser, user_role, visibility


@dataclass(frozen=True)
class AuditFilters:
    rep_id: int | None = None
    team_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    field: str = ""
    only_edited: bool = False
    outcome: str = ""

    @classmethod
    def from_form(cls, cleaned: dict[str, Any]) -> "AuditFilters":
        return cls(
            rep_id=cleaned.get("rep"),
            team_id=cleaned.get("team"),
            date_from=cleaned.get("date_from"),
            date_to=cleaned.get("date_to"),
            field=cleaned.get("field") or "",
            only_edited=bool(cleaned.get("only_edited")),
            outcome=cleaned.get("outcome") or "",
        )


def _day_bounds(day: date, *, end: bool = False) -> datetime:
    moment = datetime.combine(day + timedelta(days=1) if end else day, time.min)
    return timezone.make_aware(moment)


def audit_attempts(user: AnyUser, filters: AuditFilters) -> QuerySet[ConfirmationAttempt]:
    """Confirmation attempts the user may audit, filtered, newest first."""
    attempts = ConfirmationAttempt.objects.all()
    condition = visibility(user, prefix="conversation__")
    if condition is not None:
        attempts = attempts.filter(condition)
    if filters.rep_id:
        attempts = attempts.filter(user_id=filters.rep_id)
    if filters.team_id:
        attempts = attempts.filter(conversation__team_id=filters.team_id)
    if filters.date_from:
        attempts = attempts.filter(started_at__gte=_day_bounds(filters.date_from))
    if filters.date_to:
        attempts = attempts.filter(started_at__lt=_day_bounds(filters.date_to, end=True))
    if filters.outcome:
        attempts = attempts.filter(outcome=filters.outcome)
    if filters.field or filters.only_edited:
        matching = ConfirmedItem.objects.filter(attempt=OuterRef("pk"))
        if filters.field:
            matching = matching.filter(key=filters.field)
        if filters.only_edited:
            matching = matching.filter(is_edited=True)
        attempts = attempts.filter(Exists(matching))
    return attempts.order_by("-started_at", "-id")


def audit_items(filters: AuditFilters) -> QuerySet[ConfirmedItem]:
    """The items of an attempt the ledger shows under the same filters."""
    items = ConfirmedItem.objects.order_by("id")
    if filters.field:
        items = items.filter(key=filters.field)
    if filters.only_edited:
        items = items.filter(is_edited=True)
    return items


def audit_ledger_page(user: AnyUser, filters: AuditFilters, *, offset: int, limit: int) -> list:
    """One page of the ledger, with each attempt's (filtered) items, in two queries."""
    attempts = (
        audit_attempts(user, filters)
        .select_related("conversation", "conversation__team", "user")
        .defer("request_body", "response_body", "conversation__raw")
        .prefetch_related(Prefetch("items", queryset=audit_items(filters)))
    )
    return list(attempts[offset : offset + limit])


def audit_reps(user: AnyUser) -> list[tuple[int, str]]:
    """(id, name) of who may appear in the rep filter: reps, and anyone who confirmed."""
    user_model = get_user_model()
    confirmed = ConfirmationAttempt.objects.filter(user=OuterRef("pk"))
    in_reps = Group.objects.filter(user=OuterRef("pk"), name=REPS_GROUP)
    people = (
        user_model.objects.filter(Q(Exists(in_reps)) | Q(Exists(confirmed)))
        .order_by("first_name", "last_name", "username")
        .values_list("pk", "first_name", "last_name", "username")
    )
    return [(pk, f"{first} {last}".strip() or username) for pk, first, last, username in people]


def audit_teams(user: AnyUser) -> list[tuple[int, str]]:
    """(id, name) of the teams in the team filter: the manager's own, or all."""
    teams = Team.objects.order_by("name")
    if visibility(user) is not None:
        teams = teams.filter(pk__in=user_role(user).managed_team_ids)
    return [
        (pk, name or uuid) for pk, name, uuid in teams.values_list("pk", "name", "attention_uuid")
    ]


def audit_field_keys() -> list[str]:
    """Every field key ever confirmed, for the field filter (cached: it changes rarely)."""
    keys = cache.get("audit-field-keys")
    if keys is None:
        keys = sorted(set(ConfirmedItem.objects.values_list("key", flat=True).distinct()))
        cache.set("audit-field-keys", keys, 300)
    return keys


QUICK_APPROVAL_SECONDS = 30


@dataclass(frozen=True)
class RepSummary:
    user_id: int
    name: str
    confirmations: int
    items_confirmed: int
    items_edited: int
    median_seconds: float | None
    quick_approvals: int

    @property
    def share_edited(self) -> float:
        return self.items_edited / self.items_confirmed if self.items_confirmed else 0.0


@dataclass(frozen=True)
class DayCount:
    day: date
    count: int


def audit_summary(
    user: AnyUser, filters: AuditFilters, *, names: dict[int, str]
) -> tuple[list[RepSummary], list[DayCount]]:
    """Per-rep figures and confirmations per day over the filtered, confirmed attempts.

    One query: the few columns needed, aggregated here so the median (which SQLite
    lacks) and the quick approvals share the pass.
    """
    confirmed = audit_attempts(user, filters).filter(outcome=ConfirmationAttempt.Outcome.SUCCEEDED)
    rows = confirmed.values_list(
        "user_id", "items_sent", "items_edited", "items_excluded", "review_opened_at", "finished_at"
    ).order_by()
    per_rep: dict[int, dict[str, Any]] = {}
    per_day: dict[date, int] = {}
    for user_id, sent, edited, excluded, opened_at, finished_at in rows.iterator(chunk_size=2000):
        figures = per_rep.setdefault(
            user_id, {"confirmations": 0, "items": 0, "edited": 0, "seconds": [], "quick": 0}
        )
        figures["confirmations"] += 1
        figures["items"] += sent
        figures["edited"] += edited
        if opened_at and finished_at:
            seconds = (finished_at - opened_at).total_seconds()
            figures["seconds"].append(seconds)
            if not edited and not excluded and seconds < QUICK_APPROVAL_SECONDS:
                figures["quick"] += 1
        if finished_at:
            day = timezone.localdate(finished_at)
            per_day[day] = per_day.get(day, 0) + 1
    summaries = [
        RepSummary(
            user_id=user_id,
            name=names.get(user_id, f"User {user_id}"),
            confirmations=figures["confirmations"],
            items_confirmed=figures["items"],
            items_edited=figures["edited"],
            median_seconds=statistics.median(figures["seconds"]) if figures["seconds"] else None,
            quick_approvals=figures["quick"],
        )
        for user_id, figures in per_rep.items()
    ]
    summaries.sort(key=lambda summary: (-summary.confirmations, summary.name))
    days = _day_series(per_day, filters)
    return summaries, days


def _day_series(per_day: dict[date, int], filters: AuditFilters) -> list[DayCount]:
    """Every day of the period, zeros included, so the chart's gaps are real."""
    if not per_day and not (filters.date_from and filters.date_to):
        return []
    first = filters.date_from or min(per_day)
    last = filters.date_to or max(per_day, default=timezone.localdate())
    if (last - first).days > 366:
        first = last - timedelta(days=366)
    return [
        DayCount(day, per_day.get(day, 0))
        for day in (first + timedelta(days=n) for n in range((last - first).days + 1))
    ]
