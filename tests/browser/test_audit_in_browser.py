"""A manager filters the audit ledger to one rep's edited items, in Chromium."""

import pytest
from playwright.sync_api import expect

from tests.factories import make_attempt, make_conversation, make_team

pytestmark = pytest.mark.django_db(transaction=True)


def test_manager_filters_the_ledger_to_one_reps_edited_items(page, log_in, rep, rep2, manager):
    team = make_team("East")
    riley_call = make_conversation(owner=rep, team=team, title="Riley's pricing call")
    sam_call = make_conversation(owner=rep2, team=team, title="Sam's renewal call")
    make_attempt(
        conversation=riley_call,
        user=rep,
        items=[
            ("next_steps", "Send pricing", "Send pricing and the MSA", True, False),
            ("stage", "Proposal", "Proposal", False, False),
        ],
    )
    make_attempt(
        conversation=sam_call,
        user=rep2,
        items=[("next_steps", "Call back", "Call back Tuesday", True, False)],
    )

    log_in("manager")
    page.get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", name="Audit ledger")).to_be_visible()
    ledger = page.locator("#ledger")
    expect(ledger).to_contain_text("Sam's renewal call")

    page.get_by_label("Rep", exact=True).select_option(label="Riley Park")
    page.get_by_label("Only edited items").check()
    page.get_by_role("button", name="Apply filters").click()

    expect(ledger).not_to_contain_text("Sam's renewal call")
    expect(ledger).to_contain_text("Riley's pricing call")
    rows = ledger.locator(".items-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Next Steps")
    expect(rows.first.locator("ins")).to_contain_text("and the MSA")
    # The filtered view is linkable.
    assert "rep=" in page.url
    assert "only_edited=on" in page.url
    assert page.console_errors == []
