"""The optional reason a rep gives when they edit or exclude an item: one click on the
card, shown as chosen, cleared when the change is undone, copied into the audit record,
and never in the way of Confirm."""

import pytest
from django.urls import reverse

from attention_review.reviews.models import ChangeReason, ConfirmedItem, Conversation
from tests.reviews.test_confirm import confirm, confirmable_items, edit_and_exclude

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def conversation(synced, rep):
    return (
        Conversation.objects.filter(owner=rep, awaiting_review=True, items_to_review__gte=3)
        .order_by("-started_at")
        .first()
    )


def give_reason(client, item, reason, **headers):
    return client.post(
        reverse("reviews:item-reason", args=[item.conversation_id, item.pk]),
        {"reason": reason},
        headers=headers or None,
    )


def card(client, item) -> str:
    return client.get(
        reverse("reviews:item", args=[item.conversation_id, item.pk]), headers=HTMX
    ).content.decode()


def test_an_edited_card_offers_the_four_reasons_and_an_untouched_one_none(login, rep, conversation):
    client = login(rep)
    edited, excluded = edit_and_exclude(client, conversation)
    untouched = next(
        i for i in confirmable_items(conversation) if i.pk not in {edited.pk, excluded.pk}
    )
    html = card(client, edited)
    for label in ("Wrong value", "Not discussed", "Out of date", "Other"):
        assert f">{label}</button>" in html
    assert "Why changed?" in html
    assert "Why excluded?" in card(client, excluded)
    assert "Wrong value" not in card(client, untouched)


def test_one_click_with_htmx_swaps_the_card_with_the_reason_pressed(login, rep, conversation):
    client = login(rep)
    edited, _ = edit_and_exclude(client, conversation)
    response = give_reason(client, edited, ChangeReason.WRONG_VALUE, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="item-{edited.pk}"' in html
    assert 'aria-pressed="true">Wrong value</button>' in html
    assert 'aria-pressed="false">Other</button>' in html
    edited.refresh_from_db()
    assert edited.change_reason == ChangeReason.WRONG_VALUE


def test_without_javascript_the_reason_is_a_form_post_and_a_redirect(login, rep, conversation):
    client = login(rep)
    _, excluded = edit_and_exclude(client, conversation)
    response = give_reason(client, excluded, ChangeReason.NOT_DISCUSSED)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Noted why you changed" in page
    assert 'aria-pressed="true">Not discussed</button>' in page


def test_pressing_the_chosen_reason_again_clears_it(login, rep, conversation):
    client = login(rep)
    edited, _ = edit_and_exclude(client, conversation)
    give_reason(client, edited, ChangeReason.OTHER, **HTMX)
    html = card(client, edited)
    # The pressed button posts an empty reason: pressing it again takes it back.
    assert 'name="reason" value="">' in html
    give_reason(client, edited, "", **HTMX)
    edited.refresh_from_db()
    assert edited.change_reason == ""


def test_no_reason_for_an_item_that_was_accepted(login, rep, conversation):
    client = login(rep)
    item = confirmable_items(conversation)[0]
    response = give_reason(client, item, ChangeReason.WRONG_VALUE, **HTMX)
    assert "only asked for an item you edited or excluded" in response.content.decode()
    item.refresh_from_db()
    assert item.change_reason == ""


def test_an_unknown_reason_is_refused(login, rep, conversation):
    client = login(rep)
    edited, _ = edit_and_exclude(client, conversation)
    response = give_reason(client, edited, "because", **HTMX)
    assert "Choose one of the listed reasons" in response.content.decode()


def test_reset_accept_and_include_clear_the_reason(login, rep, conversation):
    client = login(rep)
    edited, excluded = edit_and_exclude(client, conversation)
    give_reason(client, edited, ChangeReason.OUT_OF_DATE, **HTMX)
    give_reason(client, excluded, ChangeReason.NOT_DISCUSSED, **HTMX)
    edited.refresh_from_db()
    client.post(
        reverse("reviews:item-reset", args=[conversation.pk, edited.pk]),
        {"version": edited.version},
        headers=HTMX,
    )
    excluded.refresh_from_db()
    client.post(
        reverse("reviews:item-exclude", args=[conversation.pk, excluded.pk]),
        {"excluded": "0", "version": excluded.version},
        headers=HTMX,
    )
    edited.refresh_from_db()
    excluded.refresh_from_db()
    assert (edited.change_reason, excluded.change_reason) == ("", "")
    assert "Wrong value" not in card(client, edited)

    # Edited again, given a reason, then the AI's value accepted: gone as well.
    client.post(
        reverse("reviews:item", args=[conversation.pk, edited.pk]),
        {"value": "Another next step"},
        headers=HTMX,
    )
    give_reason(client, edited, ChangeReason.WRONG_VALUE, **HTMX)
    edited.refresh_from_db()
    client.post(
        reverse("reviews:item-choose", args=[conversation.pk, edited.pk]),
        {"choice": "accept", "version": edited.version},
        headers=HTMX,
    )
    edited.refresh_from_db()
    assert edited.change_reason == ""


def test_the_reason_is_copied_into_the_confirmed_items(login, rep, conversation):
    client = login(rep)
    edited, excluded = edit_and_exclude(client, conversation)
    give_reason(client, edited, ChangeReason.WRONG_VALUE, **HTMX)
    give_reason(client, excluded, ChangeReason.NOT_DISCUSSED)
    assert confirm(client, conversation).status_code == 302
    recorded = {
        entry.item_id: entry.change_reason
        for entry in ConfirmedItem.objects.filter(attempt__conversation=conversation)
    }
    assert recorded[edited.item_id] == ChangeReason.WRONG_VALUE
    assert recorded[excluded.item_id] == ChangeReason.NOT_DISCUSSED
    others = {
        reason
        for item_id, reason in recorded.items()
        if item_id not in {edited.item_id, excluded.item_id}
    }
    assert others == {""}


def test_a_reason_is_never_required_to_confirm(sandbox, login, rep, conversation):
    client = login(rep)
    edit_and_exclude(client, conversation)
    page = client.get(reverse("reviews:review", args=[conversation.pk])).content.decode()
    assert "Wrong value" in page
    assert confirm(client, conversation).status_code == 302
    assert sandbox.state.confirm_calls[conversation.attention_id] == 1


def test_someone_else_reviewing_sees_no_reasons_and_cannot_give_one(
    login, client_factory, rep, manager, conversation
):
    client = login(rep)
    edited, _ = edit_and_exclude(client, conversation)
    other = client_factory(manager)
    page = other.get(reverse("reviews:review", args=[conversation.pk])).content.decode()
    assert "Wrong value" not in page
    refused = give_reason(other, edited, ChangeReason.OTHER, **HTMX)
    assert "is reviewing this call" in refused.content.decode()
    edited.refresh_from_db()
    assert edited.change_reason == ""
