"""Who is reviewing: the expiring review lock (taken on open, renewed by decisions and the
page's poll, refused to others, free once expired, taken over on request, released by a
confirm) and a manager's assignment of a call to another reviewer."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from attention_review.reviews.models import Conversation, IntelligenceItem
from attention_review.reviews.services.locks import review_lock_take
from tests.reviews.test_confirm import confirm

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def conversation(synced, rep):
    return (
        Conversation.objects.filter(owner=rep, awaiting_review=True, items_to_review__gte=3)
        .order_by("-started_at")
        .first()
    )


@pytest.fixture
def item(conversation):
    return conversation.items.filter(refreshing=False, withdrawn=False).order_by("pk").first()


def review_url(conversation):
    return reverse("reviews:review", args=[conversation.pk])


def choose(client, item, choice="accept", **headers):
    item.refresh_from_db()
    return client.post(
        reverse("reviews:item-choose", args=[item.conversation_id, item.pk]),
        {"choice": choice, "version": item.version},
        headers=headers or None,
    )


def lock_of(conversation):
    return Conversation.objects.values("locked_by", "locked_until").get(pk=conversation.pk)


def minutes_left(conversation) -> float:
    return (lock_of(conversation)["locked_until"] - timezone.now()).total_seconds() / 60


def page_text(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


def refusal_pattern(holder: str) -> str:
    return rf"{holder} is reviewing this call \(since \d\d:\d\d, until \d\d:\d\d\)\."


def test_opening_the_review_page_takes_the_lock_for_the_configured_time(
    login, rep, conversation, settings
):
    settings.REVIEW_LOCK_MINUTES = 15
    login(rep).get(review_url(conversation))
    assert lock_of(conversation)["locked_by"] == rep.pk
    assert 14.9 < minutes_left(conversation) <= 15


def test_reopening_the_page_renews_a_lock_near_its_end(login, rep, conversation):
    client = login(rep)
    client.get(review_url(conversation))
    Conversation.objects.filter(pk=conversation.pk).update(
        locked_until=timezone.now() + timedelta(minutes=4)
    )

    client.get(review_url(conversation))

    assert minutes_left(conversation) > 14.9


def test_each_decision_and_the_poll_renew_the_holders_lock(login, rep, conversation, item):
    client = login(rep)
    client.get(review_url(conversation))
    soon = timezone.now() + timedelta(minutes=1)
    Conversation.objects.filter(pk=conversation.pk).update(locked_until=soon)
    assert choose(client, item, **HTMX).status_code == 200
    assert minutes_left(conversation) > 14.9, "a decision renews it"

    Conversation.objects.filter(pk=conversation.pk).update(locked_until=soon)
    page = client.get(review_url(conversation)).content.decode()
    assert 'hx-trigger="every 300s"' in page, "the holder's page polls a few times a period"
    poll = client.post(reverse("reviews:review-lock", args=[conversation.pk]), headers=HTMX)
    assert poll.status_code == 200
    Conversation.objects.filter(pk=conversation.pk).update(locked_until=soon)
    client.post(reverse("reviews:review-lock", args=[conversation.pk]), headers=HTMX)
    assert minutes_left(conversation) > 14.9, "the poll renews it"
    assert lock_of(conversation)["locked_by"] == rep.pk


def test_someone_else_sees_who_is_reviewing_and_may_only_read(
    login, client_factory, rep, manager, conversation, item
):
    login(rep).get(review_url(conversation))
    other = client_factory(manager)
    response = other.get(review_url(conversation))
    html = page_text(response)
    assert response.status_code == 200
    assert re.search(refusal_pattern("Riley Park"), html), "who, since when, until when"
    assert "Accept AI" not in html
    assert "Confirm to CRM</button>" not in html
    assert "Take over" in html
    assert lock_of(conversation)["locked_by"] == rep.pk, "opening did not take it"

    before = IntelligenceItem.objects.get(pk=item.pk)
    refused = choose(other, item, **HTMX)
    assert re.search(refusal_pattern("Riley Park"), page_text(refused))
    assert "Accept AI" not in page_text(refused), "the card comes back read-only"
    after = IntelligenceItem.objects.get(pk=item.pk)
    assert (after.choice, after.version) == (before.choice, before.version)

    # Without JavaScript the refusal comes back as a message after the redirect.
    followed = other.post(
        reverse("reviews:item-exclude", args=[conversation.pk, item.pk]),
        {"excluded": "1", "version": after.version},
        follow=True,
    )
    assert re.search(refusal_pattern("Riley Park"), page_text(followed))
    assert not IntelligenceItem.objects.get(pk=item.pk).is_excluded

    confirmed = other.post(
        reverse("reviews:confirm", args=[conversation.pk]),
        {"review_round": conversation.review_round},
        follow=True,
    )
    assert re.search(refusal_pattern("Riley Park"), page_text(confirmed))
    assert not conversation.confirmation_attempts.exists()


def test_of_two_people_opening_at_once_one_holds_the_lock(rep, manager, conversation):
    first = review_lock_take(conversation_pk=conversation.pk, user=rep)
    second = review_lock_take(conversation_pk=conversation.pk, user=manager)
    assert first.held_by_me
    assert not second.held_by_me
    assert second.holder_name == "Riley Park"
    assert lock_of(conversation)["locked_by"] == rep.pk


def test_a_lock_holds_until_its_last_second_and_is_free_from_then(
    login, client_factory, rep, manager, conversation, item
):
    login(rep).get(review_url(conversation))
    other = client_factory(manager)
    a_second_left = timezone.now() + timedelta(seconds=5)
    Conversation.objects.filter(pk=conversation.pk).update(locked_until=a_second_left)
    assert choose(other, item, **HTMX).status_code == 200
    assert lock_of(conversation)["locked_by"] == rep.pk, "still the rep's"

    Conversation.objects.filter(pk=conversation.pk).update(locked_until=timezone.now())
    page = page_text(other.get(review_url(conversation)))
    assert "is reviewing this call" not in page, "expired: free"
    assert choose(other, item, **HTMX).status_code == 200
    assert lock_of(conversation)["locked_by"] == manager.pk, "their change took it"
    assert IntelligenceItem.objects.get(pk=item.pk).reviewed_by_id == manager.pk


def test_a_manager_looking_in_does_not_lock_the_rep_out(
    login, client_factory, rep, manager, conversation
):
    client_factory(manager).get(review_url(conversation))
    assert lock_of(conversation)["locked_by"] is None, "only looking takes nothing"
    page = page_text(login(rep).get(review_url(conversation)))
    assert "is reviewing this call" not in page
    assert lock_of(conversation)["locked_by"] == rep.pk


def test_take_over_moves_the_lock_and_the_former_holder_is_refused(
    login, client_factory, rep, manager, conversation, item
):
    rep_client = login(rep)
    rep_client.get(review_url(conversation))
    other = client_factory(manager)
    response = other.post(reverse("reviews:review-take-over", args=[conversation.pk]), follow=True)
    assert "You took over the review from Riley Park." in page_text(response)
    assert lock_of(conversation)["locked_by"] == manager.pk
    refused = choose(rep_client, item, **HTMX)
    assert re.search(refusal_pattern("Morgan Lee"), page_text(refused))


def test_a_confirm_releases_the_lock(sandbox, login, client_factory, rep, manager, conversation):
    client = login(rep)
    client.get(review_url(conversation))
    assert confirm(client, conversation).status_code == 302
    assert lock_of(conversation) == {"locked_by": None, "locked_until": None}


# Assignment ---------------------------------------------------------------------------


def assign(client, conversation, user):
    return client.post(
        reverse("reviews:assign", args=[conversation.pk]),
        {"assignee": user.pk if user else ""},
        follow=True,
    )


def test_a_manager_assigns_a_call_and_the_assignee_sees_it_in_their_queue(
    login, client_factory, rep, rep2, manager, conversation
):
    assignee = client_factory(rep2)
    assert assignee.get(review_url(conversation)).status_code == 404
    manager_client = login(manager)
    form_page = page_text(manager_client.get(review_url(conversation)))
    assert "Assign to a reviewer" in form_page
    assert "Sam Ortega" in form_page

    assigned = assign(manager_client, conversation, rep2)
    assert f"Assigned “{conversation.title}” to Sam Ortega." in page_text(assigned)
    assert lock_of(conversation)["locked_by"] is None, "the manager's look ends with it"
    stored = Conversation.objects.get(pk=conversation.pk)
    assert (stored.assigned_to, stored.assigned_by) == (rep2, manager)
    assert stored.assigned_at is not None

    queue = assignee.get(reverse("reviews:queue"))
    assert conversation.pk in [row.pk for row in queue.context["page"].object_list]
    page = page_text(assignee.get(review_url(conversation)))
    assert "Assigned to</dt><dd>Sam Ortega" in page
    item = conversation.items.filter(refreshing=False, withdrawn=False).first()
    assert choose(assignee, item, **HTMX).status_code == 200, "theirs to review"
    assert IntelligenceItem.objects.get(pk=item.pk).reviewed_by == rep2

    assign(manager_client, conversation, None)
    assert assignee.get(review_url(conversation)).status_code == 404, "handed back"


def test_a_rep_may_not_assign(login, rep, rep2, conversation):
    client = login(rep)
    assert "Assign to a reviewer" not in page_text(client.get(review_url(conversation)))
    response = client.post(reverse("reviews:assign", args=[conversation.pk]), {"assignee": rep2.pk})
    assert response.status_code == 403
    assert Conversation.objects.get(pk=conversation.pk).assigned_to is None


def test_a_manager_of_a_team_assigns_only_within_it(login, rep, rep2, manager, conversation):
    conversation.team.managers.add(manager)
    client = login(manager)
    page = page_text(client.get(review_url(conversation)))
    assert f'<option value="{rep.pk}">Riley Park</option>' in page
    assert "Sam Ortega" not in page, "rep2 owns calls of another team only"
    response = assign(client, conversation, rep2)
    assert "Choose one of the listed reviewers." in page_text(response)
    assert Conversation.objects.get(pk=conversation.pk).assigned_to is None
