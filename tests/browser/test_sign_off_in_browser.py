"""Sign-off in Chromium: Confirm waits, saying why, until the rep has decided the fields
that move forecasts; "Accept the rest" leaves an item without evidence for them."""

import re

import pytest
from playwright.sync_api import expect

from attention_review.reviews.models import Conversation, FieldSetting, IntelligenceItem
from tests.sign_off import awaiting_sign_off

pytestmark = pytest.mark.django_db(transaction=True)


def bulk_asking(conversation: Conversation) -> list[IntelligenceItem]:
    explicit = set(
        FieldSetting.objects.filter(tier=FieldSetting.Tier.EXPLICIT).values_list("key", flat=True)
    )
    return [
        item
        for item in conversation.items.order_by("position", "pk")
        if item.is_confirmable and item.needs_review and item.key not in explicit
    ]


@pytest.fixture
def conversation(synced, rep):
    """One of rep's calls with two or more fields to sign off, and bulk fields with
    evidence and without."""
    for candidate in Conversation.objects.filter(owner=rep, awaiting_review=True):
        bulk = bulk_asking(candidate)
        with_evidence = [item for item in bulk if item.evidence]
        if len(awaiting_sign_off(candidate)) >= 2 and 0 < len(with_evidence) < len(bulk):
            return candidate
    raise AssertionError("no suitable conversation in the sandbox data")


def open_review(page, log_in, conversation):
    log_in("rep")
    page.get_by_role("link", name=conversation.title).click()
    expect(page.get_by_role("heading", name=conversation.title)).to_be_visible()


def test_confirm_waits_for_the_explicit_fields_and_says_which(
    page, log_in, sandbox, rep2, conversation
):
    waiting = awaiting_sign_off(conversation)
    open_review(page, log_in, conversation)
    confirm = page.get_by_role("button", name="Confirm to CRM")
    expect(confirm).to_be_disabled()
    titles = [item.title for item in waiting]
    reason = page.locator("#sign-off-reason")
    expect(reason).to_be_visible()
    expect(reason).to_have_text(
        "Decide " + ", ".join(titles[:-1]) + " and " + titles[-1] + " before confirming."
    )
    expect(page.locator("#review-progress")).to_contain_text(
        f"{len(waiting)} fields need your sign-off"
    )

    for done, item in enumerate(waiting, start=1):
        card = page.locator(f"#item-{item.pk}")
        expect(card.locator(".badge", has_text="Needs your sign-off")).to_be_visible()
        card.get_by_role("button", name=re.compile("^Accept AI")).click()
        expect(card.locator(".badge", has_text="Signed off")).to_be_visible()
        if done < len(waiting):
            expect(confirm).to_be_disabled()
            expect(reason).not_to_contain_text(item.title)

    expect(confirm).to_be_enabled()
    expect(page.locator("#sign-off-reason")).to_have_count(0)
    confirm.click()
    expect(page.get_by_role("heading", name="Confirmed in Attention")).to_be_visible()
    assert sandbox.state.confirm_calls[conversation.attention_id] == 1
    assert page.console_errors == []


def test_accept_the_rest_leaves_an_item_without_evidence_for_the_rep(
    page, log_in, rep2, conversation
):
    bulk = bulk_asking(conversation)
    with_evidence = [item for item in bulk if item.evidence]
    without_evidence = [item for item in bulk if not item.evidence]
    open_review(page, log_in, conversation)

    page.get_by_role("button", name=f"Accept the rest ({len(with_evidence)})").click()
    expect(page.locator("#review-body")).to_contain_text(
        f"Accepted {len(with_evidence)}; {len(without_evidence)} without evidence left for you."
    )
    for item in with_evidence:
        expect(page.locator(f"#item-{item.pk} .badge", has_text="Accepted")).to_be_visible()
    for item in without_evidence:
        card = page.locator(f"#item-{item.pk}")
        expect(card).to_be_visible()
        expect(card.locator(".badge", has_text="Accepted")).to_have_count(0)
        expect(card.get_by_role("button", name=re.compile("^Accept AI"))).to_be_visible()
    for item in awaiting_sign_off(conversation):
        expect(
            page.locator(f"#item-{item.pk} .badge", has_text="Needs your sign-off")
        ).to_be_visible()
    expect(page.get_by_role("button", name="Confirm to CRM")).to_be_disabled()
    reviewed = len(with_evidence)
    expect(page.locator("#review-progress")).to_contain_text(f"Reviewed {reviewed} of")
    assert page.console_errors == []
