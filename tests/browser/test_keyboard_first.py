"""The review page from the keyboard, in Chromium: a ten-item review done and confirmed
in at most 25 key presses (counted), keys ignored while typing, Escape and Ctrl+Enter
in the editor, the cheat sheet, focus always visible and announced; axe finds nothing
serious with the cheat sheet open or an item current."""

import re

import pytest
from playwright.sync_api import expect

from attention_review.reviews.models import Conversation
from tests.browser.test_accessibility import audit

pytestmark = pytest.mark.django_db(transaction=True)

MAX_PRESSES = 25
FOCUS_RING = """() => {
  const e = document.activeElement;
  const style = getComputedStyle(e);
  return style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
}"""


class Keyboard:
    """Presses keys on the page and counts them."""

    def __init__(self, page):
        self.page = page
        self.presses = 0

    def press(self, key: str) -> None:
        self.presses += 1
        self.page.keyboard.press(key)


@pytest.fixture
def ten_item_call(rep, synced):
    """One of rep's calls asking about exactly ten items, all of them confirmable (the
    fields that need a sign-off are the seeded ones, tests/conftest.py)."""
    for conversation in Conversation.objects.filter(owner=rep, awaiting_review=True):
        items = list(conversation.items.all())
        asking = [item for item in items if item.is_confirmable and item.needs_review]
        if len(items) == len(asking) == 10:
            return conversation
    raise AssertionError("the demo data has no ten-item call for rep")


def item_ids(page) -> list[str]:
    return page.locator("article.item").evaluate_all("items => items.map(item => item.id)")


def open_review(page, log_in, conversation):
    log_in("rep")
    page.goto(f"/conversations/{conversation.pk}/")
    expect(page.get_by_role("heading", name=conversation.title)).to_be_visible()
    expect(page.get_by_text("Press ? for keyboard shortcuts")).to_be_visible()


def test_a_ten_item_review_is_done_by_keyboard_in_at_most_25_presses(
    page, log_in, sandbox, rep, rep2, ten_item_call
):
    open_review(page, log_in, ten_item_call)
    ids = item_ids(page)
    assert len(ids) == 10
    keys = Keyboard(page)
    status = page.locator("#keyboard-status")

    # The first key lands on the first item, focused with a ring and announced.
    keys.press("j")
    expect(page.locator(f"#{ids[0]}")).to_be_focused()
    assert page.evaluate(FOCUS_RING), "the current item shows where the focus is"
    expect(status).to_contain_text(re.compile(r"item 1 of 10, .*AI proposes "))

    # One key per item: each accepts the AI's proposal and moves on to the next.
    for done, item_id in enumerate(ids, start=1):
        keys.press("a")
        expect(page.locator("#review-progress")).to_contain_text(f"Reviewed {done} of 10")
        if done < len(ids):
            expect(page.locator(f"#{ids[done]}")).to_be_focused()
            expect(status).to_contain_text(f"item {done + 1} of 10")
        expect(page.locator(f"#{item_id}").locator(".badge", has_text="Accepted")).to_be_visible()

    # Every item decided: the focus waits on Confirm, which Shift+Enter presses.
    expect(page.get_by_role("button", name="Confirm to CRM")).to_be_focused()
    keys.press("Shift+Enter")
    expect(page.get_by_role("heading", name="Confirmed in Attention")).to_be_visible()
    next_link = page.get_by_role("link", name=re.compile("^Review the next conversation"))
    expect(next_link).to_be_focused()
    href = next_link.get_attribute("href")
    keys.press("Enter")
    page.wait_for_url(f"**{href}")

    assert keys.presses <= MAX_PRESSES, keys.presses
    assert sandbox.state.confirm_calls[ten_item_call.attention_id] == 1
    (body,) = sandbox.state.confirm_bodies[ten_item_call.attention_id]
    sent = {entry["id"]: entry["value"] for entry in body["intelligence"]}
    assert sent == {item.item_id: item.ai_value for item in ten_item_call.items.all()}
    assert page.console_errors == [], "no CSP violation or script error"


def test_keys_typed_quickly_wait_their_turn(page, log_in, sandbox, rep, rep2, ten_item_call):
    open_review(page, log_in, ten_item_call)
    keys = Keyboard(page)
    for key in ["j", *"a" * 10]:
        keys.press(key)  # no waiting for the page between keys
    expect(page.locator("#review-progress")).to_contain_text("Reviewed 10 of 10")
    expect(page.locator("article.item .badge", has_text="Accepted")).to_have_count(10)
    expect(page.get_by_role("button", name="Confirm to CRM")).to_be_focused()
    assert keys.presses == 11
    assert page.locator(".conflict").count() == 0, "no key acted on a card being replaced"


