"""The review page as a rep sees it in Chromium: many items on one 1440 px screen, and
on a 390 px phone every state of the page fits without sideways scrolling; axe finds
no serious or critical violation in those states."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from attention_review.reviews.models import Conversation
from tests.browser.test_accessibility import audit

pytestmark = pytest.mark.django_db(transaction=True)

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def conversation(rep, rep2, synced) -> Conversation:
    """The rep's call with the most items awaiting review."""
    return (
        Conversation.objects.filter(owner=rep, awaiting_review=True)
        .order_by("-items_to_review", "pk")
        .first()
    )


def items_on_first_screen(page) -> int:
    return page.evaluate(
        """() => [...document.querySelectorAll('article.item')]
              .filter(card => card.getBoundingClientRect().bottom <= window.innerHeight)
              .length"""
    )


def test_many_items_fit_on_one_wide_screen(page, log_in, conversation):
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in("rep")
    page.goto(reverse("reviews:review", args=[conversation.pk]))
    assert conversation.items_to_review >= 8
    assert items_on_first_screen(page) >= 4
    # The field and its values sit on one line of the card, side by side.
    card = page.locator("article.item").first
    title = card.locator("h4").bounding_box()
    values = card.locator(".values").bounding_box()
    why = card.locator(".item-why").bounding_box()
    assert values["x"] + values["width"] <= why["x"], "the evidence beside the values"
    assert title["y"] < values["y"] + values["height"]


def test_a_phone_never_scrolls_sideways_in_any_state(page, log_in, conversation):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in("rep")
    page.goto(reverse("reviews:review", args=[conversation.pk]))
    results: dict = {}
    assert page.evaluate(OVERFLOW) <= 0, "reading"
    audit(page, "review at 390 px", results)

    item = conversation.items.filter(refreshing=False, options__isnull=True).first()
    card = page.locator(f"#item-{item.pk}")
    card.get_by_role("link", name=re.compile("^Edit")).click()
    expect(
        card.locator("form textarea, form input:not([type=hidden]), form select").first
    ).to_be_visible()
    assert page.evaluate(OVERFLOW) <= 0, "editing"
    audit(page, "review at 390 px, editing", results)

    folded = page.locator("details.show-all")
    if folded.count():
        folded.first.locator("summary").click()
        assert page.evaluate(OVERFLOW) <= 0, "a long value shown in full"

    page.goto(reverse("reviews:my-confirmations"))
    assert page.evaluate(OVERFLOW) <= 0, "my confirmations"
    page.goto(reverse("reviews:queue"))
    assert page.evaluate(OVERFLOW) <= 0, "the queue"
    assert page.console_errors == []


def test_a_missing_page_is_the_apps_own_not_a_debug_page(page, log_in, rep):
    log_in("rep")
    response = page.goto("/conversations/999999/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Nothing here")).to_be_visible()
    expect(page.get_by_role("link", name="Back to the review queue")).to_be_visible()
    assert "Traceback" not in page.content()
    assert "Using the URLconf" not in page.content()
