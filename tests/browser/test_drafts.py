"""Nothing typed is lost, in Chromium: text typed into an editor is kept as a draft after
a pause and is back in its editor after a reload; leaving with text not yet kept asks
first, and once it is kept, leaving does not."""

import re

import pytest
from playwright.sync_api import expect

from attention_review.reviews.models import Conversation, IntelligenceItem

pytestmark = pytest.mark.django_db(transaction=True)

TYPED = "Ask legal for the redlines before the Thursday call"


@pytest.fixture
def text_item(rep, synced):
    conversation = (
        Conversation.objects.filter(owner=rep, awaiting_review=True, items_to_review__gte=3)
        .order_by("-started_at")
        .first()
    )
    return next(
        item
        for item in conversation.items.filter(refreshing=False).order_by("position", "pk")
        if isinstance(item.ai_value, str) and not item.options
    )


def open_editor(page, item):
    card = page.locator(f"#item-{item.pk}")
    card.get_by_role("link", name=re.compile("^Edit")).click()
    field = card.get_by_role("textbox")
    expect(field).to_be_focused()
    return card, field


def test_an_autosaved_draft_is_back_in_its_editor_after_a_reload(
    page, log_in, sandbox, rep, rep2, text_item
):
    log_in("rep")
    page.goto(f"/conversations/{text_item.conversation_id}/")
    card, _ = open_editor(page, text_item)
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(TYPED)
    expect(card.locator(".draft-status")).to_contain_text("Draft from")

    page.reload()
    card = page.locator(f"#item-{text_item.pk}")
    expect(card.get_by_role("textbox")).to_have_value(TYPED)
    expect(card).to_contain_text("not saved yet; Save to use it")
    # Kept, not decided: nothing is sent until it is saved.
    expect(card.locator(".value-send")).not_to_contain_text(TYPED)

    card.get_by_role("button", name="Save").click()
    expect(card.locator(".badge", has_text="Your value")).to_be_visible()
    page.reload()
    expect(page.locator(f"#item-{text_item.pk}").get_by_role("textbox")).to_have_count(0)
    assert IntelligenceItem.objects.get(pk=text_item.pk).draft_text == ""
    assert page.console_errors == []


def test_leaving_with_text_not_yet_kept_asks_first(page, log_in, sandbox, rep, rep2, text_item):
    log_in("rep")
    review = f"/conversations/{text_item.conversation_id}/"
    page.goto(review)
    card, field = open_editor(page, text_item)
    asked: list[str] = []

    def stay(dialog):
        asked.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    page.keyboard.type(" and the pricing sheet")
    # Right after typing, before the pause that keeps it: leaving asks, and staying keeps it.
    page.get_by_role("link", name="← Review queue").click()
    expect(card.locator(".draft-status")).to_contain_text("Draft from")
    assert asked == ["beforeunload"]
    assert page.url.endswith(review)
    expect(field).to_have_value(re.compile("and the pricing sheet$"))

    # Once the draft is kept, leaving does not ask.
    page.remove_listener("dialog", stay)
    page.on("dialog", lambda dialog: asked.append(dialog.type) or dialog.accept())
    page.get_by_role("link", name="← Review queue").click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    assert asked == ["beforeunload"]
    kept = IntelligenceItem.objects.get(pk=text_item.pk).draft_text
    assert kept.endswith("and the pricing sheet")
