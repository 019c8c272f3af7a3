"""The audit ledger: confirmation attempts a manager may see, filtered, with a per-rep
summary and confirmations per day."""

import statistics
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db.models import Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..models import ConfirmationAttempt, ConfirmedItem, Conversation, Team
from .access import REPS_GROUP, AnyUser, user_role, visibility, visibility_parts


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


def item_changed(item: ConfirmedItem) -> bool:
    """The audit's "changed": excluded, or the value sent differs from the AI's proposal
    (an edit, or a CRM value kept instead). JSON true is not the number 1 here."""
    if item.is_excluded:
        return True
    sent, proposed = item.sent_value, item.ai_value
    if isinstance(sent, bool) or isinstance(proposed, bool):
        return type(sent) is not type(proposed) or sent != proposed
    return bool(sent != proposed)


@dataclass(frozen=True)
class LedgerEntry:
    """One attempt as the ledger shows it: its changed items, or all of them on request."""

    attempt: ConfirmationAttempt
    items: list[ConfirmedItem]
    item_count: int
    changed_count: int
    shows_all: bool
    # The query string that flips this entry between changed items and all of them.
    toggle_query: str = ""

    @property
    def wrote_nothing(self) -> bool:
        """A failed attempt wrote nothing to the CRM: it has no "value sent"."""
        return self.attempt.outcome == ConfirmationAttempt.Outcome.FAILED

    @property
    def has_hidden_items(self) -> bool:
        return self.item_count > len(self.items)

    def with_toggle_query(self, query: str) -> "LedgerEntry":
        return replace(self, toggle_query=query)


def audit_ledger_page(
    user: AnyUser,
    filters: AuditFilters,
    *,
    offset: int,
    limit: int,
    expanded: frozenset[int] = frozenset(),
) -> list[LedgerEntry]:
    """One page of the ledger, with each attempt's (filtered) items, in two queries.

    Each attempt lists its changed items only, unless its id is in `expanded`; the
    comparison runs here, on the items already read, so it reads JSON values alike on
    every database.
    """
    attempts = (
        audit_attempts(user, filters)
        .select_related("conversation", "conversation__team", "user")
        .defer("request_body", "response_body", "conversation__raw")
        .prefetch_related(Prefetch("items", queryset=audit_items(filters)))
    )
    entries = []
    for attempt in attempts[offset : offset + limit]:
        items = list(attempt.items.all())
        changed = [item for item in items if item_changed(item)]
        shows_all = attempt.pk in expanded
        entries.append(
            LedgerEntry(
                attempt=attempt,
                items=items if shows_all else changed,
                item_count=len(items),
                changed_count=len(changed),
                shows_all=shows_all,
            )
        )
    return entries


def audit_reps(user: AnyUser) -> list[tuple[int, str]]:
    """(id, name) of who may appear in the rep filter, in one query, cached per user
    like the field menu (a new rep appears within FIELD_CHOICES_CACHE_SECONDS).

    A manager of teams sees only the people of those teams: who owns, or confirmed, a
    call of one of them. Anyone who sees everything sees every rep and anyone who
    confirmed.
    """
    cache_key = f"audit-reps:{user.pk}"
    cached: list[tuple[int, str]] | None = cache.get(cache_key)
    if cached is not None:
        return cached
    user_model = get_user_model()
    parts = visibility_parts(user)
    if parts is None:
        confirmed = ConfirmationAttempt.objects.filter(user=OuterRef("pk"))
        in_reps = Group.objects.filter(user=OuterRef("pk"), name=REPS_GROUP)
        people = user_model.objects.filter(Q(Exists(in_reps)) | Q(Exists(confirmed)))
    else:
        # One EXISTS per part of what the user may see: each is an index lookup by owner
        # (`conversation_owner_team`), where one EXISTS over their OR scanned the table
        # once per person (200 ms at 100,000 calls, docs/benchmarks.md).
        found = [
            Exists(Conversation.objects.filter(part, owner=OuterRef("pk"))) for part in parts
        ] + [
            Exists(ConfirmationAttempt.objects.filter(part, user=OuterRef("pk")))
            for part in visibility_parts(user, prefix="conversation__") or []
        ]
        anyone = Q(pk__in=[])
        for exists in found:
            anyone |= Q(exists)
        people = user_model.objects.filter(anyone)
    rows = people.order_by("first_name", "last_name", "username").values_list(
        "pk", "first_name", "last_name", "username"
    )
    reps = [(pk, person_name(first, last, username)) for pk, first, last, username in rows]
    cache.set(cache_key, reps, FIELD_CHOICES_CACHE_SECONDS)
    return reps


def person_name(first_name: str, last_name: str, username: str) -> str:
    """A person as the audit names them: full name, or the username when there is none."""
    return f"{first_name} {last_name}".strip() or username


def audit_teams(user: AnyUser) -> list[tuple[int, str]]:
    """(id, name) of the teams in the team filter: the manager's own, or all."""
    teams = Team.objects.order_by("name")
    if visibility(user) is not None:
        teams = teams.filter(pk__in=user_role(user).managed_team_ids)
    return [
        (pk, name or uuid) for pk, name, uuid in teams.values_list("pk", "name", "attention_uuid")
    ]


FIELD_CHOICES_CACHE_SECONDS = 300


def audit_fields(user: AnyUser) -> list[tuple[str, str]]:
    """(key, title) of every field confirmed on a call the user may see, for the field
    filter, by title: the latest non-empty title seen for each key (the key itself when
    none was ever given). One query, cached per scope: it changes rarely."""
    condition = visibility(user, prefix="attempt__conversation__")
    scope = "all" if condition is None else ",".join(map(str, user_role(user).managed_team_ids))
    cache_key = f"audit-fields:{scope}"
    fields: list[tuple[str, str]] | None = cache.get(cache_key)
    if fields is None:
        items = ConfirmedItem.objects.all()
        if condition is not None:
            items = items.filter(condition)
        latest_per_key = (
            items.order_by()
            .values("key")
            .annotate(latest=Coalesce(Max("pk", filter=~Q(title="")), Max("pk")))
            .values("latest")
        )
        rows = ConfirmedItem.objects.filter(pk__in=latest_per_key).values_list("key", "title")
        fields = sorted(
            ((key, title or key) for key, title in rows),
            key=lambda field: (field[1].casefold(), field[0]),
        )
        cache.set(cache_key, fields, FIELD_CHOICES_CACHE_SECONDS)
    return fields


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
