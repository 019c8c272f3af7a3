"""Every non-trivial read, already scoped to what the user may see."""

import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group
from django.core.cache import cache
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Value
from django.http import Http404
from django.utils import timezone
from pydantic import ValidationError

from attention_review.attention import schemas

from .models import (
    ConfirmationAttempt,
    ConfirmedItem,
    Conversation,
    IntelligenceItem,
    SyncRun,
    Team,
)

MANAGERS_GROUP = "Managers"
REPS_GROUP = "Reps"

# The queue's rows need only these columns; the raw payload stays in the database.
_QUEUE_FIELDS = (
    "id",
    "title",
    "started_at",
    "duration_seconds",
    "participant_count",
    "items_to_review",
    "owner__first_name",
    "owner__last_name",
    "owner__username",
)

type AnyUser = AbstractBaseUser | AnonymousUser


@dataclass(frozen=True)
class Role:
    """What the user may see, read once per request."""

    is_manager: bool
    managed_team_ids: tuple[int, ...]


ROLE_CACHE_SECONDS = 30


def role_cache_key(user_id: int) -> str:
    return f"review-role:{user_id}"


def user_role(user: AnyUser) -> Role:
    """The user's role, in one query (group membership and managed teams together).

    It is read on every page, so it is kept in the cache for a short while; a change of
    groups or teams clears it (signals.py), and the timeout bounds what a per-process
    cache could miss. Within a request it is remembered on the user object.
    """
    cached = getattr(user, "_review_role", None)
    if cached is not None:
        return cached
    if not user.is_authenticated:
        role = Role(is_manager=False, managed_team_ids=())
    elif (stored := cache.get(role_cache_key(user.pk))) is not None:
        role = Role(is_manager=stored[0], managed_team_ids=tuple(stored[1]))
    else:
        in_managers = (
            Group.objects.filter(user=user.pk, name=MANAGERS_GROUP)
            .annotate(kind=Value("group"))
            .values_list("kind", "pk")
        )
        teams = (
            Team.managers.through.objects.filter(user_id=user.pk)
            .annotate(kind=Value("team"))
            .values_list("kind", "team_id")
        )
        rows = list(in_managers.union(teams, all=True))
        role = Role(
            is_manager=user.is_staff
            or user.is_superuser
            or any(kind == "group" for kind, _ in rows),
            managed_team_ids=tuple(sorted(pk for kind, pk in rows if kind == "team")),
        )
        cache.set(
            role_cache_key(user.pk),
            (role.is_manager, list(role.managed_team_ids)),
            ROLE_CACHE_SECONDS,
        )
    user._review_role = role
    return role


def user_is_manager(user: AnyUser) -> bool:
    """Managers and admins audit and may see beyond their own conversations."""
    if not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return user_role(user).is_manager


def visibility(user: AnyUser, prefix: str = "") -> Q | None:
    """The condition on conversations (reached through `prefix`) that `user` may see.

    None means everything; admins see all, managers their teams' conversations (all
    when no team is set for them), reps their own, anyone else nothing.
    """
    if not user.is_authenticated:
        return Q(pk__in=[])
    if user.is_staff or user.is_superuser:
        return None
    role = user_role(user)
    if role.is_manager:
        if not role.managed_team_ids:
            return None
        return Q(**{f"{prefix}team_id__in": role.managed_team_ids})
    return Q(**{f"{prefix}owner": user})


def conversations_visible_to(user: AnyUser) -> QuerySet[Conversation]:
    """Conversations the user may see (see `visibility`)."""
    condition = visibility(user)
    conversations = Conversation.objects.all()
    return conversations if condition is None else conversations.filter(condition)


def review_queue(user: AnyUser) -> QuerySet[Conversation]:
    """Conversations awaiting review that the user may see, newest first."""
    return (
        conversations_visible_to(user)
        .filter(awaiting_review=True)
        .select_related("owner")
        .only(*_QUEUE_FIELDS)
        .order_by("-started_at", "-id")
    )


def latest_sync() -> SyncRun | None:
    return SyncRun.objects.order_by("-started_at", "-id").first()


def get_conversation_for_user(user: AnyUser, pk: int) -> Conversation:
    """The conversation if the user may see it; otherwise 404, never a hint it exists."""
    try:
        return conversations_visible_to(user).select_related("owner", "team").get(pk=pk)
    except Conversation.DoesNotExist:
        raise Http404("No such conversation") from None


