"""The admin a sales-ops admin uses, in Chromium at 1440 px: the conversation list fits
the screen (long titles cut short), and a conversation's page reads its items as three
values with the raw payload folded away."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from attention_review.reviews.models import Conversation
from tests.factories import make_conversation

pytestmark = pytest.mark.django_db(transaction=True)

LONG_TITLE = "Quarterly business review with the whole procurement committee " * 5


def log_in_to_admin(page) -> None:
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


def keep_screenshot(page, name: str) -> None:
    """With SCREENSHOT_DIR set, keep what the browser drew, to look at it."""
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / name))


def test_the_conversation_list_fits_1440_and_a_conversation_reads_as_a_table(
    page, sandbox, synced, admin_user, rep
):
    make_conversation(owner=rep, title=LONG_TITLE.strip())
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in_to_admin(page)
    page.goto("/admin/reviews/conversation/")
    expect(page.locator("#result_list")).to_be_visible()
    keep_screenshot(page, "admin-conversations-1440.png")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the list scrolls sideways by {overflow} px"
    expect(page.get_by_role("link", name=LONG_TITLE.strip())).to_have_count(0)
    expect(
        page.get_by_role("link", name="Quarterly business review with the whole")
    ).to_be_visible()

    conversation = Conversation.objects.filter(items__isnull=False).first()
    page.goto(f"/admin/reviews/conversation/{conversation.pk}/change/")
    table = page.locator("table.conversation-items")
    expect(table.locator("thead th")).to_have_text(
        ["Field", "In CRM", "AI proposes", "You send", "Decision"]
    )
    table.scroll_into_view_if_needed()
    keep_screenshot(page, "admin-conversation-1440.png")
    raw = page.get_by_text("Raw payload from Attention")
    expect(raw).to_be_visible()
    expect(page.locator(".field-raw")).to_be_hidden()
    raw.click()
    expect(page.locator(".field-raw")).to_be_visible()
