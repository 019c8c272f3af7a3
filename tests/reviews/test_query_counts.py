"""Pinned queries: the pages a rep opens all day make exactly these queries, whatever
the number of rows. A new query fails the test with its description in the diff."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from attention_review.reviews.models import Conversation, SpotCheck
from tests.factories import make_attempt, make_conversation, make_team
from tests.queries import queries_of
from tests.reviews.test_confirm import confirm, edit_and_exclude

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _every_page_rendered_afresh(settings):
    """The counts are those of a render: a repeat view served by the fragment cache
    reads less (pinned in test_fragment_cache.py)."""
    settings.FRAGMENT_CACHE = False


HTMX = {"HX-Request": "true"}

SESSION = "SELECT django_session"
USER = "SELECT auth_user"
ROLE = "SELECT auth_group auth_user_groups reviews_team_managers"


@pytest.fixture
def conversation(synced, rep):
    return Conversation.objects.filter(owner=rep, awaiting_review=True).first()


def test_rep_queue_makes_five_queries(login, rep, synced):
    client = login(rep)
    assert queries_of(lambda: client.get(reverse("reviews:queue"))) == [
        SESSION,
        USER,
        ROLE,
        # The page of rows, owners joined, each row's "your draft" marker an EXISTS.
        "SELECT reviews_intelligenceitem reviews_conversation auth_user",
        "SELECT reviews_conversation",  # the rep's failed exports (a partial index)
    ]


def test_a_searched_and_filtered_queue_reads_the_same_whatever_the_rows(login, rep, synced):
    """The search words, the waiting filter and the sort are conditions of the one page
    query (and of its capped count): twice as many matching calls read the same."""

    def matching_calls(count: int) -> None:
        for number in range(count):
            make_conversation(
                owner=rep,
                title=f"Demo call {number}",
                started_at=timezone.now() - timedelta(days=3),
            )

    client = login(rep)
    query = {"q": "demo call", "waiting": "1", "sort": "items"}
    matching_calls(30)  # more than a page
    client.get(reverse("reviews:queue"), query)  # the role, read once and cached
    expected = [
        SESSION,
        USER,
        "SELECT reviews_intelligenceitem reviews_conversation auth_user",
        "COUNT reviews_conversation",  # capped: reads at most QUEUE_COUNT_CAP + 1 rows
        "SELECT reviews_conversation",  # the rep's failed exports
    ]
    assert queries_of(lambda: client.get(reverse("reviews:queue"), query)) == expected
    matching_calls(30)
    assert queries_of(lambda: client.get(reverse("reviews:queue"), query)) == expected


def test_manager_queue_adds_the_capped_count_and_the_sync_panel(login, manager, synced):
    client = login(manager)
    first_page = [
        SESSION,
        USER,
        ROLE,
        "SELECT reviews_intelligenceitem reviews_conversation auth_user",
        "COUNT reviews_conversation",  # capped: reads at most QUEUE_COUNT_CAP + 1 rows
        "SELECT reviews_conversation auth_user",  # awaiting and overdue per rep, aggregated
        "SELECT reviews_syncrun",
    ]
    assert queries_of(lambda: client.get(reverse("reviews:queue"))) == first_page
    # The role is cached after the first page.
    second_page = [query for query in first_page if query != ROLE]
    assert queries_of(lambda: client.get(reverse("reviews:queue"), {"page": 2})) == second_page


def test_review_page_queries_do_not_depend_on_the_number_of_items(login, rep, conversation):
    client = login(rep)
    url = reverse("reviews:review", args=[conversation.pk])
    client.get(url)  # the first open records when the review started (and reads the role)
    expected = [
        SESSION,
        USER,
        # The few columns the cache key needs (scope, lock and its holder), then, the page
        # being rendered, the whole conversation. The review lock was taken by the first
        # open and has most of its time left: no write (test_review_lock.py checks it).
        "SELECT reviews_conversation auth_user",
        "SELECT reviews_conversation auth_user reviews_team",
        "SELECT reviews_intelligenceitem",
        "SELECT reviews_fieldsetting",  # risk tiers and how values read, for all items
        "SELECT reviews_attentionuser",  # our email domains: the sides of the quotes
        # What earlier calls of the opportunity confirmed: a few rows per field at most.
        "SELECT reviews_confirmeditem reviews_confirmationattempt reviews_conversation",
        "SELECT reviews_confirmationattempt auth_user",  # the latest attempt
    ]
    assert queries_of(lambda: client.get(url)) == expected
    extra = conversation.items.first()
    for n in range(5):
        extra.pk = None
        extra.item_id = f"extra-{n}"
        extra.save()
    earlier_calls_of_the_opportunity(conversation, rep, count=6)
    page = client.get(url)
    assert any(item.field_history for item in page.context["groups"][0].items)
    assert queries_of(lambda: client.get(url)) == expected


def earlier_calls_of_the_opportunity(conversation, rep, *, count):
    """`count` other calls of the conversation's opportunity, each confirmed with a value
    for every one of its fields."""
    keys = list(conversation.items.values_list("key", flat=True))
    for _ in range(count):
        make_attempt(
            conversation=make_conversation(owner=rep, awaiting=False),
            user=rep,
            items=[(key, "AI value", "Confirmed value", False, False) for key in keys],
            opportunity_id=conversation.opportunity_id,
        )


def test_item_save_makes_a_fixed_set_of_queries(login, rep, conversation):
    client = login(rep)
    item = conversation.items.filter(refreshing=False, options__isnull=True).first()
    url = reverse("reviews:item", args=[conversation.pk, item.pk])
    assert queries_of(lambda: client.post(url, {"value": "New value"}, headers=HTMX)) == [
        SESSION,
        USER,
        ROLE,  # read once, then cached for a while
        "SELECT reviews_intelligenceitem reviews_conversation auth_user reviews_team",
        "SELECT reviews_confirmationattempt reviews_conversation",  # the round lock
        "UPDATE reviews_conversation",  # the review lock: a decision renews the holder's
        "UPDATE reviews_intelligenceitem",
        # The card and the progress (swapped out of band) read from one list of items.
        "SELECT reviews_intelligenceitem",
        "SELECT reviews_fieldsetting",  # risk tiers (the sign-off) and how values read
        "SELECT reviews_attentionuser",  # our email domains: the sides of the quotes
        "SELECT reviews_confirmeditem reviews_confirmationattempt reviews_conversation",
        "SELECT reviews_confirmationattempt auth_user",  # the Confirm button's wording
    ]


def confirmed_calls(client, rep, count):
    """Confirm `count` of the rep's calls, each with an edit and an exclusion."""
    for conversation in Conversation.objects.filter(owner=rep, awaiting_review=True)[:count]:
        edit_and_exclude(client, conversation)
        confirm(client, conversation)


