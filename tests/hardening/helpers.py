"""Helpers shared by the hardening tests: clients logged in as a persona, and the rep's
everyday actions (edit an item, exclude one, confirm) driven through the real views."""

from django.test import Client
from django.urls import reverse

from attention_review.reviews.models import Conversation, IntelligenceItem
from tests.sign_off import sign_off

HTMX = {"HX-Request": "true"}
REP_EDIT = "Rep's corrected next step: send the MSA redline by Friday"


def client_for(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def confirmable_items(conversation: Conversation) -> list[IntelligenceItem]:
    return list(conversation.items.filter(refreshing=False).order_by("position", "pk"))


def text_item(conversation: Conversation) -> IntelligenceItem:
    return next(
        item
        for item in confirmable_items(conversation)
        if isinstance(item.ai_value, str) and not item.options
    )


def save_draft(client: Client, item: IntelligenceItem, value: str, **headers):
    return client.post(
        reverse("reviews:item", args=[item.conversation_id, item.pk]),
        {"value": value},
        headers=headers or HTMX,
    )


def exclude(client: Client, item: IntelligenceItem):
    return client.post(
        reverse("reviews:item-exclude", args=[item.conversation_id, item.pk]),
        {"excluded": "1"},
        headers=HTMX,
    )


def edit_and_exclude(client: Client, conversation: Conversation):
    """The rep edits the first free-text item and excludes another: (edited, excluded)."""
    edited = text_item(conversation)
    excluded = next(i for i in confirmable_items(conversation) if i.pk != edited.pk)
    assert save_draft(client, edited, REP_EDIT).status_code == 200
    assert exclude(client, excluded).status_code == 200
    return edited, excluded


def confirm(client: Client, conversation: Conversation, **headers):
    """Confirm as the rep does: the fields that need their sign-off decided first."""
    sign_off(client, conversation)
    conversation.refresh_from_db()
    return client.post(
        reverse("reviews:confirm", args=[conversation.pk]),
        {"review_round": conversation.review_round},
        headers=headers or HTMX,
    )


def assert_draft_kept(edited: IntelligenceItem, excluded: IntelligenceItem) -> None:
    """The rep's edit and exclusion are still stored exactly as they were made."""
    edited.refresh_from_db()
    excluded.refresh_from_db()
    assert edited.is_edited
    assert edited.decision_value == REP_EDIT
    assert excluded.is_excluded
