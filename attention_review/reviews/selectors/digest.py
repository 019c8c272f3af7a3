"""Who gets the daily digest today, and which of their calls are overdue for review."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, Q

from ..deadlines import deadline_for, overdue_started_before
from ..models import Conversation, ReviewDigest


@dataclass(frozen=True)
class OverdueCall:
    conversation_id: int
    title: str
    started_at: datetime
    overdue_by: timedelta


@dataclass(frozen=True)
class ReviewerDigest:
    """One reviewer's overdue calls, the most overdue first."""

    user: User
    calls: list[OverdueCall]


def _overdue_calls(now: datetime, condition: Q) -> list[tuple[OverdueCall, int | None, int | None]]:
    """(call, owner id, assignee id) of each call awaiting review past its deadline."""
    rows = (
        Conversation.objects.filter(
            condition, awaiting_review=True, started_at__lt=overdue_started_before(now)
        )
        .order_by("started_at", "id")
        .values_list("pk", "title", "started_at", "owner_id", "assigned_to_id")
    )
    return [
        (OverdueCall(pk, title, started_at, now - deadline_for(started_at)), owner, assignee)
        for pk, title, started_at, owner, assignee in rows
    ]


def overdue_calls_for(user: User, *, now: datetime) -> list[OverdueCall]:
    """The calls awaiting this user's review past their deadline: the user's own calls
    and those a manager assigned to them."""
    return [call for call, _, _ in _overdue_calls(now, Q(owner=user) | Q(assigned_to=user))]


def digests_due(*, now: datetime, day: date) -> list[ReviewerDigest]:
    """Every reviewer who has an overdue call, an email address, and no digest yet on
    `day`, with their calls: two queries, whatever the number of reviewers."""
    calls_by_user: dict[int, list[OverdueCall]] = defaultdict(list)
    for call, owner_id, assignee_id in _overdue_calls(
        now, Q(owner__isnull=False) | Q(assigned_to__isnull=False)
    ):
        # A call assigned to its own owner is listed once.
        for user_id in dict.fromkeys((owner_id, assignee_id)):
            if user_id is not None:
                calls_by_user[user_id].append(call)
    if not calls_by_user:
        return []
    already_sent = ReviewDigest.objects.filter(user=OuterRef("pk"), sent_on=day)
    reviewers = (
        get_user_model()
        .objects.filter(pk__in=calls_by_user, is_active=True)
        .exclude(email="")
        .exclude(Exists(already_sent))
        .order_by("pk")
    )
    return [ReviewerDigest(user, calls_by_user[user.pk]) for user in reviewers]
