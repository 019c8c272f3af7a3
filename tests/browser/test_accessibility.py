"""axe-core audits of every page a rep or a manager uses, in Chromium: no serious or
critical violation, and no CSP violation or script error while the pages work.

Run with `-s` to see the per-page counts that docs/reliability.md records."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from attention_review.reviews.models import Conversation
from tests.sign_off import awaiting_sign_off

pytestmark = pytest.mark.django_db(transaction=True)

BLOCKING = {"serious", "critical"}
axe = Axe()


def audit(page, name: str, results: dict) -> None:
    response = axe.run(page).response
    by_impact: dict[str, int] = {}
    for violation in response["violations"]:
        by_impact[violation["impact"]] = by_impact.get(violation["impact"], 0) + 1
    results[name] = {
        "violations": by_impact,
        "rules": sorted(v["id"] for v in response["violations"]),
        "passes": len(response["passes"]) if "passes" in response else None,
    }
    blocking = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in response["violations"]
        if v["impact"] in BLOCKING
    ]
    assert blocking == [], f"{name}: {blocking}"


def report(results: dict) -> None:
    print("\naxe-core results (violations by impact):")
    for name, result in results.items():
        counts = ", ".join(f"{k} {v}" for k, v in sorted(result["violations"].items())) or "none"
        print(f"  {name}: {counts} {result['rules'] or ''}")


def test_every_page_has_no_serious_or_critical_violation(
    page, log_in, sandbox, rep, rep2, manager, synced
):
    results: dict = {}
    conversation = (
        Conversation.objects.filter(owner=rep, awaiting_review=True, items_to_review__gte=3)
        .order_by("-started_at")
        .first()
    )
    item = conversation.items.filter(refreshing=False, options__isnull=True).first()

    page.goto("/accounts/login/")
    audit(page, "login", results)
    page.get_by_label("Username").fill("rep")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    audit(page, "login with an error", results)

    log_in("rep")
    audit(page, "queue", results)

    page.goto(f"/conversations/{conversation.pk}/")
    expect(page.get_by_role("heading", name=conversation.title)).to_be_visible()
    audit(page, "review (reading)", results)

    card = page.locator(f"#item-{item.pk}")
    card.get_by_role("link", name=re.compile("^Edit")).click()
    expect(card.get_by_role("textbox")).to_be_focused()
    audit(page, "review (editing)", results)
    card.get_by_role("textbox").fill("")
    card.get_by_role("button", name="Save").click()
    expect(card.get_by_role("alert")).to_contain_text("Enter a value")
    audit(page, "review (editing, with an error)", results)
    card.get_by_role("textbox").fill("Send the pricing sheet on Monday")
    card.get_by_role("button", name="Save").click()
    expect(card).to_contain_text("Send the pricing sheet on Monday")

    # Another opportunity than the AI's suggestion, and the rest accepted in one go.
    page.locator("#opportunity-form").get_by_role("radio", checked=False).first.check()
    expect(page.locator("#opportunity-form")).to_contain_text("not the AI's suggestion")
    page.get_by_role("button", name=re.compile(r"^Accept the rest")).click()
    expect(page.locator("#review-body")).to_contain_text("Accepted")
    audit(page, "review (opportunity changed, the rest accepted, sign-off pending)", results)
    # The fields that move forecasts are signed off one by one; then Confirm is enabled.
    for explicit in awaiting_sign_off(conversation):
        page.locator(f"#item-{explicit.pk}").get_by_role(
            "button", name=re.compile("^Accept AI")
        ).click()
        expect(page.locator(f"#item-{explicit.pk} .badge", has_text="Signed off")).to_be_visible()

    page.get_by_role("button", name="Confirm to CRM").click()
    expect(page.get_by_role("heading", name="Confirmed in Attention")).to_be_visible()
    audit(page, "result", results)

    page.get_by_role("button", name="Log out").click()
    log_in("manager")
    audit(page, "queue (manager, with the sync panel)", results)
    page.goto("/audit/")
    expect(page.get_by_role("heading", name="Audit ledger")).to_be_visible()
    audit(page, "audit", results)

    report(results)
    assert page.console_errors == [], "no CSP violation or script error on any page"
