"""The review page: click-to-edit items, validation, drafts, opportunity choice."""

import pytest
from django.urls import reverse

from attention_review.reviews.models import Conversation, IntelligenceItem

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def conversation(synced, rep):
    """One of rep's conversations awaiting review, with a text and a picklist item."""
    candidates = Conversation.objects.filter(owner=rep, awaiting_review=True)
    for candidate in candidates:
        items = candidate.items.filter(refreshing=False)
        has_text = any(isinstance(i.ai_value, str) and not i.options for i in items)
        has_options = any(i.options for i in items)
        if has_text and has_options:
            return candidate
    raise AssertionError("no suitable conversation in the sandbox data")


@pytest.fixture
def text_item(conversation):
    return next(
        i
        for i in conversation.items.filter(refreshing=False).order_by("position")
        if isinstance(i.ai_value, str) and not i.options
    )


@pytest.fixture
def picklist_item(conversation):
    return conversation.items.exclude(options__isnull=True).filter(refreshing=False).first()


def review_url(conversation):
    return reverse("reviews:review", args=[conversation.pk])


def item_url(item, name="reviews:item"):
    return reverse(name, args=[item.conversation_id, item.pk])


def test_rep_opens_their_review_page_with_header_and_grouped_items(login, rep, conversation):
    response = login(rep).get(review_url(conversation))
    html = response.content.decode()
    assert response.status_code == 200
    assert conversation.title in html
    participant = conversation.raw["attributes"]["participants"][0]["name"]
    assert participant in html
    for item in conversation.items.all():
        assert f'id="item-{item.pk}"' in html
    groups = [group.category for group in response.context["groups"]]
    assert groups[0] == "CRM"
    assert len(groups) == len(set(groups))


@pytest.mark.parametrize("persona", ["manager", "admin_user"])
def test_managers_and_admins_may_open_any_review(login, request, conversation, persona):
    response = login(request.getfixturevalue(persona)).get(review_url(conversation))
    assert response.status_code == 200


@pytest.mark.parametrize("persona", ["rep2", "outsider"])
def test_anyone_else_gets_404(login, request, conversation, persona):
    client = login(request.getfixturevalue(persona))
    assert client.get(review_url(conversation)).status_code == 404
    item = conversation.items.first()
    assert client.post(item_url(item), {"value": "x"}).status_code == 404
    assert client.get(item_url(item, "reviews:item-edit"), headers=HTMX).status_code == 404


def test_anonymous_is_sent_to_log_in(client, conversation):
    response = client.get(review_url(conversation))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_an_item_of_another_conversation_is_404(login, rep, conversation):
    other = IntelligenceItem.objects.exclude(conversation=conversation).first()
    url = reverse("reviews:item", args=[conversation.pk, other.pk])
    assert login(rep).post(url, {"value": "x"}, headers=HTMX).status_code == 404


def test_edit_opens_a_textarea_for_text_and_a_select_for_options(
    login, rep, text_item, picklist_item
):
    client = login(rep)
    text_form = client.get(item_url(text_item, "reviews:item-edit"), headers=HTMX)
    assert "<textarea" in text_form.content.decode()
    picklist_form = client.get(item_url(picklist_item, "reviews:item-edit"), headers=HTMX)
    html = picklist_form.content.decode()
    assert "<select" in html
    for option in picklist_item.options:
        assert f">{option}</option>" in html


