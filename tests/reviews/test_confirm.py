"""Confirming a review through the API: once, whatever happens on the wire."""

import pytest
from django.urls import reverse

from attention_review.reviews.models import (
    AttentionUser,
    ConfirmationAttempt,
    Conversation,
)
from attention_review.reviews.services.sync import conversation_sync
from tests.fixtures import attention_example
from tests.sign_off import sign_off

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def conversation(synced, rep):
    return (
        Conversation.objects.filter(owner=rep, awaiting_review=True, items_to_review__gte=3)
        .order_by("-started_at")
        .first()
    )


def confirmable_items(conversation):
    return list(conversation.items.filter(refreshing=False).order_by("position", "pk"))


def confirm(client, conversation, **headers):
    """Confirm as the rep does: the fields that need their sign-off decided first."""
    sign_off(client, conversation)
    conversation.refresh_from_db()
    return client.post(
        reverse("reviews:confirm", args=[conversation.pk]),
        {"review_round": conversation.review_round},
        headers=headers or None,
    )


def edit_and_exclude(client, conversation):
    """Edit the first text item, exclude the second; returns (edited, excluded)."""
    items = confirmable_items(conversation)
    edited = next(i for i in items if isinstance(i.ai_value, str) and not i.options)
    excluded = next(i for i in items if i.pk != edited.pk)
    client.post(
        reverse("reviews:item", args=[conversation.pk, edited.pk]),
        {"value": "Rep's corrected next step"},
        headers=HTMX,
    )
    client.post(
        reverse("reviews:item-exclude", args=[conversation.pk, excluded.pk]),
        {"excluded": "1"},
        headers=HTMX,
    )
    return edited, excluded


def test_confirm_sends_included_items_with_current_values_once(sandbox, login, rep, conversation):
    client = login(rep)
    edited, excluded = edit_and_exclude(client, conversation)
    response = confirm(client, conversation)
    assert response.status_code == 302

    assert sandbox.state.confirm_calls[conversation.attention_id] == 1
    (body,) = sandbox.state.confirm_bodies[conversation.attention_id]
    sent = {item["id"]: item["value"] for item in body["intelligence"]}
    assert sent[edited.item_id] == "Rep's corrected next step"
    assert excluded.item_id not in sent
    included = [i for i in confirmable_items(conversation) if i.pk != excluded.pk]
    assert set(sent) == {i.item_id for i in included}
    assert body["opportunity_id"] == conversation.default_opportunity_id

    attempt = ConfirmationAttempt.objects.get(conversation=conversation)
    assert attempt.outcome == ConfirmationAttempt.Outcome.SUCCEEDED
    assert attempt.user == rep
    assert attempt.api_milliseconds is not None
    recorded = {i.item_id: i for i in attempt.items.all()}
    assert recorded[edited.item_id].ai_value == edited.ai_value
    assert recorded[edited.item_id].sent_value == "Rep's corrected next step"
    assert recorded[edited.item_id].is_edited
    assert recorded[excluded.item_id].is_excluded
    assert recorded[excluded.item_id].sent_value is None

    conversation.refresh_from_db()
    assert not conversation.awaiting_review
    assert conversation.crm_export_status == "exported"
    assert conversation.last_confirmed_by == rep


def test_after_confirm_the_result_panel_shows_what_attention_returned(
    sandbox, login, rep, conversation
):
    client = login(rep)
    edit_and_exclude(client, conversation)
    page = client.get(confirm(client, conversation)["Location"]).content.decode()
    returned = sandbox.state.conversation(conversation.attention_id)["attributes"]
    assert "Confirmed in Attention" in page
    for person in returned["participants"]:
        assert person["name"] in page
        assert person["email"] in page
    for scorecard in returned["scorecardResults"]:
        assert scorecard["title"] in page
        assert "<meter" in page
        for entry in scorecard["items"]:
            assert entry["title"] in page
    for record in returned["linkedCrmRecords"]:
        assert record["id"] in page
    # The export's state, in words a rep reads.
    assert returned["crmExportStatus"] == "exported"
    assert "Exported" in page


def test_after_confirm_the_queue_drops_it_and_the_next_one_is_offered(
    sandbox, login, rep, conversation
):
    client = login(rep)
    page = client.get(confirm(client, conversation)["Location"])
    assert "Review the next conversation" in page.content.decode()
    queue = client.get(reverse("reviews:queue"))
    titles = [c.pk for c in queue.context["page"].object_list]
    assert conversation.pk not in titles
    assert page.context["next_conversation"].pk == titles[0]


