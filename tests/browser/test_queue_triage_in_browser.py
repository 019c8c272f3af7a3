"""A rep triages the queue in Chromium: the filters change the list and the URL, and the
URL alone (a reload, Back) brings the same view back; a phone never scrolls sideways."""

import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, expect

from attention_review.reviews.models import Conversation

pytestmark = pytest.mark.django_db(transaction=True)


def query_of(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def rep_calls(rep) -> list[Conversation]:
    return list(
        Conversation.objects.filter(owner=rep, awaiting_review=True).order_by("-started_at")
    )


def shown_titles(page: Page) -> list[str]:
    return page.locator("table.queue tbody td.title a").all_inner_texts()


def test_filtering_changes_the_url_and_reload_and_back_restore_the_view(
    page, log_in, rep, rep2, synced
):
    log_in("rep")
    calls = rep_calls(rep)
    newest_first = [call.title for call in calls[:25]]
    expect(page.locator("table.queue tbody tr").first).to_contain_text(calls[0].title)

    # Sorting: the list changes in place and the URL says so.
    page.get_by_label("Sort").select_option("oldest")
    page.wait_for_url(re.compile(r"sort=oldest"))
    oldest = sorted(calls, key=lambda call: (call.started_at, call.pk))
    expect(page.locator("table.queue tbody tr").first).to_contain_text(oldest[0].title)

    # Searching for someone on one of the calls: typing is enough.
    target = next(call for call in calls if call.participant_count > 1)
    guest = next(
        person
        for person in target.raw["attributes"]["participants"]
        if person["email"] != rep.email
    )
    page.get_by_role("searchbox", name="Search").fill(guest["email"])
    page.wait_for_url(lambda url: parse_qs(urlparse(url).query).get("q") == [guest["email"]])
    assert query_of(page)["q"] == [guest["email"]]
    assert query_of(page)["sort"] == ["oldest"]
    matching = [call.title for call in oldest if guest["email"].lower() in call.people_text]
    expect(page.locator("table.queue tbody td.title a")).to_have_count(len(matching[:25]))
    filtered = shown_titles(page)
    assert filtered == matching[:25]
    filtered_url = page.url

    # A reload shows the same list, and the form shows the same filters.
    page.reload()
    expect(page.locator("table.queue tbody td.title a")).to_have_count(len(filtered))
    assert shown_titles(page) == filtered
    expect(page.get_by_role("searchbox", name="Search")).to_have_value(guest["email"])
    expect(page.get_by_label("Sort")).to_have_value("oldest")

    # Open a call and come back: the filtered view again.
    page.locator("table.queue tbody td.title a").first.click()
    page.wait_for_url(re.compile(r"/conversations/\d+/"))
    page.go_back()
    page.wait_for_url(filtered_url)
    expect(page.locator("table.queue tbody td.title a")).to_have_count(len(filtered))
    assert shown_titles(page) == filtered
    expect(page.get_by_role("searchbox", name="Search")).to_have_value(guest["email"])

    # Back through the filters to the plain queue, newest first.
    page.go_back()
    page.wait_for_url(
        lambda url: "sort=oldest" in url and not parse_qs(urlparse(url).query).get("q")
    )
    expect(page.locator("table.queue tbody tr").first).to_contain_text(oldest[0].title)
    page.go_back()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.locator("table.queue tbody tr").first).to_contain_text(newest_first[0])
    assert shown_titles(page) == newest_first
    expect(page.get_by_label("Sort")).to_have_value("newest")
    assert page.console_errors == [], "no CSP violation or script error"


@pytest.mark.parametrize("persona", ["rep", "manager"])
def test_no_sideways_scrolling_on_a_phone(
    browser, live_server, rep, rep2, manager, synced, persona
):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(persona)
        page.get_by_label("Password").fill("correct-horse-battery")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/")
        expect(page.locator("table.queue tbody tr").first).to_be_visible()
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1] == 390
        # Each call reads as a card: its fields stacked one under another.
        first_row = page.locator("table.queue tbody tr").first
        title = first_row.locator("td.title").bounding_box()
        waiting = first_row.locator('td[data-label="Waiting"]').bounding_box()
        assert title
        assert waiting
        assert waiting["y"] >= title["y"] + title["height"]
        assert waiting["x"] + waiting["width"] <= 390
    finally:
        context.close()
