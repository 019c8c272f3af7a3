"""Triage on the review queue: search, filters and sort in the URL, the draft marker,
review deadlines and their badges, and a manager's overdue figures per rep."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from attention_review.reviews.deadlines import (
    DeadlineState,
    age_badge,
    deadline_for,
    deadline_state,
    due_soon_from,
    is_overdue,
)
from attention_review.reviews.fragment_cache import data_changed
from attention_review.reviews.models import Conversation
from attention_review.reviews.selectors.queue import overdue_by_rep
from tests.factories import make_conversation, make_item, make_team

pytestmark = pytest.mark.django_db

QUEUE = reverse("reviews:queue")
HTMX = {"HX-Request": "true"}


def titles_on(response) -> list[str]:
    return [conversation.title for conversation in response.context["page"].object_list]


def ago(**span) -> datetime:
    return timezone.now() - timedelta(**span)


def call(*, items_to_review: int = 1, **fields) -> Conversation:
    """A conversation awaiting review with this many items to review."""
    conversation = make_conversation(**fields)
    Conversation.objects.filter(pk=conversation.pk).update(items_to_review=items_to_review)
    return conversation


@pytest.fixture
def calls(rep, rep2):
    """The rep's calls with known titles, accounts, people, ages and item counts, and one
    of another rep's that must never show."""
    return {
        "acme": call(
            owner=rep,
            title="Discovery with Acme",
            account_name="Acme Corporation",
            people_text="jane doe jane@acme.test\nriley park rep@attention-demo.test",
            external_opportunity_title="Acme - Platform",
            external_opportunity_id="006ACME",
            started_at=ago(hours=2),
            items_to_review=3,
        ),
        "globex": call(
            owner=rep,
            title="Pricing call",
            account_name="Globex",
            people_text="hank scorpio hank@globex.test",
            external_opportunity_title="Globex - Expansion",
            started_at=ago(days=3),
            items_to_review=7,
        ),
        "initech": call(
            owner=rep,
            title="Security review",
            account_name="Initech",
            people_text="bill lumbergh bill@initech.test",
            started_at=ago(days=10),
            items_to_review=1,
        ),
        "others": make_conversation(
            owner=rep2, title="Acme follow-up by someone else", account_name="Acme Corporation"
        ),
    }


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("discovery", ["Discovery with Acme"]),  # the title, in any case
        ("GLOBEX", ["Pricing call"]),  # the account
        ("Lumbergh", ["Security review"]),  # a participant's name
        ("hank@globex", ["Pricing call"]),  # a participant's email
        ("acme jane", ["Discovery with Acme"]),  # every word, in any of them
        ("acme hank", []),
    ],
)
def test_search_finds_title_account_and_people(login, rep, calls, search, expected):
    response = login(rep).get(QUEUE, {"q": search})
    assert titles_on(response) == expected


def test_the_sync_keeps_the_people_on_a_call_for_the_search(login, rep, synced):
    conversation = Conversation.objects.filter(
        owner=rep, awaiting_review=True, participant_count__gt=1
    ).first()
    guest = next(
        person
        for person in conversation.raw["attributes"]["participants"]
        if person["email"] != rep.email
    )
    assert guest["email"].lower() in conversation.people_text
    assert guest["name"].lower() in conversation.people_text
    assert conversation.account_name == ""  # Attention names no account: left blank
    response = login(rep).get(QUEUE, {"q": guest["name"].upper()})
    assert conversation.title in titles_on(response)
    assert all(guest["email"].lower() in c.people_text for c in response.context["page"])


def test_waiting_longer_than_keeps_the_older_calls(login, rep, calls):
    client = login(rep)
    assert titles_on(client.get(QUEUE, {"waiting": "2"})) == ["Pricing call", "Security review"]
    assert titles_on(client.get(QUEUE, {"waiting": "5"})) == ["Security review"]


def test_has_a_draft_keeps_the_calls_with_my_unsaved_text_and_marks_them(login, rep, rep2, calls):
    make_item(calls["globex"], draft_text="Budget is 40k", draft_by=rep)
    make_item(calls["initech"], draft_text="", draft_by=rep)  # an emptied draft is none
    make_item(calls["acme"], draft_text="Someone else's words", draft_by=rep2)
    client = login(rep)
    everything = client.get(QUEUE).content.decode()
    assert everything.count("Your draft in progress") == 1
    row = everything.split("Pricing call", 1)[1].split("</tr>", 1)[0]
    assert "Your draft in progress" in row
    response = client.get(QUEUE, {"draft": "on"})
    assert titles_on(response) == ["Pricing call"]


