"""A rep opens the transcript at a quote in Chromium: the side panel shows the quote
marked and in view, focus on it; Escape closes the panel and gives focus back. axe finds
no serious or critical violation with the panel open, nor on the transcript page."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from attention_review.reviews.formatting import call_moment
from attention_review.reviews.models import IntelligenceItem
from tests.browser.test_accessibility import audit

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def quoted(rep, rep2, synced):
    """An item of the rep's awaiting review whose one quote lies late in the call, so
    the panel has to scroll to it."""
    items = IntelligenceItem.objects.filter(
        conversation__owner=rep,
        conversation__awaiting_review=True,
        needs_review=True,
        refreshing=False,
    ).order_by("conversation__started_at", "position")
    return next(
        item for item in items if len(item.evidence) == 1 and item.evidence[0]["start"] > 900
    )


def test_a_quotes_time_opens_the_panel_at_the_quote(page, log_in, quoted):
    quote = quoted.evidence[0]
    review_url = reverse("reviews:review", args=[quoted.conversation_id])
    log_in("rep")
    page.goto(review_url)
    panel = page.locator("#transcript-panel")
    expect(panel).to_be_hidden()

    link = page.locator(f"#item-{quoted.pk}").get_by_role(
        "link", name=f"Open the transcript at {call_moment(quote['start'])}"
    )
    link.click()
    expect(panel.get_by_role("heading", name="Transcript")).to_be_visible()
    marked = panel.locator(".at-quote mark")
    expect(marked).to_have_text(quote["quote"])
    expect(marked).to_be_in_viewport()
    expect(panel.locator(".at-quote")).to_be_focused()
    assert page.url.endswith(review_url)  # the review stays where it was
    audit(page, "review (transcript panel)", {})

    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(link).to_be_focused()

    # The Close link does the same.
    link.click()
    expect(marked).to_be_visible()
    panel.get_by_role("link", name="Close the transcript").click()
    expect(panel).to_be_hidden()
    assert page.console_errors == []


def test_on_a_phone_the_panel_fits_and_the_page_never_scrolls_sideways(page, log_in, quoted):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in("rep")
    page.goto(reverse("reviews:review", args=[quoted.conversation_id]))
    page.locator(f"#item-{quoted.pk} [data-transcript-link]").click()
    expect(page.locator("#transcript-panel .at-quote mark")).to_be_in_viewport()
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    box = page.locator("#transcript-panel").bounding_box()
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390


def test_the_link_opened_as_a_page_scrolls_to_the_quote(page, log_in, quoted):
    """What a reader without JavaScript gets: the transcript page, at the quote's anchor."""
    quote = quoted.evidence[0]
    log_in("rep")
    page.goto(reverse("reviews:review", args=[quoted.conversation_id]))
    href = page.locator(f"#item-{quoted.pk} [data-transcript-link]").get_attribute("href")
    page.goto(href)
    expect(page.get_by_role("link", name="← Back to the review")).to_be_visible()
    at_quote = page.locator(f"#t-{int(quote['start'])}")
    expect(at_quote.locator("mark")).to_have_text(quote["quote"])
    expect(at_quote).to_be_in_viewport()
    audit(page, "transcript page", {})