def test_my_confirmations_queries_do_not_grow_with_the_history(login, rep, synced):
    client = login(rep)
    confirmed_calls(client, rep, 1)
    client.get(reverse("reviews:my-confirmations"))  # reads and caches the role
    expected = [
        SESSION,
        USER,
        "SELECT reviews_confirmationattempt reviews_conversation",
        "SELECT reviews_confirmeditem",  # every attempt's items, in one query
    ]
    assert queries_of(lambda: client.get(reverse("reviews:my-confirmations"))) == expected
    confirmed_calls(client, rep, 3)
    assert queries_of(lambda: client.get(reverse("reviews:my-confirmations"))) == expected


def test_audit_queries_do_not_grow_with_the_ledger(login, rep, manager, synced):
    confirmed_calls(login(rep), rep, 1)
    client = login(manager)
    client.get(reverse("reviews:audit"))
    expected = [
        SESSION,
        USER,
        "SELECT reviews_team",
        # (The rep and field menus are cached: read on the first visit only.)
        "SELECT reviews_confirmationattempt reviews_conversation reviews_team auth_user",
        "SELECT reviews_confirmeditem",  # every item; which are changed is decided in Python
        "SELECT reviews_confirmationattempt",  # the summary, aggregated in one pass
    ]
    assert queries_of(lambda: client.get(reverse("reviews:audit"))) == expected
    confirmed_calls(login(rep), rep, 3)
    client = login(manager)
    client.get(reverse("reviews:audit"))
    assert queries_of(lambda: client.get(reverse("reviews:audit"))) == expected


