"""Signing off, as a rep does before confirming: the fields that need an explicit
decision (the admin's field settings; stage, amount, close date and forecast category
by default) are decided one by one through the page's own buttons."""

from django.test import Client
from django.urls import reverse

from attention_review.reviews.models import Conversation, FieldSetting, IntelligenceItem

HTMX = {"HX-Request": "true"}


def awaiting_sign_off(conversation: Conversation) -> list[IntelligenceItem]:
    """The conversation's explicit-field proposals that ask for review and have no
    decision made against the proposal as it is now."""
    explicit = set(
        FieldSetting.objects.filter(tier=FieldSetting.Tier.EXPLICIT).values_list("key", flat=True)
    )
    return [
        item
        for item in conversation.items.filter(key__in=explicit, needs_review=True)
        if item.is_confirmable and not item.decision_is_current
    ]


def sign_off(client: Client, conversation: Conversation) -> list[IntelligenceItem]:
    """Decide each field waiting for a sign-off the way a confirm would have sent it:
    "Keep CRM value" where the CRM holds one, else "Accept AI". What is sent stays as it
    was; only the decision is now the rep's own. Returns the items decided."""
    waiting = awaiting_sign_off(conversation)
    for item in waiting:
        response = client.post(
            reverse("reviews:item-choose", args=[conversation.pk, item.pk]),
            {"choice": item.effective_choice, "version": item.version},
            headers=HTMX,
        )
        assert response.status_code == 200, response.status_code
    return waiting
