"""A rep logs in with Chromium and sees their queue."""

import pytest
from playwright.sync_api import expect

from attention_review.reviews.models import Conversation

pytestmark = pytest.mark.django_db(transaction=True)


def test_rep_logs_in_and_sees_their_queue(page, log_in, rep, rep2, synced):
    log_in("rep")
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    newest = Conversation.objects.filter(owner=rep, awaiting_review=True).first()
    rows = page.locator("table.queue tbody tr")
    expect(rows.first).to_contain_text(newest.title)
    count = Conversation.objects.filter(owner=rep, awaiting_review=True).count()
    expect(page.locator("#queue-count")).to_contain_text(f"{count} conversation")
    other = Conversation.objects.filter(owner=rep2, awaiting_review=True).first()
    expect(page.locator(f'a[href="/conversations/{other.pk}/"]')).to_have_count(0)
    expect(page.locator(f'a[href="/conversations/{newest.pk}/"]')).to_have_count(1)
    assert page.console_errors == [], "no CSP violation or script error"