def test_audit_of_a_team_manager_with_every_item_shown_and_its_csv_stay_constant(
    login, rep, manager
):
    team = make_team("East")
    team.managers.add(manager)
    call = make_conversation(owner=rep, team=team, awaiting=False)
    items = [("stage", "a", "b", True, False), ("amount", 1, 1, False, False)]
    attempts = [make_attempt(conversation=call, user=rep, items=items)]
    client = login(manager)
    audit, export = reverse("reviews:audit"), reverse("reviews:audit-export")
    # Reads the role and the menus, all cached: the rep menu, scoped, is who owns or
    # confirmed a call of the manager's teams.
    client.get(audit)
    page = [
        SESSION,
        USER,
        "SELECT reviews_team",
        "SELECT reviews_confirmationattempt reviews_conversation reviews_team auth_user",
        "SELECT reviews_confirmeditem",
        "SELECT reviews_confirmationattempt reviews_conversation",  # the summary, scoped
    ]
    csv = [
        SESSION,
        USER,
        "SELECT reviews_team",
        # Every row in one streamed query: items, attempts, people, calls and teams.
        "SELECT reviews_confirmeditem reviews_confirmationattempt auth_user reviews_conversation "
        "reviews_team",
    ]

    def every_item_shown():
        return client.get(audit, {"expand": [attempt.pk for attempt in attempts]})

    def csv_read():
        response = client.get(export)
        b"".join(response.streaming_content)
        return response

    assert queries_of(every_item_shown) == page
    assert queries_of(csv_read) == csv
    attempts += [make_attempt(conversation=call, user=rep, items=items) for _ in range(10)]
    assert queries_of(every_item_shown) == page
    assert queries_of(csv_read) == csv


def test_problems_page_makes_three_queries_of_its_own(login, manager, synced):
    client = login(manager)
    client.get(reverse("reviews:problems"))
    assert queries_of(lambda: client.get(reverse("reviews:problems"))) == [
        SESSION,
        USER,
        "SELECT reviews_syncrun",
        "SELECT reviews_setasiderecord",
        "SELECT reviews_confirmationattempt reviews_conversation auth_user",
    ]


def test_draft_autosave_makes_a_fixed_set_of_queries(login, rep, conversation):
    client = login(rep)
    item = conversation.items.filter(refreshing=False, options__isnull=True).first()
    url = reverse("reviews:item-draft", args=[conversation.pk, item.pk])
    data = {"value": "Half a thought", "version": item.version}
    assert queries_of(lambda: client.post(url, data, headers=HTMX)) == [
        SESSION,
        USER,
        ROLE,
        "SELECT reviews_intelligenceitem reviews_conversation auth_user reviews_team",
        "SELECT reviews_confirmationattempt reviews_conversation",  # the round lock
        "UPDATE reviews_conversation",  # the review lock: typing renews the holder's
        "UPDATE reviews_intelligenceitem",  # the draft; the answer is one line, no query
    ]


def accuracy_history(rep, count):
    """`count` confirmations of three fields: one edited with a reason, one sent as
    proposed, one excluded; each edit a new AI → sent pair."""
    call = make_conversation(owner=rep, awaiting=False)
    for n in range(count):
        make_attempt(
            conversation=call,
            user=rep,
            items=[
                ("next_steps", f"AI step {n}", f"Rep step {n}", True, False),
                ("budget", "$10k", "$10k", False, False),
                ("competitors", "Gong", None, False, True),
            ],
            reasons={"next_steps": "wrong_value", "competitors": "not_discussed"},
        )


