"""A manager reads twelve confirmations on one short page and opens one in full, in
Chromium at 1440 px."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from attention_review.reviews.models import ConfirmationAttempt
from tests.browser.test_accessibility import audit
from tests.browser.test_review_layout import OVERFLOW
from tests.factories import make_attempt, make_conversation, make_team

pytestmark = pytest.mark.django_db(transaction=True)

# Where to keep the screenshot for a person to look at (AUDIT_SCREENSHOT=path).
SCREENSHOT = os.environ.get("AUDIT_SCREENSHOT", "")


def twelve_confirmations(rep, rep2):
    team = make_team("East")
    unchanged = [
        ("stage", "Proposal", "Proposal", False, False),
        ("close_date", "2026-12-01", "2026-12-01", False, False),
        ("budget_discussed", True, True, False, False),
        ("competitors", "Gong", "Gong", False, False),
        ("pain_points", "Manual CRM entry", "Manual CRM entry", False, False),
        ("decision_maker", "Dana (VP Sales)", "Dana (VP Sales)", False, False),
    ]
    now = timezone.now()
    attempts = []
    for number in range(12):
        owner = rep if number % 2 else rep2
        call = make_conversation(owner=owner, team=team, title=f"Acme call {number + 1}")
        attempts.append(
            make_attempt(
                conversation=call,
                user=owner,
                finished_at=now - timedelta(hours=number + 1),
                outcome=(
                    ConfirmationAttempt.Outcome.FAILED
                    if number == 3
                    else ConfirmationAttempt.Outcome.SUCCEEDED
                ),
                items=[
                    ("next_steps", "Send pricing", "Send pricing and the MSA", True, False),
                    ("amount", 50000, 42000, False, False),
                    *unchanged,
                ],
            )
        )
    return attempts


def test_twelve_confirmations_make_a_short_page_and_one_opens_in_full(
    page, log_in, rep, rep2, manager
):
    attempts = twelve_confirmations(rep, rep2)
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in("manager")
    page.goto("/audit/")
    ledger = page.locator("#ledger")
    expect(ledger.locator("article.attempt")).to_have_count(12)
    # Two changed items per attempt, not eight.
    expect(ledger.locator(".items-table tbody tr")).to_have_count(24)
    failed = page.locator(f"#attempt-{attempts[3].pk}")
    expect(failed).to_contain_text("Nothing was written to the CRM")
    expect(failed.get_by_role("columnheader", name="Value sent")).to_have_count(0)

    height = page.evaluate("document.documentElement.scrollHeight")
    if SCREENSHOT:
        Path(SCREENSHOT).parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOT, full_page=True)
    assert height < 4200, f"the ledger of twelve confirmations is {height}px tall"

    first = page.locator(f"#attempt-{attempts[0].pk}")
    first.get_by_role("link", name="Show all 8 items").click()
    expect(first.locator(".items-table tbody tr")).to_have_count(8)
    expect(first.get_by_role("link", name="Show changed items only (2)")).to_be_visible()
    assert f"expand={attempts[0].pk}" in page.url
    # The keyboard stays on the card: the focus is on its new toggle.
    expect(first.get_by_role("link", name="Show changed items only (2)")).to_be_focused()
    # The other attempts keep their changed items only.
    expect(ledger.locator(".items-table tbody tr")).to_have_count(24 + 6)
    page.reload()
    expect(page.locator(f"#attempt-{attempts[0].pk} .items-table tbody tr")).to_have_count(8)
    audit(page, "audit: twelve confirmations, one in full, one failed", {})
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate(OVERFLOW) == 0, "no sideways scrolling on a phone"
    assert page.console_errors == []
