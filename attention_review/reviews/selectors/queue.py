"""The review queue and the sync panel beside it."""

from django.db.models import QuerySet

from ..models import Conversation, SyncRun
from .access import AnyUser, conversations_visible_to

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
    return SyncRun.objects.filter(kind=SyncRun.Kind.SYNC).order_by("-started_at", "-id").first()


def next_in_queue(user: AnyUser, *, after: Conversation) -> Conversation | None:
    """The next conversation awaiting this user's review, for 'review the next one'."""
    return review_queue(user).exclude(pk=after.pk).first()
