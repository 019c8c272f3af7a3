"""The review queue: the landing page, scoped to what each persona may see."""

import pytest
from django.urls import reverse

from attention_review.reviews.models import Conversation

pytestmark = pytest.mark.django_db

QUEUE = reverse("reviews:queue")


def titles_on(response):
    return [conversation.title for conversation in response.context["page"].object_list]


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(QUEUE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_rep_logs_in_with_a_password_and_lands_on_the_queue(client, rep, synced):
    response = client.post(
        reverse("login"), {"username": "rep", "password": "correct-horse-battery"}, follow=True
    )
    assert response.redirect_chain[-1][0] == QUEUE
    assert b"Review queue" in response.content


def test_rep_sees_only_their_conversations_awaiting_review_newest_first(login, rep, synced):
    response = login(rep).get(QUEUE)
    page = response.context["page"]
    expected = Conversation.objects.filter(owner=rep, awaiting_review=True).order_by("-started_at")
    assert page.count == expected.count() > 0
    assert titles_on(response) == [c.title for c in expected[: page.per_page]]
    first = expected.first()
    assert first.title in response.content.decode()


def test_rep_never_sees_another_reps_conversation(login, rep, rep2, synced, settings):
    settings.QUEUE_PAGE_SIZE = 100
    response = login(rep).get(QUEUE)
    others = set(Conversation.objects.filter(owner=rep2).values_list("pk", flat=True))
    assert others
    shown = {conversation.pk for conversation in response.context["page"].object_list}
    assert shown
    assert not others & shown
    assert all(conversation.owner_id == rep.pk for conversation in response.context["page"])


@pytest.mark.parametrize("persona", ["manager", "admin_user"])
def test_managers_and_admins_see_every_conversation_awaiting_review(
    login, request, synced, persona
):
    user = request.getfixturevalue(persona)
    response = login(user).get(QUEUE)
    assert (
        response.context["page"].count == Conversation.objects.filter(awaiting_review=True).count()
    )
    assert b'<th scope="col">Rep</th>' in response.content


def test_a_row_shows_date_duration_and_items_to_review(login, rep, synced):
    response = login(rep).get(QUEUE)
    conversation = response.context["page"].object_list[0]
    html = response.content.decode()
    assert conversation.started_at.strftime("%b") in html
    assert f"{conversation.items_to_review} item" in html
    assert " min" in html


def test_queue_is_paginated(login, manager, synced, settings):
    settings.QUEUE_PAGE_SIZE = 10
    client = login(manager)
    first = client.get(QUEUE)
    second = client.get(QUEUE, {"page": 2})
    assert len(titles_on(first)) == 10
    assert set(titles_on(first)).isdisjoint(titles_on(second))
    assert b"Page 1" in first.content
    assert first.context["page"].has_next
    last = client.get(QUEUE, {"page": 99})
    assert not last.context["page"].has_next


def test_htmx_paging_returns_only_the_queue_fragment(login, manager, synced, settings):
    settings.QUEUE_PAGE_SIZE = 10
    response = login(manager).get(QUEUE, {"page": 2}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="queue"')
    assert "<html" not in html


def test_an_empty_queue_says_so(login, outsider, db):
    response = login(outsider).get(QUEUE)
    assert b"Nothing to review" in response.content


def test_a_long_queue_is_counted_only_up_to_a_cap(login, manager, synced, settings):
    settings.QUEUE_PAGE_SIZE = 5
    settings.QUEUE_COUNT_CAP = 20
    total = Conversation.objects.filter(awaiting_review=True).count()
    assert total > 20
    response = login(manager).get(QUEUE)
    assert response.context["page"].count == 20
    assert b"20+ conversations awaiting review" in response.content


def test_odd_page_numbers_show_the_first_page(login, rep, synced):
    client = login(rep)
    for raw in ("abc", "-3", "0", "1e9"):
        assert client.get(QUEUE, {"page": raw}).context["page"].number == 1
