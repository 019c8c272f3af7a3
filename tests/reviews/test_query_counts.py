"""Pinned queries: the pages a rep opens all day make exactly these queries, whatever
the number of rows. A new query fails the test with its description in the diff."""

import pytest
from django.urls import reverse

from attention_review.reviews.models import Conversation
from tests.queries import queries_of

pytestmark = pytest.mark.django_db

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
        "SELECT reviews_conversation auth_user",  # the page of rows, owners joined
        "SELECT reviews_conversation",  # the rep's failed exports (a partial index)
    ]


def test_manager_queue_adds_the_capped_count_and_the_sync_panel(login, manager, synced):
    client = login(manager)
    first_page = [
        SESSION,
        USER,
        ROLE,
        "SELECT reviews_conversation auth_user",
        "COUNT reviews_conversation",  # capped: reads at most QUEUE_COUNT_CAP + 1 rows
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
        "SELECT reviews_conversation auth_user reviews_team",  # the conversation, scoped
        "SELECT reviews_intelligenceitem",
        "SELECT reviews_confirmationattempt auth_user",  # the latest attempt
    ]
    assert queries_of(lambda: client.get(url)) == expected
    extra = conversation.items.first()
    for n in range(5):
        extra.pk = None
        extra.item_id = f"extra-{n}"
        extra.save()
    assert queries_of(lambda: client.get(url)) == expected


def test_item_save_makes_seven_queries(login, rep, conversation):
    client = login(rep)
    item = conversation.items.filter(refreshing=False, options__isnull=True).first()
    url = reverse("reviews:item", args=[conversation.pk, item.pk])
    assert queries_of(lambda: client.post(url, {"value": "New value"}, headers=HTMX)) == [
        SESSION,
        USER,
        ROLE,  # read once, then cached for a while
        "SELECT reviews_intelligenceitem reviews_conversation auth_user reviews_team",
        "SELECT reviews_confirmationattempt reviews_conversation",  # the round lock
        "UPDATE reviews_intelligenceitem",
        "SELECT reviews_intelligenceitem",  # the progress, swapped out of band
    ]
