"""A rep reviews a call the second time, after the AI changed one proposal, in Chromium."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from attention_review.reviews.models import Conversation
from attention_review.reviews.services.sync import conversation_sync
from attention_review.reviews.values import ValueKind, value_kind
from tests.sign_off import sign_off

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_second_round_shows_the_crm_value_the_new_proposal_and_what_is_sent(
    page, log_in, sandbox, api, rep, synced
):
    conversation = next(
        candidate
        for candidate in Conversation.objects.filter(owner=rep, awaiting_review=True)
        if sum(value_kind(i.ai_value, i.options) == ValueKind.TEXT for i in candidate.items.all())
        >= 2
    )
    budget, next_steps = [
        item
        for item in conversation.items.order_by("position", "pk")
        if item.is_confirmable and value_kind(item.ai_value, item.options) == ValueKind.TEXT
    ][:2]
    first_proposal = next_steps.ai_value

    # Round one, through the plain forms: Budget edited, the rest as proposed.
    client = Client()
    client.force_login(rep)
    client.post(
        reverse("reviews:item", args=[conversation.pk, budget.pk]),
        {"value": "REP 120k", "version": budget.version},
    )
    sign_off(client, conversation)
    client.post(reverse("reviews:confirm", args=[conversation.pk]), {"review_round": 1})

    # The AI re-extracts and changes only Next Steps.
    sandbox.state.reextract(
        conversation.attention_id, change={next_steps.key: "Security review on Friday"}
    )
    conversation_sync(client=api, full=True)

    log_in("rep")
    page.get_by_role("link", name=conversation.title).click()
    changed = page.locator(f"#item-{next_steps.pk}")
    expect(changed.locator(".badge", has_text="AI changed")).to_be_visible()
    expect(changed.locator(".value-crm")).to_contain_text(first_proposal)
    expect(changed.locator(".value-ai")).to_contain_text("Security review on Friday")
    expect(changed.locator(".value-send")).to_contain_text(first_proposal)
    kept = page.locator(f"#item-{budget.pk}")
    expect(kept.locator(".value-crm")).to_contain_text("REP 120k")
    expect(kept.locator(".value-send")).to_contain_text("REP 120k")
    expect(page.get_by_text("Reviewed 0 of 1")).to_be_visible()

    changed.get_by_role("button", name=re.compile("^Accept AI")).click()
    expect(changed.locator(".value-send")).to_contain_text("Security review on Friday")
    expect(page.get_by_text("Reviewed 1 of 1")).to_be_visible()

    page.get_by_role("button", name="Confirm to CRM").click()
    expect(page.get_by_role("heading", name="What was sent")).to_be_visible()
    body = sandbox.state.confirm_bodies[conversation.attention_id][-1]
    values = {entry["id"]: entry["value"] for entry in body["intelligence"]}
    assert values[next_steps.item_id] == "Security review on Friday"
    assert values[budget.item_id] == "REP 120k"
    assert page.console_errors == []
