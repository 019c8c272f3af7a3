"""Where the AI goes wrong, in Chromium: a rep gives a reason in one click after an edit,
a manager reads the field accuracy page and spot-checks a rep, at 1440 and 390 px."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from attention_review.reviews.models import ChangeReason, Conversation, IntelligenceItem
from tests.factories import make_attempt, make_conversation, make_team

pytestmark = pytest.mark.django_db(transaction=True)

axe = Axe()


def blocking_violations(page) -> list[str]:
    response = axe.run(page).response
    return [
        f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}"
        for v in response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def sideways_overflow(page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def test_a_rep_gives_a_reason_in_one_click(page, log_in, sandbox, rep, rep2, synced):
    conversation = (
        Conversation.objects.filter(owner=rep, awaiting_review=True, items_to_review__gte=3)
        .order_by("-started_at")
        .first()
    )
    items = conversation.items.filter(refreshing=False).order_by("position", "pk")
    text_item = next(i for i in items if isinstance(i.ai_value, str) and not i.options)

    log_in("rep")
    page.get_by_role("link", name=conversation.title).click()
    card = page.locator(f"#item-{text_item.pk}")
    expect(card.get_by_role("button", name="Wrong value")).to_have_count(0)
    card.get_by_role("link", name=re.compile("^Edit")).click()
    card.get_by_role("textbox").fill("Send the security questionnaire by Friday")
    card.get_by_role("button", name="Save").click()
    expect(card).to_contain_text("Why changed?")

    url = page.url
    card.get_by_role("button", name="Out of date").click()
    expect(card.get_by_role("button", name="Out of date")).to_have_attribute("aria-pressed", "true")
    expect(card.get_by_role("button", name="Other")).to_have_attribute("aria-pressed", "false")
    # A reason is a side note: the keyboard stays on it, not moved on like a decision.
    expect(card.get_by_role("button", name="Out of date")).to_be_focused()
    assert page.url == url, "swapped in place, no reload"
    item = IntelligenceItem.objects.get(pk=text_item.pk)
    assert item.change_reason == ChangeReason.OUT_OF_DATE
    assert page.console_errors == []


def test_a_manager_reads_field_accuracy_and_spot_checks_a_rep(page, log_in, rep, rep2, manager):
    team = make_team("East")
    call = make_conversation(owner=rep, team=team, title="Riley's pricing call", awaiting=False)
    other_call = make_conversation(owner=rep2, team=team, title="Sam's renewal", awaiting=False)
    for n in range(3):
        make_attempt(
            conversation=call,
            user=rep,
            items=[
                ("next_steps", "Send pricing", f"Send pricing and the MSA {n}", True, False),
                ("stage", "Proposal", "Proposal", False, False),
                ("competitors", "Gong", None, False, True),
            ],
            reasons={"next_steps": ChangeReason.WRONG_VALUE},
        )
    make_attempt(
        conversation=other_call,
        user=rep2,
        items=[("stage", "Proposal", "Negotiation", True, False)],
    )

    log_in("manager")
    page.get_by_role("link", name="Accuracy").click()
    expect(page.get_by_role("heading", name="Field accuracy")).to_be_visible()
    report = page.locator("#report")
    expect(report).to_contain_text(
        "Fields most often changed: Competitors (100%), Next Steps (100%)"
    )
    expect(report.locator("svg.chart")).to_be_visible()
    assert blocking_violations(page) == []

    page.get_by_label("Rep", exact=True).select_option(label="Sam Ortega")
    page.get_by_role("button", name="Apply filters").click()
    expect(report).to_contain_text("Fields most often changed: Stage (100%)")
    assert "rep=" in page.url

    page.set_viewport_size({"width": 390, "height": 844})
    assert sideways_overflow(page) <= 0

    page.get_by_role("link", name="Spot checks").click()
    page.get_by_label("Rep", exact=True).select_option(label="Riley Park")
    page.get_by_label("Items to sample").fill("2")
    page.get_by_role("button", name="Sample items").click()
    expect(page.get_by_role("heading", name="Spot check of Riley Park")).to_be_visible()
    samples = page.locator("article.sample")
    expect(samples).to_have_count(2)
    assert sideways_overflow(page) <= 0
    assert blocking_violations(page) == []

    first = samples.first
    first.get_by_label("Note (optional)").fill("Looks right")
    first.get_by_role("button", name=re.compile("^Agree")).click()
    expect(first).to_contain_text("Agreed")
    expect(first.get_by_role("button", name=re.compile("^Agree"))).to_have_attribute(
        "aria-pressed", "true"
    )
    samples.nth(1).get_by_role("button", name=re.compile("^Disagree")).click()
    expect(samples.nth(1)).to_contain_text("Disagreed")

    page.get_by_role("link", name="← Spot checks").click()
    row = page.locator(f'tr[data-rep="{rep.pk}"]')
    expect(row).to_contain_text("50%")
    expect(row).to_contain_text("1 of 2 agreed")
    assert page.console_errors == []