def test_opportunity_filter_matches_its_name_or_id(login, rep, calls):
    client = login(rep)
    assert titles_on(client.get(QUEUE, {"opportunity": "expansion"})) == ["Pricing call"]
    assert titles_on(client.get(QUEUE, {"opportunity": "006ACME"})) == ["Discovery with Acme"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("newest", ["Discovery with Acme", "Pricing call", "Security review"]),
        ("oldest", ["Security review", "Pricing call", "Discovery with Acme"]),
        ("items", ["Pricing call", "Discovery with Acme", "Security review"]),
    ],
)
def test_each_sort(login, rep, calls, sort, expected):
    assert titles_on(login(rep).get(QUEUE, {"sort": sort})) == expected


def test_the_rows_show_account_opportunity_age_and_items(login, rep, calls):
    html = login(rep).get(QUEUE).content.decode()
    row = html.split("Pricing call", 1)[1].split("</tr>", 1)[0]
    assert "Globex" in row
    assert "Globex - Expansion" in row
    assert "7 items" in row
    assert "Overdue by 1 d" in row  # three days old, due after two


def test_the_filters_live_in_the_url_and_the_pager_keeps_them(login, rep, calls, settings):
    settings.QUEUE_PAGE_SIZE = 1
    client = login(rep)
    response = client.get(QUEUE, {"waiting": "1", "sort": "oldest"})
    assert titles_on(response) == ["Security review"]
    html = response.content.decode()
    assert 'href="?waiting=1&amp;sort=oldest&amp;page=2"' in html
    assert "Next →" in html
    form = response.context["form"]
    assert form["waiting"].value() == "1"  # the form shows what the URL asks for
    second = client.get(QUEUE, {"waiting": "1", "sort": "oldest", "page": "2"})
    assert titles_on(second) == ["Pricing call"]


def test_htmx_gets_only_the_filtered_list(login, rep, calls):
    response = login(rep).get(QUEUE, {"q": "globex"}, headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="queue"')
    assert "Pricing call" in html
    assert "Discovery with Acme" not in html
    assert "HX-Request" in response["Vary"]


def test_an_invalid_filter_is_named_and_the_others_still_apply(login, rep, calls):
    response = login(rep).get(QUEUE, {"waiting": "three", "q": "globex"})
    html = response.content.decode()
    assert "Waiting more than (days): Enter a whole number of days, such as 3." in html
    assert "This filter was left out; the others apply." in html
    assert titles_on(response) == ["Pricing call"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"waiting": "0"}, "Enter at least 1 day."),
        ({"sort": "loudest"}, "Sort by newest, oldest or most items."),
        ({"q": "x" * 201}, "Search for at most 200 characters."),
    ],
)
def test_each_invalid_value_says_what_to_do(login, rep, calls, query, message):
    response = login(rep).get(QUEUE, query)
    assert message in response.content.decode()
    assert titles_on(response) == ["Discovery with Acme", "Pricing call", "Security review"]


def test_htmx_shows_the_invalid_value_message_in_the_list_it_swaps(login, rep, calls):
    response = login(rep).get(QUEUE, {"waiting": "-2", "q": "globex"}, headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="queue"')
    assert "Enter at least 1 day." in html
    assert "Pricing call" in html


def test_a_sort_alone_is_the_whole_queue_reordered(login, rep, calls):
    html = login(rep).get(QUEUE, {"sort": "oldest"}).content.decode()
    assert "3 conversations awaiting review</p>" in html
    filtered = login(rep).get(QUEUE, {"sort": "oldest", "waiting": "2"}).content.decode()
    assert "2 conversations awaiting review match these filters" in filtered


def test_filters_that_match_nothing_say_so_and_offer_to_clear_them(login, rep, calls):
    html = login(rep).get(QUEUE, {"q": "nobody-has-this"}).content.decode()
    assert "Nothing matches these filters" in html
    assert "Clear the filters" in html
    assert "Every conversation has been confirmed" not in html


# Deadlines -----------------------------------------------------------------------------

STARTED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def deadline_settings(settings):
    settings.REVIEW_DEADLINE_HOURS = 48
    settings.REVIEW_DUE_SOON_HOURS = 12


def test_the_deadline_is_the_start_plus_the_setting(deadline_settings, settings):
    assert deadline_for(STARTED) == datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    assert due_soon_from(STARTED) == datetime(2026, 11, 21, 21, 0, tzinfo=UTC)
    settings.REVIEW_DEADLINE_HOURS = 24
    assert deadline_for(STARTED) == datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "state", "text", "tone"),
    [
        # One second before it is due soon: the plain age.
        (datetime(2026, 11, 21, 20, 59, 59, tzinfo=UTC), DeadlineState.ON_TIME, "1 d", ""),
        # Exactly when it becomes due soon.
        (datetime(2026, 11, 21, 21, 0, tzinfo=UTC), DeadlineState.DUE_SOON, "Due in 12 h", "warn"),
        (datetime(2026, 11, 22, 4, 0, tzinfo=UTC), DeadlineState.DUE_SOON, "Due in 5 h", "warn"),
        # At the deadline itself: due, not yet overdue.
        (datetime(2026, 11, 22, 9, 0, tzinfo=UTC), DeadlineState.DUE_SOON, "Due now", "warn"),
        # One second after it.
        (
            datetime(2026, 11, 22, 9, 0, 1, tzinfo=UTC),
            DeadlineState.OVERDUE,
            "Overdue by 1 min",
            "bad",
        ),
        (datetime(2026, 11, 23, 10, 0, tzinfo=UTC), DeadlineState.OVERDUE, "Overdue by 1 d", "bad"),
    ],
)
def test_badges_at_the_boundary_times(deadline_settings, now, state, text, tone):
    assert deadline_state(STARTED, now) is state
    assert is_overdue(STARTED, now) is (state is DeadlineState.OVERDUE)
    badge = age_badge(STARTED, now)
    assert (badge.text, badge.tone) == (text, tone)