def test_a_double_click_makes_one_confirm_call(sandbox, login, rep, conversation):
    client = login(rep)
    sign_off(client, conversation)
    round_shown = conversation.review_round
    url = reverse("reviews:confirm", args=[conversation.pk])
    client.post(url, {"review_round": round_shown}, headers=HTMX)
    late = client.post(url, {"review_round": round_shown}, headers=HTMX)
    assert sandbox.state.confirm_calls[conversation.attention_id] == 1
    assert "Confirmed in Attention" in late.content.decode()
    assert ConfirmationAttempt.objects.filter(conversation=conversation).count() == 1


def test_a_rejected_confirm_says_so_in_a_sentence_and_keeps_the_draft(
    sandbox, login, rep, conversation
):
    client = login(rep)
    edited, _ = edit_and_exclude(client, conversation)
    sandbox.state.add_fault(kind="status", status=400, times=1, path_contains="/crm/confirm")
    response = confirm(client, conversation, **HTMX)
    html = response.content.decode()
    assert html.count("Attention rejected the request") == 1, "said once, in the panel"
    edited.refresh_from_db()
    assert edited.decision_value == "Rep's corrected next step"
    conversation.refresh_from_db()
    assert conversation.awaiting_review
    assert ConfirmationAttempt.objects.get().outcome == ConfirmationAttempt.Outcome.FAILED
    # and a second try goes through
    confirm(client, conversation)
    conversation.refresh_from_db()
    assert not conversation.awaiting_review


def test_a_rejected_key_tells_the_reviewer_to_tell_an_admin(sandbox, login, rep, conversation):
    client = login(rep)
    sandbox.state.add_fault(kind="status", status=401, times=1, path_contains="/crm/confirm")
    html = confirm(client, conversation, **HTMX).content.decode()
    assert "API key was not accepted" in html
    assert "administrator" in html
    conversation.refresh_from_db()
    assert conversation.awaiting_review


def test_429_is_retried_within_bounds_then_confirms(sandbox, login, rep, conversation):
    client = login(rep)
    sandbox.state.add_fault(kind="status", status=429, times=2, path_contains="/crm/confirm")
    confirm(client, conversation)
    assert sandbox.state.applied_confirms[conversation.attention_id] == 1
    conversation.refresh_from_db()
    assert not conversation.awaiting_review


def test_persistent_429_says_attention_is_not_answering_and_keeps_edits(
    sandbox, login, rep, conversation
):
    client = login(rep)
    edited, _ = edit_and_exclude(client, conversation)
    sandbox.state.add_fault(kind="status", status=429, times=None, path_contains="/crm/confirm")
    html = confirm(client, conversation, **HTMX).content.decode()
    assert "Attention is not answering" in html
    assert "edits are saved" in html
    edited.refresh_from_db()
    assert edited.is_edited
    assert sandbox.state.applied_confirms.get(conversation.attention_id, 0) == 0


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_5xx_that_did_not_apply_is_found_out_by_reading_back(
    sandbox, login, rep, conversation, status
):
    client = login(rep)
    edited, _ = edit_and_exclude(client, conversation)
    sandbox.state.add_fault(kind="status", status=status, times=1, path_contains="/crm/confirm")
    html = confirm(client, conversation, **HTMX).content.decode()
    assert "has no record of this confirmation" in html
    attempt = ConfirmationAttempt.objects.get()
    assert attempt.outcome == ConfirmationAttempt.Outcome.FAILED
    assert attempt.resolved_by_readback
    edited.refresh_from_db()
    assert edited.is_edited
    assert sandbox.state.confirm_calls[conversation.attention_id] == 1


@pytest.mark.parametrize("fault", [{"kind": "drop"}, {"kind": "status", "status": 502}])
def test_a_lost_response_after_the_api_acted_is_recorded_as_success_without_a_second_call(
    sandbox, login, rep, conversation, fault
):
    client = login(rep)
    sandbox.state.add_fault(**fault, times=1, path_contains="/crm/confirm", apply_first=True)
    page = client.get(confirm(client, conversation)["Location"]).content.decode()
    assert "Confirmed in Attention" in page
    attempt = ConfirmationAttempt.objects.get()
    assert attempt.outcome == ConfirmationAttempt.Outcome.SUCCEEDED
    assert attempt.resolved_by_readback
    assert sandbox.state.confirm_calls[conversation.attention_id] == 1
    confirm(client, conversation)
    assert sandbox.state.confirm_calls[conversation.attention_id] == 1


