"""Back and Forward after htmx paging restore whole pages, and a message is shown once."""

import re

import pytest
from playwright.sync_api import expect

from attention_review.reviews.models import Conversation

pytestmark = pytest.mark.django_db(transaction=True)


def test_back_after_htmx_paging_restores_the_whole_queue_page(
    page, log_in, settings, sandbox, manager, synced
):
    settings.QUEUE_PAGE_SIZE = 5
    log_in("manager")
    page.get_by_role("link", name=re.compile("Older")).click()
    expect(page).to_have_url(re.compile(r"\?page=2$"))
    page.get_by_role("link", name=re.compile("Older")).click()
    expect(page).to_have_url(re.compile(r"\?page=3$"))

    # htmx keeps no snapshots (historyCacheSize 0): Back asks the server for page 2 with
    # HX-History-Restore-Request, and must get the page with its header and navigation.
    page.go_back()
    expect(page).to_have_url(re.compile(r"\?page=2$"))
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_role("heading", name="Review queue", level=1)).to_be_visible()
    expect(page.locator("#queue")).to_have_count(1)
    page.go_forward()
    expect(page).to_have_url(re.compile(r"\?page=3$"))
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.locator("#queue")).to_have_count(1)
    assert page.console_errors == []


def test_a_save_without_javascript_says_saved_once(browser, live_server, sandbox, rep, synced):
    conversation = Conversation.objects.filter(owner=rep, awaiting_review=True).first()
    item = conversation.items.filter(refreshing=False, options__isnull=True).first()
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill("rep")
        page.get_by_label("Password").fill("correct-horse-battery")
        page.get_by_role("button", name="Log in").click()
        page.goto(f"/conversations/{conversation.pk}/")
        card = page.locator(f"#item-{item.pk}")
        card.get_by_role("link", name=re.compile("^Edit")).click()
        page.locator(f"#item-{item.pk}").get_by_role("textbox").fill("Typed without JavaScript")
        page.locator(f"#item-{item.pk}").get_by_role("button", name="Save").click()
        expect(page.locator(f"#item-{item.pk}")).to_contain_text("Typed without JavaScript")
        expect(page.get_by_text(re.compile("^Saved"))).to_have_count(1)
    finally:
        context.close()