def test_saving_an_edit_stores_the_draft_and_shows_the_ai_value_beside_it(login, rep, text_item):
    response = login(rep).post(
        item_url(text_item), {"value": "Send the MSA by Friday"}, headers=HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Send the MSA by Friday" in html
    assert "AI proposes" in html
    assert text_item.ai_value in html
    text_item.refresh_from_db()
    assert text_item.is_edited
    assert text_item.decision_value == "Send the MSA by Friday"
    assert 'id="review-progress" class="progress" hx-swap-oob="true"' in html
    assert "Reviewed 1 of" in html


def test_a_saved_draft_survives_reload_and_logout(client, login, rep, text_item):
    login(rep).post(item_url(text_item), {"value": "Kept across sessions"}, headers=HTMX)
    client.logout()
    client.force_login(rep)
    page = client.get(review_url(text_item.conversation)).content.decode()
    assert "Kept across sessions" in page


def test_an_empty_value_is_refused_inline_with_nothing_stored(login, rep, text_item):
    response = login(rep).post(item_url(text_item), {"value": "   "}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Enter a value, or exclude this item" in html
    assert "<textarea" in html
    text_item.refresh_from_db()
    assert not text_item.is_edited


def test_a_too_long_value_is_refused_and_the_typed_text_is_kept(login, rep, text_item):
    typed = "x" * 10_001
    response = login(rep).post(item_url(text_item), {"value": typed}, headers=HTMX)
    html = response.content.decode()
    assert "Keep it under 10000 characters" in html
    assert typed in html
    text_item.refresh_from_db()
    assert not text_item.is_edited


def test_a_value_outside_the_options_is_refused(login, rep, picklist_item):
    response = login(rep).post(item_url(picklist_item), {"value": "Maybe"}, headers=HTMX)
    assert "Choose one of the listed values" in response.content.decode()
    picklist_item.refresh_from_db()
    assert not picklist_item.is_edited


def test_choosing_another_option_is_saved(login, rep, picklist_item):
    choice = next(o for o in picklist_item.options if o != picklist_item.ai_value)
    login(rep).post(item_url(picklist_item), {"value": choice}, headers=HTMX)
    picklist_item.refresh_from_db()
    assert picklist_item.decision_value == choice


def test_reset_returns_to_the_ai_value(login, rep, text_item):
    client = login(rep)
    client.post(item_url(text_item), {"value": "Changed"}, headers=HTMX)
    response = client.post(item_url(text_item, "reviews:item-reset"), headers=HTMX)
    assert text_item.ai_value in response.content.decode()
    text_item.refresh_from_db()
    assert not text_item.is_edited
    assert text_item.decision_value is None


def test_exclude_and_include_toggle_the_item(login, rep, text_item):
    client = login(rep)
    response = client.post(
        item_url(text_item, "reviews:item-exclude"), {"excluded": "1"}, headers=HTMX
    )
    assert "Excluded" in response.content.decode()
    assert "Excluded: 1" in response.content.decode()
    text_item.refresh_from_db()
    assert text_item.is_excluded
    client.post(item_url(text_item, "reviews:item-exclude"), {"excluded": "0"}, headers=HTMX)
    text_item.refresh_from_db()
    assert not text_item.is_excluded


def test_cancel_returns_the_display_fragment_from_the_database(login, rep, text_item):
    response = login(rep).get(item_url(text_item), headers=HTMX)
    html = response.content.decode()
    assert "<textarea" not in html
    assert text_item.ai_value in html


def test_refreshing_items_are_read_only(login, rep, synced):
    item = IntelligenceItem.objects.filter(
        refreshing=True, conversation__owner=rep, conversation__awaiting_review=True
    ).first()
    if item is None:
        item = IntelligenceItem.objects.filter(
            conversation__owner=rep, conversation__awaiting_review=True
        ).first()
        item.refreshing = True
        item.save()
    client = login(rep)
    page = client.get(review_url(item.conversation)).content.decode()
    assert "Still being updated" in page
    response = client.post(item_url(item), {"value": "x"}, headers=HTMX)
    assert "still updating this item" in response.content.decode()
    item.refresh_from_db()
    assert not item.is_edited


def test_without_javascript_edit_save_and_exclude_are_plain_forms(login, rep, text_item):
    client = login(rep)
    edit = client.get(item_url(text_item, "reviews:item-edit"))
    assert edit.status_code == 302
    page = client.get(edit["Location"]).content.decode()
    assert "<textarea" in page
    saved = client.post(item_url(text_item), {"value": "No JS needed"})
    assert saved.status_code == 302
    assert saved["Location"].endswith(f"#item-{text_item.pk}")
    followed = client.get(saved["Location"]).content.decode()
    assert "No JS needed" in followed
    assert "Saved" in followed
    invalid = client.post(item_url(text_item), {"value": ""})
    assert invalid.status_code == 200
    assert "Enter a value" in invalid.content.decode()
    excluded = client.post(item_url(text_item, "reviews:item-exclude"), {"excluded": "1"})
    assert excluded.status_code == 302


def test_wrong_method_is_405(login, rep, text_item):
    assert login(rep).get(item_url(text_item, "reviews:item-reset")).status_code == 405


def test_the_opportunity_is_prefilled_and_can_be_changed(login, rep, synced):
    conversation = next(
        c
        for c in Conversation.objects.filter(owner=rep, awaiting_review=True)
        if sum(r["code"] == "Opportunity" for r in c.raw["attributes"]["linkedCrmRecords"]) > 1
    )
    client = login(rep)
    page = client.get(review_url(conversation))
    form = page.context["opportunity_form"]
    assert form.initial["opportunity_id"] == conversation.default_opportunity_id
    other = next(
        r["id"]
        for r in conversation.raw["attributes"]["linkedCrmRecords"]
        if r["code"] == "Opportunity" and r["id"] != conversation.default_opportunity_id
    )
    url = reverse("reviews:opportunity", args=[conversation.pk])
    response = client.post(url, {"opportunity_id": other}, headers=HTMX)
    assert "Opportunity saved" in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.opportunity_id == other
    refused = client.post(url, {"opportunity_id": "006-not-linked"}, headers=HTMX)
    assert "Choose one of the opportunities linked" in refused.content.decode()
    conversation.refresh_from_db()
    assert conversation.opportunity_id == other


def test_a_conversation_confirmed_before_it_reached_the_app_shows_what_attention_holds(
    login, manager, synced
):
    already = next(
        c
        for c in Conversation.objects.filter(awaiting_review=False, is_internal=False)
        if c.items.filter(is_confirmed=True).exists()
    )
    html = login(manager).get(review_url(already)).content.decode()
    assert "Confirmed in Attention before it reached this dashboard" in html
    assert "Confirm to CRM" not in html
    first_person = already.raw["attributes"]["participants"][0]["name"]
    assert first_person in html


def test_an_internal_meeting_is_not_presented_as_confirmed(login, manager, synced):
    internal = Conversation.objects.filter(is_internal=True).first()
    assert internal is not None, "the demo data includes internal meetings"
    html = login(manager).get(review_url(internal)).content.decode()
    assert "Confirmed in Attention" not in html
