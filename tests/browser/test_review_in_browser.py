"""A rep reviews and confirms a conversation in Chromium, the way they would every day."""

import re

import pytest
from playwright.sync_api import expect

from attention_review.reviews.models import ConfirmationAttempt, Conversation
from tests.sign_off import awaiting_sign_off

pytestmark = pytest.mark.django_db(transaction=True)


def test_rep_edits_validates_excludes_and_confirms(page, log_in, sandbox, rep, rep2, synced):
    conversation = (
        Conversation.objects.filter(owner=rep, awaiting_review=True, items_to_review__gte=3)
        .order_by("-started_at")
        .first()
    )
    items = list(conversation.items.filter(refreshing=False).order_by("position", "pk"))
    text_item = next(i for i in items if isinstance(i.ai_value, str) and not i.options)
    other_item = next(i for i in items if i.pk != text_item.pk)

    log_in("rep")
    page.get_by_role("link", name=conversation.title).click()
    expect(page.get_by_role("heading", name=conversation.title)).to_be_visible()

    # Edit one item; first trigger the validation error, then fix it.
    card = page.locator(f"#item-{text_item.pk}")
    card.get_by_role("link", name=re.compile("^Edit")).click()
    field = card.get_by_role("textbox")
    expect(field).to_be_focused()
    field.fill("")
    card.get_by_role("button", name="Save").click()
    expect(card.get_by_role("alert")).to_contain_text("Enter a value")
    field = card.get_by_role("textbox")
    field.fill("Send the security questionnaire by Friday")
    card.get_by_role("button", name="Save").click()
    expect(card).to_contain_text("Send the security questionnaire by Friday")
    expect(card).to_contain_text("AI proposes")
    expect(card.get_by_role("link", name=re.compile("^Edit"))).to_be_focused()
    expect(page.locator("#review-progress")).to_contain_text("Reviewed 1 of")

    # Exclude another.
    other = page.locator(f"#item-{other_item.pk}")
    other.get_by_role("button", name=re.compile("^Exclude")).click()
    expect(other.locator(".badge", has_text="Excluded")).to_be_visible()
    expect(page.locator("#confirm-summary")).to_contain_text("Excluded: 1")

    # The draft survives a reload.
    page.reload()
    expect(page.locator(f"#item-{text_item.pk}")).to_contain_text("security questionnaire")

    # Sign off the fields that move forecasts, one by one.
    for item in awaiting_sign_off(conversation):
        explicit = page.locator(f"#item-{item.pk}")
        explicit.get_by_role("button", name=re.compile("^Accept AI")).click()
        expect(explicit.locator(".badge", has_text="Signed off")).to_be_visible()

    page.get_by_role("button", name="Confirm to CRM").click()
    expect(page.get_by_role("heading", name="Confirmed in Attention")).to_be_visible()

    returned = sandbox.state.conversation(conversation.attention_id)["attributes"]
    participant = returned["participants"][0]["name"]
    expect(page.locator("#result")).to_contain_text(participant)
    expect(page.locator("#result")).to_contain_text(returned["scorecardResults"][0]["title"])
    expect(page.locator("#result")).to_contain_text(returned["linkedCrmRecords"][0]["id"])

    assert sandbox.state.confirm_calls[conversation.attention_id] == 1
    assert ConfirmationAttempt.objects.get().outcome == ConfirmationAttempt.Outcome.SUCCEEDED
    assert page.console_errors == []