def test_keys_are_ignored_while_typing_and_the_editor_answers_escape_and_ctrl_enter(
    page, log_in, sandbox, rep, rep2, ten_item_call
):
    item = next(
        item
        for item in ten_item_call.items.all()
        if isinstance(item.ai_value, str) and not item.options
    )
    open_review(page, log_in, ten_item_call)
    card = page.locator(f"#item-{item.pk}")
    card.focus()
    keys = Keyboard(page)

    # e opens the editor with the focus in its field; typing "a" there is just a letter.
    keys.press("e")
    field = card.get_by_role("textbox")
    expect(field).to_be_focused()
    keys.press("ControlOrMeta+a")
    keys.press("a")
    expect(field).to_have_value("a")
    expect(card.locator(".badge", has_text="Accepted")).to_have_count(0)
    expect(page.locator("#review-progress")).to_contain_text("Reviewed 0 of 10")

    # Escape cancels: the editor closes and nothing is decided.
    keys.press("Escape")
    expect(card.get_by_role("textbox")).to_have_count(0)
    expect(card.locator(".value-send")).to_contain_text(item.ai_value[:20])
    expect(page.locator("#review-progress")).to_contain_text("Reviewed 0 of 10")

    # Enter on the item edits too; Ctrl+Enter saves the reviewer's own value.
    card.focus()
    keys.press("Enter")
    expect(field).to_be_focused()
    keys.press("ControlOrMeta+a")
    page.keyboard.type("Send the security questionnaire by Friday")
    keys.press("ControlOrMeta+Enter")
    expect(card.locator(".badge", has_text="Your value")).to_be_visible()
    expect(card.get_by_role("textbox")).to_have_count(0)
    expect(page.locator("#review-progress")).to_contain_text("Reviewed 1 of 10")

    # x excludes the current item, and x again includes it; each is a decision, so the
    # review moves on to the next item waiting for one.
    card.focus()
    keys.press("x")
    expect(card.locator(".badge", has_text="Excluded")).to_be_visible()
    expect(card).not_to_be_focused()
    card.focus()
    keys.press("x")
    expect(card.locator(".badge", has_text="Excluded")).to_have_count(0)
    expect(card.locator(".badge", has_text="Your value")).to_be_visible()
    expect(card).not_to_be_focused()  # a decision: the review moved on
    # r resets it to the AI's proposal, and stays with it.
    card.focus()
    keys.press("r")
    expect(card).to_be_focused()
    expect(card.locator(".badge", has_text="Your value")).to_have_count(0)
    expect(page.locator("#review-progress")).to_contain_text("Reviewed 0 of 10")
    assert page.console_errors == []


def test_the_cheat_sheet_opens_with_a_question_mark_and_closes_with_escape(
    page, log_in, sandbox, rep, rep2, ten_item_call
):
    results: dict = {}
    open_review(page, log_in, ten_item_call)
    first = page.locator("article.item").first

    page.keyboard.press("j")
    expect(first).to_be_focused()
    expect(first).to_have_attribute("aria-current", "true")
    audit(page, "review (an item current)", results)

    page.keyboard.press("?")
    sheet = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(sheet).to_be_visible()
    expect(sheet).to_contain_text("Shift+Enter")
    expect(sheet.get_by_role("button", name="Close")).to_be_focused()
    # The focus is trapped in the sheet: the page behind it is inert.
    for _ in range(3):
        page.keyboard.press("Tab")
        assert page.evaluate("() => !!document.activeElement.closest('dialog')") or page.evaluate(
            "() => document.activeElement === document.body"
        )
    # Keys other than Escape do nothing behind it.
    page.keyboard.press("a")
    expect(page.locator("#review-progress")).to_contain_text("Reviewed 0 of 10")
    audit(page, "review (cheat sheet open)", results)

    page.keyboard.press("Escape")
    expect(sheet).to_be_hidden()
    expect(first).to_be_focused()

    # The hint's button opens it for a mouse too, and Close closes it.
    page.get_by_role("button", name="keyboard shortcuts").click()
    expect(sheet).to_be_visible()
    sheet.get_by_role("button", name="Close").click()
    expect(sheet).to_be_hidden()
    assert page.console_errors == []


def test_confirm_held_back_by_a_sign_off_takes_the_keyboard_to_the_field_waiting(
    page, log_in, sandbox, rep, rep2, ten_item_call
):
    open_review(page, log_in, ten_item_call)
    explicit = page.locator('article.item[data-tier="explicit"][data-decided="0"]').first
    explicit_id = explicit.get_attribute("id")
    expect(page.get_by_role("button", name="Confirm to CRM")).to_be_disabled()
    reason = page.locator("#sign-off-reason").inner_text()
    page.keyboard.press("Shift+Enter")
    # Nothing is sent; the keyboard is taken to the first field waiting, and told why.
    expect(page.locator(f"#{explicit_id}")).to_be_focused()
    expect(page.locator("#keyboard-status")).to_contain_text(reason)
    expect(page.locator("#keyboard-status")).to_contain_text("item ")
    assert sandbox.state.confirm_calls.get(ten_item_call.attention_id, 0) == 0