def test_the_queue_shows_each_badge_in_words_and_colour(login, rep, deadline_settings):
    make_conversation(owner=rep, title="Fresh", started_at=ago(hours=30))
    make_conversation(owner=rep, title="Soon", started_at=ago(hours=40, minutes=30))
    make_conversation(owner=rep, title="Late", started_at=ago(hours=50, minutes=30))
    html = login(rep).get(QUEUE).content.decode()

    def waiting_cell(title: str) -> str:
        row = html.split(f">{title}</a>", 1)[1].split("</tr>", 1)[0]
        return row.split('data-label="Waiting">', 1)[1].split("</td>", 1)[0]

    assert waiting_cell("Fresh") == "1 d"
    assert waiting_cell("Soon") == '<span class="badge warn">Due in 7 h</span>'
    assert waiting_cell("Late") == '<span class="badge bad">Overdue by 2 h</span>'


def test_overdue_figures_per_rep_agree_with_the_rule_at_the_deadline(
    manager, rep, rep2, deadline_settings
):
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    deadline_ago = now - timedelta(hours=48)
    make_conversation(owner=rep, started_at=deadline_ago)  # due now: not overdue
    make_conversation(owner=rep, started_at=deadline_ago - timedelta(seconds=1))  # overdue
    make_conversation(owner=rep2, started_at=now - timedelta(hours=1))
    make_conversation(owner=None, started_at=deadline_ago - timedelta(days=1))
    figures = {
        (line.name, line.awaiting, line.overdue) for line in overdue_by_rep(manager, now=now)
    }
    assert figures == {("Riley Park", 2, 1), ("Sam Ortega", 1, 0), ("No app account", 1, 1)}


def test_a_manager_sees_overdue_counts_only_for_the_reps_of_their_teams(
    login, manager, rep, rep2, deadline_settings
):
    mine, theirs = make_team("West"), make_team("East")
    mine.managers.add(manager)
    make_conversation(owner=rep, team=mine, started_at=ago(days=5))
    make_conversation(owner=rep, team=mine, started_at=ago(days=4))
    make_conversation(owner=rep, team=mine, started_at=ago(hours=1))
    make_conversation(owner=rep2, team=theirs, started_at=ago(days=9))
    response = login(manager).get(QUEUE)
    html = response.content.decode()
    summary = html.split('id="backlog-title"', 1)[1].split("</section>", 1)[0]
    assert "Riley Park" in summary
    assert "Sam Ortega" not in summary
    row = summary.split("Riley Park", 1)[1].split("</tr>", 1)[0]
    assert ">3<" in row
    assert "2 overdue" in row


def test_a_rep_sees_no_summary_of_other_reps(login, rep, calls):
    html = login(rep).get(QUEUE).content.decode()
    assert "Overdue by rep" not in html


def test_the_account_column_shows_only_when_a_call_on_the_page_names_one(login, rep, calls):
    client = login(rep)
    assert ">Account</th>" in client.get(QUEUE).content.decode()
    Conversation.objects.update(account_name="")
    data_changed()  # as the sync that would change the accounts does
    assert ">Account</th>" not in client.get(QUEUE).content.decode()
