"""The review lock in two browsers: the rep has a call open; the manager opening it sees
who is reviewing and a read-only page; once the rep's lock has run out the manager may
decide (which takes the call), and the rep's "Take over" works without waiting."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from attention_review.reviews.models import Conversation

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct-horse-battery"


@pytest.fixture
def conversation(synced, rep):
    return (
        Conversation.objects.filter(owner=rep, awaiting_review=True, items_to_review__gte=3)
        .order_by("-started_at")
        .first()
    )


@pytest.fixture
def second_page(browser, live_server):
    """Another person's browser: a context of its own, so its own session."""
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def log_in_as(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


def open_review(page, conversation) -> None:
    page.goto(f"/conversations/{conversation.pk}/")
    expect(page.get_by_role("heading", name=conversation.title)).to_be_visible()


def test_the_second_reviewer_sees_who_is_reviewing_and_gets_the_call_once_the_lock_expires(
    page, second_page, sandbox, rep, manager, conversation
):
    log_in_as(page, "rep")
    open_review(page, conversation)
    expect(page.get_by_role("button", name=re.compile("^Accept AI")).first).to_be_visible()

    log_in_as(second_page, "manager")
    open_review(second_page, conversation)
    notice = second_page.locator("#review-lock")
    expect(notice).to_contain_text(
        re.compile(r"Riley Park is reviewing this call \(since \d\d:\d\d, until \d\d:\d\d\)\.")
    )
    expect(second_page.get_by_role("button", name=re.compile("^Accept AI"))).to_have_count(0)
    expect(second_page.get_by_role("button", name="Confirm to CRM")).to_have_count(0)
    expect(second_page.get_by_role("button", name="Take over")).to_be_visible()

    # The rep left without confirming: their lock runs out.
    Conversation.objects.filter(pk=conversation.pk).update(
        locked_until=timezone.now() - timedelta(seconds=1)
    )
    second_page.reload()
    expect(second_page.get_by_text("is reviewing this call")).to_have_count(0)
    # Looking in takes nothing; the manager's first decision takes the call.
    second_page.get_by_role("button", name=re.compile("^Accept AI")).first.click()
    expect(second_page.locator("article.item .badge.ok").first).to_be_visible()
    assert Conversation.objects.get(pk=conversation.pk).locked_by == manager

    # Now the rep is the one who finds the call taken, and takes it back.
    page.reload()
    expect(page.locator("#review-lock")).to_contain_text("Morgan Lee is reviewing this call")
    page.get_by_role("button", name="Take over").click()
    expect(page.get_by_text("You took over the review from Morgan Lee.")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Accept AI")).first).to_be_visible()
    assert Conversation.objects.get(pk=conversation.pk).locked_by == rep