def get_item_for_user(user: AnyUser, conversation_pk: int, item_pk: int) -> IntelligenceItem:
    """An item of a conversation the user may see, with its conversation, in one query;
    404 for any other pairing."""
    items = IntelligenceItem.objects.select_related(
        "conversation", "conversation__owner", "conversation__team"
    )
    condition = visibility(user, prefix="conversation__")
    if condition is not None:
        items = items.filter(condition)
    try:
        return items.get(pk=item_pk, conversation_id=conversation_pk)
    except IntelligenceItem.DoesNotExist:
        raise Http404("No such item") from None


CATEGORY_ORDER = {"CRM": 0, "Indicators": 1, "BuiltInInsight": 2, "CustomInsight": 3}
CATEGORY_LABELS = {
    "CRM": "CRM fields",
    "Indicators": "Indicators",
    "BuiltInInsight": "Built-in insights",
    "CustomInsight": "Custom insights",
}


@dataclass(frozen=True)
class ItemGroup:
    category: str
    label: str
    items: list[IntelligenceItem]


@dataclass(frozen=True)
class ReviewProgress:
    reviewed: int
    total: int
    included: int
    edited: int
    excluded: int
    refreshing: int


def review_items(conversation: Conversation) -> list[IntelligenceItem]:
    return list(conversation.items.order_by("position", "pk"))


def group_items(items: list[IntelligenceItem]) -> list[ItemGroup]:
    """Items grouped by category in a stable order: CRM first, then the others by name."""
    groups: dict[str, list[IntelligenceItem]] = {}
    for item in items:
        groups.setdefault(item.category or "Other", []).append(item)
    ordered = sorted(groups, key=lambda name: (CATEGORY_ORDER.get(name, 9), name))
    return [ItemGroup(name, CATEGORY_LABELS.get(name, name), groups[name]) for name in ordered]


def review_progress(items: list[IntelligenceItem]) -> ReviewProgress:
    confirmable = [item for item in items if not item.refreshing]
    return ReviewProgress(
        reviewed=sum(1 for item in confirmable if item.reviewed_at is not None),
        total=len(confirmable),
        included=sum(1 for item in confirmable if not item.is_excluded),
        edited=sum(1 for item in confirmable if item.is_edited and not item.is_excluded),
        excluded=sum(1 for item in confirmable if item.is_excluded),
        refreshing=len(items) - len(confirmable),
    )


def review_progress_for(conversation: Conversation) -> ReviewProgress:
    return review_progress(review_items(conversation))


def opportunity_choices(
    conversation: Conversation, details: schemas.Conversation | None = None
) -> list[tuple[str, str]]:
    """The opportunities a reviewer may confirm against: the default and the linked ones.

    `details` is the parsed resource when the caller has it already.
    """
    if details is None:
        details = conversation_details(conversation)
    choices: dict[str, str] = {}
    default = conversation.default_opportunity_id
    opportunity = details.attributes.external_opportunity if details else None
    if default:
        label = default
        if opportunity and opportunity.uuid == default and opportunity.title:
            label = f"{opportunity.title} ({default})"
        choices[default] = f"{label} (suggested)"
    if details:
        for record in details.attributes.linked_crm_records:
            if record.code.lower() == "opportunity" and record.id not in choices:
                choices[record.id] = record.id
    return list(choices.items())


def conversation_details(conversation: Conversation) -> schemas.Conversation | None:
    """The stored resource, parsed: what the header and the result panel show."""
    if not conversation.raw:
        return None
    try:
        return schemas.Conversation.model_validate(conversation.raw)
    except ValidationError:
        return None


def latest_attempt(conversation: Conversation) -> ConfirmationAttempt | None:
    return (
        conversation.confirmation_attempts.select_related("user")
        .order_by("-started_at", "-id")
        .first()
    )


def next_in_queue(user: AnyUser, *, after: Conversation) -> Conversation | None:
    """The next conversation awaiting this user's review, for 'review the next one'."""
    return review_queue(user).exclude(pk=after.pk).first()


# Audit --------------------------------------------------------------------------------


def user_may_audit(user: AnyUser) -> bool:
    return user_is_manager(user)


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
