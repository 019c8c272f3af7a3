"""The review queue (with its triage: search, filters, sort), the overdue figures per rep
and the sync panel beside it."""

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from ..deadlines import overdue_started_before
from ..models import Conversation, IntelligenceItem, SyncRun
from .access import AnyUser, conversations_visible_to

# The queue's rows need only these columns; the raw payload stays in the database.
_QUEUE_FIELDS = (
    "id",
    "title",
    "started_at",
    "duration_seconds",
    "participant_count",
    "items_to_review",
    "account_name",
    "external_opportunity_title",
    "owner__first_name",
    "owner__last_name",
    "owner__username",
)


def review_queue(user: AnyUser) -> QuerySet[Conversation]:
    """Conversations awaiting review that the user may see, newest first."""
    return (
        conversations_visible_to(user)
        .filter(awaiting_review=True)
        .select_related("owner")
        .only(*_QUEUE_FIELDS)
        .order_by("-started_at", "-id")
    )


class QueueSort(enum.StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    MOST_ITEMS = "items"


# Each sort ends on the id, so paging through equal values is stable.
_ORDERINGS: dict[QueueSort, tuple[str, ...]] = {
    QueueSort.NEWEST: ("-started_at", "-id"),
    QueueSort.OLDEST: ("started_at", "id"),
    QueueSort.MOST_ITEMS: ("-items_to_review", "-started_at", "-id"),
}


@dataclass(frozen=True)
class QueueFilters:
    """What the reviewer asked the queue for; empty values ask for nothing."""

    search: str = ""
    waiting_days: int | None = None
    has_my_draft: bool = False
    opportunity: str = ""
    sort: QueueSort = QueueSort.NEWEST

    @property
    def narrows(self) -> bool:
        """Whether they leave calls out (a sort alone shows the whole queue)."""
        return bool(self.search or self.waiting_days or self.has_my_draft or self.opportunity)


def _my_draft(user: AnyUser) -> Exists:
    """Whether the call has an item with text this user typed and has not saved yet."""
    return Exists(
        IntelligenceItem.objects.filter(conversation=OuterRef("pk"), draft_by=user.pk).exclude(
            draft_text=""
        )
    )


def triage_queue(user: AnyUser, filters: QueueFilters, *, now: datetime) -> QuerySet[Conversation]:
    """The queue as `filters` ask for it, each row marked `has_my_draft` in the same query.

    Every word of the search must be found in the title, the account or the people on the
    call (their names and emails, kept lower-cased in `people_text`).
    """
    rows = review_queue(user).annotate(has_my_draft=_my_draft(user))
    for word in filters.search.split():
        rows = rows.filter(
            Q(title__icontains=word)
            | Q(account_name__icontains=word)
            | Q(people_text__contains=word.lower())
        )
    if filters.waiting_days is not None:
        rows = rows.filter(started_at__lt=now - timedelta(days=filters.waiting_days))
    if filters.has_my_draft:
        rows = rows.filter(has_my_draft=True)
    if filters.opportunity:
        rows = rows.filter(
            Q(external_opportunity_title__icontains=filters.opportunity)
            | Q(external_opportunity_id=filters.opportunity)
        )
    return rows.order_by(*_ORDERINGS[filters.sort])


@dataclass(frozen=True)
class RepBacklog:
    """One rep's line in a manager's overdue summary."""

    name: str
    awaiting: int
    overdue: int


def overdue_by_rep(user: AnyUser, *, now: datetime) -> list[RepBacklog]:
    """Per rep whose calls the user may see: calls awaiting review and how many of them are
    overdue (`deadlines.is_overdue`), the most overdue first; one aggregate query."""
    overdue = Q(started_at__lt=overdue_started_before(now))
    rows = (
        conversations_visible_to(user)
        .filter(awaiting_review=True)
        .values("owner_id", "owner__first_name", "owner__last_name", "owner__username")
        .annotate(awaiting=Count("id"), overdue=Count("id", filter=overdue))
        .order_by("-overdue", "-awaiting", "owner__username")
    )
    return [
        RepBacklog(
            name=(
                " ".join(filter(None, [row["owner__first_name"], row["owner__last_name"]]))
                or row["owner__username"]
                # A call whose Attention user has no app account yet.
                or "No app account"
            ),
            awaiting=row["awaiting"],
            overdue=row["overdue"],
        )
        for row in rows
    ]


def latest_sync() -> SyncRun | None:
    return SyncRun.objects.filter(kind=SyncRun.Kind.SYNC).order_by("-started_at", "-id").first()


def next_in_queue(user: AnyUser, *, after: Conversation) -> Conversation | None:
    """The next conversation awaiting this user's review, for 'review the next one'."""
    return review_queue(user).exclude(pk=after.pk).first()
