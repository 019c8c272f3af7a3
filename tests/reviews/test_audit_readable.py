"""The audit a manager can read: changed items by default and all on request, failed
attempts without a "value sent", filter menus scoped to the manager's teams and naming
fields by title, and a CSV that opens cleanly and safely in a spreadsheet."""

import csv
import html
import io
import re

import pytest
from django.urls import reverse

from attention_review.reviews.models import ConfirmationAttempt
from tests.factories import make_attempt, make_conversation, make_team

pytestmark = pytest.mark.django_db

AUDIT = reverse("reviews:audit")
EXPORT = reverse("reviews:audit-export")
HTMX = {"HX-Request": "true"}


def article(page: str, attempt: ConfirmationAttempt) -> str:
    """The HTML of one attempt's card on the ledger."""
    found = re.search(rf'<article[^>]*id="attempt-{attempt.pk}".*?</article>', page, re.S)
    assert found, f"attempt {attempt.pk} is not on the page"
    return found.group(0)


def rows_of(card: str) -> list[str]:
    """The field names of the item rows a card lists."""
    cells = re.findall(r'<th scope="row">(.*?)</th>', card, re.S)
    texts = [re.sub(r"<[^>]+>", "", cell) for cell in cells]
    return [re.sub(r"\s+(Edited|Excluded|CRM value kept)\b", "", text).strip() for text in texts]


def options(page: str, name: str) -> list[tuple[str, str]]:
    """(value, label) of each option of a filter menu."""
    menu = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert menu, f"no {name} menu"
    return [
        (value, html.unescape(label).strip())
        for value, label in re.findall(
            r'<option value="([^"]*)"[^>]*>(.*?)</option>', menu.group(1)
        )
    ]


def link_named(card: str, text: str) -> str:
    """The href of the card's link whose text starts with `text`."""
    found = re.search(rf'<a href="([^"]+)"[^>]*>{re.escape(text)}', card)
    assert found, f"no link {text!r}"
    return html.unescape(found.group(1))


@pytest.fixture
def reviewed(rep):
    """One confirmation with six items: three changed (an edit, an exclusion, the CRM's
    value kept instead of the AI's), three sent as proposed."""
    call = make_conversation(owner=rep, title="Acme discovery", awaiting=False)
    return make_attempt(
        conversation=call,
        user=rep,
        items=[
            ("next_steps", "Send the proposal", "Send the signed proposal", True, False),
            ("competitors", "Gong", None, False, True),
            ("amount", 50000, 42000, False, False),  # the CRM's value kept
            ("budget_discussed", True, True, False, False),
            ("stage", "Proposal", "Proposal", False, False),
            ("close_date", "2026-12-01", "2026-12-01", False, False),
        ],
    )


def test_an_attempt_lists_only_its_changed_items_by_default(login, manager, reviewed):
    page = login(manager).get(AUDIT).content.decode()
    card = article(page, reviewed)
    assert rows_of(card) == ["Next Steps", "Competitors", "Amount"]
    assert "Show all 6 items" in card


def test_a_kept_crm_value_is_named_as_such(login, manager, reviewed):
    reviewed.items.create(
        item_id="kept",
        key="forecast_category",
        title="Forecast Category",
        ai_value="Commit",
        sent_value="Best case",
        choice="keep",
    )
    card = article(login(manager).get(AUDIT).content.decode(), reviewed)
    assert "Forecast Category" in rows_of(card)
    assert "CRM value kept" in card


def test_show_all_lists_every_item_and_keeps_the_filters_in_the_url(login, manager, rep, reviewed):
    client = login(manager)
    filtered = client.get(AUDIT, {"rep": rep.pk}).content.decode()
    show_all = link_named(article(filtered, reviewed), "Show all 6 items")
    assert f"expand={reviewed.pk}" in show_all
    assert f"rep={rep.pk}" in show_all, "the filters stay in the URL"

    # Without JavaScript the link is a plain page load of the same ledger.
    page = client.get(AUDIT + show_all.split("#")[0]).content.decode()
    card = article(page, reviewed)
    assert rows_of(card) == [
        "Next Steps",
        "Competitors",
        "Amount",
        "Budget Discussed",
        "Stage",
        "Close Date",
    ]
    back = link_named(card, "Show changed items only (3)")
    assert f"expand={reviewed.pk}" not in back
    assert rows_of(article(client.get(AUDIT + back.split("#")[0]).content.decode(), reviewed)) == [
        "Next Steps",
        "Competitors",
        "Amount",
    ]

    # htmx asks for the same URL and swaps the attempt's card from the ledger it gets.
    fragment = client.get(AUDIT + show_all.split("#")[0], headers=HTMX).content.decode()
    assert "<html" not in fragment
    assert len(rows_of(article(fragment, reviewed))) == 6


def test_an_attempt_with_nothing_changed_says_so_in_one_line(login, manager, rep):
    call = make_conversation(owner=rep, title="Quiet call", awaiting=False)
    attempt = make_attempt(
        conversation=call,
        user=rep,
        items=[("stage", "Proposal", "Proposal", False, False), ("amount", 5, 5, False, False)],
    )
    card = article(login(manager).get(AUDIT).content.decode(), attempt)
    assert rows_of(card) == []
    assert "No changes: 2 items sent as the AI proposed." in card
    assert "Show all 2 items" in card


