"""The queue's cached fragment (reviews/fragment_cache.py): what a reader sees is never
older than the last change, whoever or whatever made it, and never another reader's.

The cache is on in the whole suite, as in production with Redis (tests/settings.py); the
tests here check it where a stale page would be easiest to miss."""

import re
from html import escape

import pytest
from django.test import Client
from django.urls import reverse

from attention_review.reviews.models import Conversation
from attention_review.reviews.services.sync import conversation_sync
from tests.factories import make_team
from tests.queries import queries_of
from tests.reviews.test_confirm import confirm
from tests.reviews.test_drafts import save_draft

pytestmark = pytest.mark.django_db

QUEUE = reverse("reviews:queue")
HTMX = {"HX-Request": "true"}
DRAFT_MARKER = "Your draft in progress"


def queue_html(client, path=QUEUE, **extra) -> str:
    response = client.get(path, **extra)
    assert response.status_code == 200
    return response.content.decode()


def test_calls_a_sync_brings_show_on_the_next_load(db, api, login, rep, rep2):
    client = login(rep)
    assert "Nothing to review" in queue_html(client)

    conversation_sync(client=api)

    html = queue_html(client)
    assert "Nothing to review" not in html
    first = Conversation.objects.filter(owner=rep, awaiting_review=True).first()
    assert escape(first.title) in html


def test_a_draft_saved_shows_its_marker_on_the_next_load(login, rep, text_item):
    client = login(rep)
    assert DRAFT_MARKER not in queue_html(client)

    assert save_draft(client, text_item).status_code == 200

    assert DRAFT_MARKER in queue_html(client)


def test_a_confirmed_call_leaves_the_queue_at_once(sandbox, login, rep, conversation):
    client = login(rep)
    assert f">{escape(conversation.title)}<" in queue_html(client)

    assert confirm(client, conversation).status_code in (200, 302)
    conversation.refresh_from_db()
    assert not conversation.awaiting_review

    assert f">{escape(conversation.title)}<" not in queue_html(client)


def test_each_reader_sees_only_their_own_calls(synced, login, client_factory, rep, rep2):
    rep_html = queue_html(login(rep))
    rep2_html = queue_html(client_factory(rep2))

    for title in Conversation.objects.filter(owner=rep, awaiting_review=True).values_list(
        "title", flat=True
    )[:5]:
        assert escape(title) in rep_html
    other = Conversation.objects.filter(owner=rep2, awaiting_review=True).first()
    assert escape(other.title) in rep2_html
    assert f">{escape(other.title)}<" not in rep_html


def test_a_manager_given_a_team_sees_its_calls_at_once(synced, login, manager, rep):
    team = Conversation.objects.filter(owner=rep).first().team
    team.managers.remove(manager)
    make_team("A team without calls yet").managers.add(manager)
    title = Conversation.objects.filter(owner=rep, team=team, awaiting_review=True).first().title
    client = login(manager)
    assert f">{escape(title)}<" not in queue_html(client)

    team.managers.add(manager)

    assert f">{escape(title)}<" in queue_html(client)


def test_the_list_alone_for_htmx_and_the_whole_page_otherwise(synced, login, rep):
    client = login(rep)
    page = queue_html(client, f"{QUEUE}?sort=oldest")
    part = queue_html(client, f"{QUEUE}?sort=oldest", headers=HTMX)

    assert "<html" in page
    assert "<html" not in part
    assert part.lstrip().startswith('<section id="queue"')


def test_a_repeat_view_reads_no_conversations(synced, login, rep):
    client = login(rep)
    queue_html(client)

    # The session and the user: the list comes from the cache.
    assert queries_of(lambda: client.get(QUEUE)) == ["SELECT django_session", "SELECT auth_user"]
    title = Conversation.objects.filter(owner=rep, awaiting_review=True).first().title
    assert escape(title) in queue_html(client)


def review_url(conversation):
    return reverse("reviews:review", args=[conversation.pk])


def page_text(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


def test_a_decision_shows_on_the_reloaded_review_page(login, rep, text_item):
    client = login(rep)
    before = client.get(review_url(text_item.conversation)).content.decode()
    assert "Reviewed 0 of" in before

    client.post(
        reverse("reviews:item-choose", args=[text_item.conversation_id, text_item.pk]),
        {"choice": "accept", "version": text_item.version},
    )

    assert "Reviewed 1 of" in client.get(review_url(text_item.conversation)).content.decode()


def test_the_review_page_follows_who_holds_the_lock(
    login, client_factory, rep, manager, conversation
):
    reviewer = login(rep)
    looking = client_factory(manager)
    assert "is reviewing this call" not in page_text(looking.get(review_url(conversation)))

    reviewer.get(review_url(conversation))  # opening it takes the lock: no other write

    assert "Riley Park is reviewing this call" in page_text(looking.get(review_url(conversation)))


def test_forms_on_a_cached_page_carry_the_readers_own_token(rep, text_item):
    """The same reader in two browsers: each has its own CSRF cookie, and the page cached
    from the first must work in the second."""
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first.force_login(rep)
    second.force_login(rep)
    url = review_url(text_item.conversation)
    first.get(url)
    cached = second.get(url).content.decode()  # the first browser's view, from the cache
    tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', cached))
    assert tokens
    assert "csrf-token-of-the-reader" not in cached

    for token in tokens:  # the page's own forms and the logout form alike
        text_item.refresh_from_db()
        saved = second.post(
            reverse("reviews:item-choose", args=[text_item.conversation_id, text_item.pk]),
            {"choice": "accept", "version": text_item.version, "csrfmiddlewaretoken": token},
        )
        assert saved.status_code == 302, "a token of the second browser's own"
    text_item.refresh_from_db()
    assert text_item.choice == "accept"


def test_a_message_is_shown_once_and_the_page_stays_right(login, rep, text_item):
    client = login(rep)
    url = review_url(text_item.conversation)
    client.get(url)
    followed = client.post(
        reverse("reviews:item-choose", args=[text_item.conversation_id, text_item.pk]),
        {"choice": "accept", "version": text_item.version},
        follow=True,
    )
    message = re.search(r'<li class="message[^"]*">([^<]+)</li>', followed.content.decode())
    assert message

    again = client.get(url).content.decode()
    assert message.group(1) not in again
    assert "Reviewed 1 of" in again
