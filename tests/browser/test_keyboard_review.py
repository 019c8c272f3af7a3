"""A rep completes a review with the keyboard alone: Tab, Shift+Tab, Enter, Space and
typing reach every control, in Chromium, from the login page to the confirmed result
and on to the next conversation (the page's own keys are tested in
test_keyboard_first.py). Every control reached shows a visible focus ring, and no CSP
violation or script error occurs."""

import re

import pytest
from playwright.sync_api import expect

from attention_review.reviews.models import Conversation

pytestmark = pytest.mark.django_db(transaction=True)

MAX_TABS = 250
FOCUSED = """() => {
  const e = document.activeElement;
  const style = getComputedStyle(e);
  return {
    tag: e.tagName.toLowerCase(),
    text: (e.innerText || e.value || e.getAttribute("aria-label") || "").trim(),
    href: e.getAttribute("href") || "",
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
  };
}"""


def focused(page) -> dict:
    return page.evaluate(FOCUSED)


def tab_to(page, matches, *, backwards=False) -> dict:
    """Press Tab (or Shift+Tab) until the focused element matches; returns it."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        element = focused(page)
        if matches(element):
            assert element["outline"], f"no visible focus on {element}"
            return element
    raise AssertionError(f"no focusable element matched after {MAX_TABS} presses of {key}")


def named(pattern: str):
    regex = re.compile(pattern)
    return lambda element: bool(regex.search(element["text"]))


def test_a_rep_completes_a_review_with_the_keyboard_alone(page, sandbox, rep, rep2, synced):
    conversation = (
        Conversation.objects.filter(owner=rep, awaiting_review=True, items_to_review__gte=3)
        .order_by("-started_at")
        .first()
    )
    items = list(conversation.items.filter(refreshing=False).order_by("position", "pk"))
    to_edit = next(i for i in items if isinstance(i.ai_value, str) and not i.options)
    to_exclude = next(i for i in items if i.pk != to_edit.pk)

    # Log in: the first Tab reaches the skip link, then the form.
    page.goto("/accounts/login/")
    tab_to(page, named("^Skip to content$"))
    tab_to(page, lambda e: e["tag"] == "input")
    page.keyboard.type("rep")
    page.keyboard.press("Tab")
    page.keyboard.type("correct-horse-battery")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()

    # Open the conversation from the queue.
    tab_to(page, lambda e: e["href"] == f"/conversations/{conversation.pk}/")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=conversation.title)).to_be_visible()

    # Edit an item: Enter on its Edit link opens the field with the focus in it.
    title = re.escape(to_edit.title)
    tab_to(page, named(f"^Edit\\s+{title}$"))
    page.keyboard.press("Enter")
    card = page.locator(f"#item-{to_edit.pk}")
    field = card.get_by_role("textbox")
    expect(field).to_be_focused()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("Book the security review with their CISO for Tuesday")
    tab_to(page, named("^Save$"))
    page.keyboard.press("Enter")
    expect(card).to_contain_text("Book the security review with their CISO for Tuesday")
    expect(card.locator(".badge", has_text="Your value")).to_be_visible()
    # The focus stays with the item just saved, not back at the top of the page.
    expect(card.get_by_role("link", name=re.compile("^Edit"))).to_be_focused()

    # Exclude another item with Space.
    tab_to(page, named(f"^Exclude\\s+{re.escape(to_exclude.title)}$"))
    page.keyboard.press("Space")
    other = page.locator(f"#item-{to_exclude.pk}")
    expect(other.locator(".badge", has_text="Excluded")).to_be_visible()
    expect(page.locator("#confirm-summary")).to_contain_text("Excluded: 1")

    # Decide every item still waiting with Tab and Enter on its "Accept AI" (never the
    # edited or excluded item's, which would undo what was just decided), then confirm.
    waiting = page.locator('article.item[data-decided="0"]:not(.refreshing):not(.withdrawn)')
    decided_here = (re.escape(to_edit.title), re.escape(to_exclude.title))
    not_decided_here = re.compile(f"^Accept AI\\s+proposal for\\s+(?!({'|'.join(decided_here)})$)")
    for left in reversed(range(waiting.count())):
        tab_to(page, lambda e: bool(not_decided_here.search(e["text"])))
        page.keyboard.press("Enter")
        expect(waiting).to_have_count(left)
    # The last decision released Confirm (the panel is swapped with the card).
    expect(page.get_by_role("button", name="Confirm to CRM")).to_be_enabled()
    tab_to(page, named("^Confirm to CRM$"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Confirmed in Attention")).to_be_visible()

    assert sandbox.state.confirm_calls[conversation.attention_id] == 1
    (body,) = sandbox.state.confirm_bodies[conversation.attention_id]
    sent = {entry["id"]: entry["value"] for entry in body["intelligence"]}
    assert sent[to_edit.item_id] == "Book the security review with their CISO for Tuesday"
    assert to_exclude.item_id not in sent

    # And on to the next conversation: the focus is already on its link.
    next_link = page.get_by_role("link", name=re.compile("^Review the next conversation"))
    expect(next_link).to_be_focused()
    assert focused(page)["outline"], "the link shows the focus"
    href = next_link.get_attribute("href")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{href}")
    assert page.console_errors == [], "no CSP violation or script error"