def test_a_failed_attempt_has_no_value_sent_and_says_nothing_was_written(login, manager, rep):
    call = make_conversation(owner=rep, title="Globex renewal", awaiting=False)
    failed = make_attempt(
        conversation=call,
        user=rep,
        outcome=ConfirmationAttempt.Outcome.FAILED,
        items=[("next_steps", "Call back", "Call back on Monday", True, False)],
    )
    confirmed = make_attempt(
        conversation=call,
        user=rep,
        items=[("next_steps", "Call back", "Call back on Monday", True, False)],
    )
    page = login(manager).get(AUDIT).content.decode()
    failed_card = article(page, failed)
    assert "Nothing was written to the CRM" in failed_card
    assert "Value sent" not in failed_card
    assert "Call back on Monday" not in failed_card
    assert rows_of(failed_card) == ["Next Steps"]
    confirmed_card = article(page, confirmed)
    assert "Value sent" in confirmed_card
    assert "Nothing was written" not in confirmed_card


def test_a_managers_menus_list_only_the_people_and_fields_of_their_teams(
    login, manager, rep, rep2, outsider
):
    east, west = make_team("East"), make_team("West")
    east.managers.add(manager)
    east_call = make_conversation(owner=rep, team=east, awaiting=False)
    west_call = make_conversation(owner=rep2, team=west, awaiting=False)
    # Someone outside the teams confirmed a West call: not in the manager's menu either.
    make_attempt(conversation=west_call, user=outsider, items=[("west_only", 1, 1, False, False)])
    make_attempt(conversation=west_call, user=rep2, items=[("stage", "a", "a", False, False)])
    older = make_attempt(conversation=east_call, user=rep, items=[("stage", "a", "b", True, False)])
    newer = make_attempt(
        conversation=east_call, user=rep, items=[("budget_discussed", True, False, True, False)]
    )
    # The latest title seen for a key names it in the menu.
    for attempt, title in ((older, "budget discussed (old)"), (newer, "Budget Discussed")):
        attempt.items.create(item_id=f"extra-{attempt.pk}", key="budget_discussed", title=title)

    page = login(manager).get(AUDIT).content.decode()
    assert options(page, "rep") == [("", "All reps"), (str(rep.pk), "Riley Park")]
    assert options(page, "team") == [("", "All teams"), (str(east.pk), "East")]
    assert options(page, "field") == [
        ("", "All fields"),
        ("budget_discussed", "Budget Discussed"),
        ("stage", "Stage"),
    ]
    assert "west_only" not in page


def test_an_admin_sees_every_rep_in_the_menu(login, admin_user, rep, rep2):
    call = make_conversation(owner=rep, awaiting=False)
    make_attempt(conversation=call, user=rep, items=[("stage", "a", "a", False, False)])
    page = login(admin_user).get(AUDIT).content.decode()
    names = [label for _, label in options(page, "rep")]
    assert rep.get_full_name() in names
    assert rep2.get_full_name() in names


# The CSV ------------------------------------------------------------------------------

UNSAFE = [
    "=1+1",
    "+1",
    "-1+2",
    "@SUM(A1)",
    "\tTab first",
    "\rReturn first",
    "   =after spaces",
    "\uff1dfull-width equals",
    "\uff0bfull-width plus",
    "\uff0dfull-width minus",
    "\uff20full-width at",
]


@pytest.fixture
def exported(login, manager, rep, django_user_model):
    nameless = django_user_model.objects.create_user("jdoe", password="x")
    call = make_conversation(owner=rep, title="Café Zoë", awaiting=False)
    make_attempt(
        conversation=call,
        user=rep,
        items=[
            ("amount", 50000, 42000.5, True, False),
            ("discount", -1200, -15, True, False),
            *[(f"unsafe_{n}", "fine", text, True, False) for n, text in enumerate(UNSAFE)],
        ],
    )
    make_attempt(conversation=call, user=nameless, items=[("stage", "a", "a", False, False)])
    response = login(manager).get(EXPORT)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return b"".join(response.streaming_content)


def test_the_csv_starts_with_a_byte_order_mark_for_excel(exported):
    assert exported.startswith(b"\xef\xbb\xbfattempt_id,")
    assert "Café Zoë".encode() in exported


def test_the_csv_names_people_by_full_name_or_else_username(exported, rep):
    rows = list(csv.DictReader(io.StringIO(exported.decode("utf-8-sig"))))
    assert {row["confirmed_by"] for row in rows} == {rep.get_full_name(), "jdoe"}


def test_the_csv_writes_numbers_as_numbers_negative_ones_too(exported):
    lines = exported.decode("utf-8-sig").splitlines()
    amount = next(line for line in lines if ",amount," in line)
    discount = next(line for line in lines if ",discount," in line)
    assert amount.endswith(",50000,42000.5,yes,no"), "no quotes, no apostrophe"
    assert discount.endswith(",-1200,-15,yes,no"), "a negative number stays a number"


def test_the_csv_neutralises_every_unsafe_start(exported):
    rows = list(csv.DictReader(io.StringIO(exported.decode("utf-8-sig"), newline="")))
    sent = {row["field_key"]: row["sent_value"] for row in rows}
    for n, text in enumerate(UNSAFE):
        assert sent[f"unsafe_{n}"] == "'" + text, text
