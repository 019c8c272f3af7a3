"""Pinned query counts: the pages a rep opens all day must not grow with the data."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from attention_review.reviews.models import Conversation

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def count_queries(callable_):
    with CaptureQueriesContext(connection) as captured:
        response = callable_()
    assert response.status_code in (200, 302), response.status_code
    return len(captured.captured_queries)


@pytest.fixture
def conversation(synced, rep):
    return Conversation.objects.filter(owner=rep, awaiting_review=True).first()


def test_queue_page_queries_are_pinned(login, rep, manager, synced):
    rep_client = login(rep)
    assert count_queries(lambda: rep_client.get(reverse("reviews:queue"))) <= 5
    manager_client = login(manager)
    assert count_queries(lambda: manager_client.get(reverse("reviews:queue"))) <= 6
    second_page = count_queries(lambda: manager_client.get(reverse("reviews:queue"), {"page": 2}))
    assert second_page <= 6


def test_review_page_queries_do_not_depend_on_the_number_of_items(login, rep, conversation):
    client = login(rep)
    url = reverse("reviews:review", args=[conversation.pk])
    client.get(url)  # the first open records when the review started
    baseline = count_queries(lambda: client.get(url))
    assert baseline <= 8
    extra = conversation.items.first()
    for n in range(5):
        extra.pk = None
        extra.item_id = f"extra-{n}"
        extra.save()
    assert count_queries(lambda: client.get(url)) == baseline


def test_item_save_queries_are_pinned(login, rep, conversation):
    client = login(rep)
    item = conversation.items.filter(refreshing=False, options__isnull=True).first()
    url = reverse("reviews:item", args=[conversation.pk, item.pk])
    assert count_queries(lambda: client.post(url, {"value": "New value"}, headers=HTMX)) <= 7
