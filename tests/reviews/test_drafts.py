"""Drafts: text typed into an editor is kept after a pause, comes back after a reload,
is never a decision and never sent, and goes once a decision is saved or the editor is
cancelled."""

import pytest
from django.urls import reverse

from attention_review.reviews.models import Conversation, IntelligenceItem
from attention_review.reviews.services.review import DRAFT_MAX_LENGTH
from tests.reviews.test_confirm import confirm

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
TYPED = "Call their CFO on Thursday about the multi-year discount"


def review_url(conversation):
    return reverse("reviews:review", args=[conversation.pk])


def url(item, name):
    return reverse(name, args=[item.conversation_id, item.pk])


def save_draft(client, item, text=TYPED, **extra):
    item.refresh_from_db()
    return client.post(
        url(item, "reviews:item-draft"),
        {"value": text, "version": item.version, **extra},
        headers=HTMX,
    )


def sign_off_the_others(client, text_item):
    """Accept every other item, so the confirm is not held back for a sign-off."""
    for item in text_item.conversation.items.filter(refreshing=False).exclude(pk=text_item.pk):
        client.post(
            url(item, "reviews:item-choose"),
            {"choice": "accept", "version": item.version},
            headers=HTMX,
        )


def test_a_draft_is_kept_and_reopens_in_its_editor_after_a_reload(login, rep, text_item):
    client = login(rep)
    response = save_draft(client, text_item)
    assert response.status_code == 200
    assert "Draft from" in response.content.decode()

    text_item.refresh_from_db()
    assert text_item.draft_text == TYPED
    assert text_item.draft_by == rep
    assert not text_item.has_decision, "a draft is not a decision"

    html = client.get(review_url(text_item.conversation)).content.decode()
    assert html.count("<textarea") == 1
    assert f"{TYPED}</textarea>" in html
    assert "not saved yet; Save to use it" in html


def test_a_draft_is_never_sent_and_is_gone_after_the_confirm(sandbox, login, rep, text_item):
    client = login(rep)
    sign_off_the_others(client, text_item)
    save_draft(client, text_item)
    assert confirm(client, text_item.conversation).status_code == 302

    (body,) = sandbox.state.confirm_bodies[text_item.conversation.attention_id]
    sent = {entry["id"]: entry["value"] for entry in body["intelligence"]}
    assert sent[text_item.item_id] == text_item.ai_value
    assert TYPED not in str(body)
    text_item.refresh_from_db()
    assert text_item.draft_text == ""


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("reviews:item", {"value": "The reviewer's own next step"}),
        ("reviews:item-choose", {"choice": "accept"}),
        ("reviews:item-reset", {}),
        ("reviews:item-exclude", {"excluded": "1"}),
    ],
    ids=["save", "accept", "reset", "exclude"],
)
def test_a_decision_on_the_item_clears_its_draft(login, rep, text_item, action, data):
    client = login(rep)
    save_draft(client, text_item)
    text_item.refresh_from_db()
    response = client.post(
        url(text_item, action), {**data, "version": text_item.version}, headers=HTMX
    )
    assert response.status_code == 200
    assert "Draft from" not in response.content.decode()
    text_item.refresh_from_db()
    assert (text_item.draft_text, text_item.draft_by) == ("", None)
    assert "<textarea" not in client.get(review_url(text_item.conversation)).content.decode()


def test_cancel_drops_the_draft_and_closes_the_editor(login, rep, text_item):
    client = login(rep)
    save_draft(client, text_item)
    response = save_draft(client, text_item, discard="1")
    html = response.content.decode()
    assert "<textarea" not in html
    assert text_item.ai_value in html
    text_item.refresh_from_db()
    assert text_item.draft_text == ""


def test_cancel_without_javascript_drops_the_draft_and_goes_back_to_the_page(login, rep, text_item):
    client = login(rep)
    save_draft(client, text_item)
    response = client.post(url(text_item, "reviews:item-draft"), {"discard": "1"})
    assert response.status_code == 302
    assert response["Location"] == f"{review_url(text_item.conversation)}#item-{text_item.pk}"
    text_item.refresh_from_db()
    assert text_item.draft_text == ""


def test_a_draft_after_the_confirm_is_refused_with_a_sentence(sandbox, login, rep, text_item):
    client = login(rep)
    sign_off_the_others(client, text_item)
    assert confirm(client, text_item.conversation).status_code == 302
    assert not Conversation.objects.get(pk=text_item.conversation_id).awaiting_review
    response = save_draft(client, text_item)
    html = response.content.decode()
    assert response.status_code == 200
    assert "This conversation has been confirmed; the draft was not kept." in html
    text_item.refresh_from_db()
    assert text_item.draft_text == ""


def test_a_draft_too_long_to_keep_says_so(login, rep, text_item):
    response = save_draft(login(rep), text_item, text="x" * (DRAFT_MAX_LENGTH + 1))
    assert "too long to keep as a draft" in response.content.decode()
    text_item.refresh_from_db()
    assert text_item.draft_text == ""


def test_a_draft_typed_over_a_decision_made_since_is_refused(
    login, client_factory, rep, manager, text_item
):
    client = login(rep)
    text_item.refresh_from_db()
    opened_at = text_item.version
    client_factory(manager).post(
        url(text_item, "reviews:item-choose"),
        {"choice": "accept", "version": opened_at},
        headers=HTMX,
    )
    # The manager's decision took the review lock: the rep takes the review back first.
    client.post(reverse("reviews:review-take-over", args=[text_item.conversation_id]))
    response = client.post(
        url(text_item, "reviews:item-draft"),
        {"value": TYPED, "version": opened_at},
        headers=HTMX,
    )
    assert "decided since the editor opened" in response.content.decode()
    assert IntelligenceItem.objects.get(pk=text_item.pk).draft_text == ""


def test_another_reviewers_draft_is_not_shown_to_me(login, client_factory, rep, manager, text_item):
    save_draft(client_factory(rep), text_item)
    client = login(manager)
    html = client.get(review_url(text_item.conversation)).content.decode()
    assert "<textarea" not in html
    assert TYPED not in html
    assert "Draft from" not in html
    editor = client.get(url(text_item, "reviews:item-edit"), headers=HTMX).content.decode()
    assert TYPED not in editor
    # Nor does my Cancel throw their draft away.
    client.post(url(text_item, "reviews:item-draft"), {"discard": "1"}, headers=HTMX)
    assert IntelligenceItem.objects.get(pk=text_item.pk).draft_text == TYPED


def test_an_empty_draft_is_no_draft(login, rep, text_item):
    client = login(rep)
    save_draft(client, text_item)
    save_draft(client, text_item, text="   ")
    text_item.refresh_from_db()
    assert (text_item.draft_text, text_item.draft_saved_at) == ("", None)
