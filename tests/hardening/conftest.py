"""Fixtures of the hardening tests (the helpers live in `helpers`)."""

import pytest

from attention_review.reviews.models import Conversation


@pytest.fixture
def conversation(synced, rep) -> Conversation:
    """The rep's newest conversation awaiting review with at least three items."""
    return (
        Conversation.objects.filter(owner=rep, awaiting_review=True, items_to_review__gte=3)
        .order_by("-started_at")
        .first()
    )