def test_a_timeout_with_the_api_unreachable_for_readback_stays_unknown_and_is_never_resent(
    sandbox, login, rep, conversation, settings
):
    settings.ATTENTION_READ_TIMEOUT = 0.3
    client = login(rep)
    sandbox.state.add_fault(
        kind="latency", delay=0.8, times=1, path_contains="/crm/confirm", apply_first=True
    )
    sandbox.state.add_fault(kind="status", status=503, times=4, path_contains="/conversations/")
    html = confirm(client, conversation, **HTMX).content.decode()
    assert "could not be reached to check" in html
    assert "Check again" in html
    attempt = ConfirmationAttempt.objects.get()
    assert attempt.outcome == ConfirmationAttempt.Outcome.UNKNOWN
    sandbox.state.clear_faults()
    retry = confirm(client, conversation, **HTMX).content.decode()
    assert "Confirmed in Attention" in retry
    assert sandbox.state.confirm_calls[conversation.attention_id] == 1
    attempt.refresh_from_db()
    assert attempt.outcome == ConfirmationAttempt.Outcome.SUCCEEDED


def test_everything_excluded_cannot_be_confirmed(sandbox, login, rep, conversation):
    client = login(rep)
    for item in confirmable_items(conversation):
        client.post(
            reverse("reviews:item-exclude", args=[conversation.pk, item.pk]), {"excluded": "1"}
        )
    html = confirm(client, conversation, **HTMX).content.decode()
    assert "include at least one item" in html
    assert sandbox.state.confirm_calls.get(conversation.attention_id, 0) == 0


def test_the_chosen_opportunity_is_sent(sandbox, login, rep, synced):
    conversation = next(
        c
        for c in Conversation.objects.filter(owner=rep, awaiting_review=True)
        if sum(r["code"] == "Opportunity" for r in c.raw["attributes"]["linkedCrmRecords"]) > 1
    )
    other = next(
        r["id"]
        for r in conversation.raw["attributes"]["linkedCrmRecords"]
        if r["code"] == "Opportunity" and r["id"] != conversation.default_opportunity_id
    )
    client = login(rep)
    client.post(reverse("reviews:opportunity", args=[conversation.pk]), {"opportunity_id": other})
    confirm(client, conversation)
    (body,) = sandbox.state.confirm_bodies[conversation.attention_id]
    assert body["opportunity_id"] == other
    assert ConfirmationAttempt.objects.get().opportunity_id == other


def test_excluded_items_do_not_bring_the_conversation_back_on_the_next_sync(
    sandbox, api, login, rep, conversation
):
    client = login(rep)
    edited, excluded = edit_and_exclude(client, conversation)
    confirm(client, conversation)
    conversation_sync(client=api, full=True)
    conversation.refresh_from_db()
    assert not conversation.awaiting_review
    # The decisions stay, for the next round to start from.
    edited.refresh_from_db()
    excluded.refresh_from_db()
    assert edited.is_edited
    assert edited.decision_value == "Rep's corrected next step"
    assert excluded.is_excluded


def test_the_documented_example_response_fills_the_result_panel(sandbox, api, login, rep, synced):
    """Attention's published confirm response, served by the sandbox, drawn on the panel."""
    example = attention_example("confirm-response.json")
    request_example = attention_example("confirm-request.json")
    rep_uuid = AttentionUser.objects.get(user=rep).attention_uuid
    example["attributes"]["userUUID"] = rep_uuid
    example["attributes"]["crmExportStatus"] = "pending"
    example["attributes"]["createdAt"] = "2099-01-01T10:00:00Z"
    item = {**request_example["intelligence"][0], "category": "CRM", "refreshing": False}
    example["attributes"]["extractedIntelligence"] = {item["key"]: item}
    sandbox.state.add_conversation(example)
    conversation_sync(client=api, full=True)
    conversation = Conversation.objects.get(attention_id="conv-uuid-123")
    assert conversation.awaiting_review

    client = login(rep)
    page = client.get(confirm(client, conversation)["Location"]).content.decode()
    for expected in [
        "Jane Smith",
        "jane@example.com",
        "John Doe",
        "john@customer.com",
        "Organizer",
        "accepted",
        "Sales Discovery Scorecard",
        'min="0" max="100" value="85"',
        "Good performance",
        "001ABC123",
        "001ACC456",
        "003CON789",
        "Enterprise Deal - Acme Corp",
        "Exported",
    ]:
        assert expected in page, expected
    assert page.index("<h3>Account</h3>") < page.index("<h3>Contact</h3>")


def test_a_confirm_under_way_elsewhere_is_shown_and_followed_not_repeated(
    sandbox, login, rep, conversation
):
    """Two tabs: the second confirm finds the first one in flight and waits for it."""
    ConfirmationAttempt.objects.create(
        conversation=conversation, review_round=conversation.review_round, user=rep
    )
    client = login(rep)
    html = confirm(client, conversation, **HTMX).content.decode()
    assert "being confirmed right now" in html
    assert 'hx-trigger="every 2s"' in html
    assert sandbox.state.confirm_calls.get(conversation.attention_id, 0) == 0
    polled = client.get(reverse("reviews:review", args=[conversation.pk]), headers=HTMX)
    assert polled.content.decode().lstrip().startswith('<div id="review-body">')
