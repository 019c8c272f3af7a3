"""Fixtures several review test modules share (a module may define its own instead)."""

import pytest

from attention_review.reviews.models import Conversation


@pytest.fixture
def conversation(synced, rep):
    """The rep's latest call awaiting review with three items or more to review."""
    return (
        Conversation.objects.filter(owner=rep, awaiting_review=True, items_to_review__gte=3)
        .order_by("-started_at")
        .first()
    )


@pytest.fixture
def text_item(conversation):
    """The call's first item whose value is free text (no options to choose from)."""
    return next(
        item
        for item in conversation.items.filter(refreshing=False).order_by("position", "pk")
        if isinstance(item.ai_value, str) and not item.options
    )