def test_accuracy_queries_do_not_grow_with_the_items(login, rep, manager):
    accuracy_history(rep, 1)
    client = login(manager)
    url = reverse("reviews:accuracy")
    client.get(url)
    expected = [
        SESSION,
        USER,
        "SELECT reviews_team",  # (the rep and field menus: cached after the first visit)
        "SELECT reviews_confirmeditem reviews_confirmationattempt",  # per field, grouped
        "SELECT reviews_confirmeditem",  # each field's latest title
        "SELECT reviews_confirmeditem reviews_confirmationattempt",  # reasons, grouped
        "SELECT reviews_confirmeditem reviews_confirmationattempt",  # top edits, ranked
        "SELECT reviews_confirmeditem reviews_confirmationattempt",  # per week, grouped
    ]
    assert queries_of(lambda: client.get(url)) == expected
    accuracy_history(rep, 12)
    page = client.get(url)
    assert page.context["report"].fields[0].total == 13
    assert queries_of(lambda: client.get(url)) == expected


def test_spot_check_pages_do_not_grow_with_the_history_or_the_sample(login, rep, manager):
    accuracy_history(rep, 2)
    client = login(manager)
    overview = reverse("reviews:spot-checks")
    client.post(overview, {"rep": rep.pk, "size": 2})
    client.get(overview)
    expected_overview = [
        SESSION,
        USER,
        # (The rep menu is cached after the first visit.)
        "SELECT reviews_confirmationattempt",  # the audit's per-rep summary, one pass
        "SELECT reviews_spotcheck reviews_spotcheckitem",  # agreement per rep, grouped
        "SELECT reviews_spotcheck reviews_spotcheckitem auth_user",  # the checks made
    ]
    check_page = reverse("reviews:spot-check", args=[SpotCheck.objects.get().pk])
    expected_check = [
        SESSION,
        USER,
        "SELECT reviews_spotcheck reviews_spotcheckitem auth_user",  # the check, scoped
        "SELECT reviews_spotcheckitem reviews_confirmeditem reviews_confirmationattempt "
        "reviews_conversation",  # its items with their calls
        "SELECT reviews_intelligenceitem",  # the items as they stand, for the evidence
    ]
    assert queries_of(lambda: client.get(overview)) == expected_overview
    assert queries_of(lambda: client.get(check_page)) == expected_check
    accuracy_history(rep, 10)
    client.post(overview, {"rep": rep.pk, "size": 20})
    check_page = reverse("reviews:spot-check", args=[SpotCheck.objects.first().pk])
    assert queries_of(lambda: client.get(overview)) == expected_overview
    assert queries_of(lambda: client.get(check_page)) == expected_check


def test_crm_links_on_a_confirmed_review_page_read_their_templates_once(login, rep, synced):
    """However many CRM records a call links, and however many link templates the
    admins set, the templates are read in one query (then cached)."""
    from django.core.cache import cache

    from attention_review.reviews.models import CrmLinkTemplate

    for record_type in ("Account", "Contact", "Opportunity"):
        CrmLinkTemplate.objects.create(
            record_type=record_type, url_template=f"https://crm.example.test/{record_type}/{{id}}"
        )
    conversation = Conversation.objects.filter(owner=rep, awaiting_review=True).first()
    conversation.awaiting_review = False
    conversation.save()
    conversation.items.update(is_confirmed=True, confirmed_value="x", needs_review=False)
    client = login(rep)
    url = reverse("reviews:review", args=[conversation.pk])

    def queries_with_records(count: int) -> list[str]:
        conversation.raw["attributes"]["linkedCrmRecords"] = [
            {"id": f"00{n}REC", "code": ("Account", "Contact", "Opportunity")[n % 3]}
            for n in range(count)
        ]
        conversation.save()
        client.get(url)  # the role, read and cached
        cache.delete("crm-link-templates")
        return queries_of(lambda: client.get(url))

    one = queries_with_records(1)
    assert one.count("SELECT reviews_crmlinktemplate") == 1
    assert queries_with_records(9) == one
