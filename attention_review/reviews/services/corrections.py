"""What admins do to put things right: re-read a conversation, return one to the queue."""

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from attention_review.attention.client import AttentionClient

from ..models import Conversation
from .sync import conversation_store


def conversation_refresh(*, attention_id: str, client: AttentionClient) -> Conversation:
    """Re-read one conversation from Attention (drafts are kept, as in a sync)."""
    return conversation_store(resource=client.get_conversation(attention_id))


def conversations_return_to_queue(
    *, conversation_ids: Iterable[int], reason: str = "", returned_by: User | None = None
) -> int:
    """Put conversations back in the review queue: every item asks for review again.

    With a `reason` (an admin's), the rep reads it on the review page, with who returned
    the call and when, until the call is confirmed again.
    """
    returned = (
        {"return_reason": reason, "returned_by": returned_by, "returned_at": timezone.now()}
        if reason
        else {}
    )
    with transaction.atomic():
        conversations = list(
            Conversation.objects.select_for_update().filter(pk__in=conversation_ids)
        )
        for conversation in conversations:
            items = conversation.items.filter(refreshing=False, withdrawn=False)
            items.update(needs_review=True, is_decided=False, decided_ai_value=None)
            count = items.count()
            Conversation.objects.filter(pk=conversation.pk).update(
                items_to_review=count,
                awaiting_review=count > 0 and not conversation.is_hidden_from_queue,
                force_review=True,
                **returned,
            )
    return len(conversations)
