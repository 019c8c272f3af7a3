"""The admin site: every model browsable and searchable, audit history read-only."""

import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from attention_review.reviews.models import (
    AppendOnlyError,
    AuditCorrection,
    ConfirmationAttempt,
    ConfirmedItem,
    Conversation,
    CrmLinkTemplate,
    ReviewDigest,
    SetAsideRecord,
    SpotCheck,
    SpotCheckItem,
    SyncRun,
    Transcript,
)
from attention_review.reviews.services.sync import set_aside
from attention_review.reviews.templatetags.review_tags import call_day
from tests.factories import make_attempt, make_conversation, make_item, make_team
from tests.reviews.test_confirm import confirm

pytestmark = pytest.mark.django_db

APP_MODELS = [m for m in apps.get_app_config("reviews").get_models()]


@pytest.fixture
def some_of_everything(synced, rep, manager):
    team = make_team("Audit team")
    team.managers.add(manager)
    conversation = make_conversation(owner=rep, team=team, awaiting=False)
    make_item(conversation)
    Transcript.objects.create(
        conversation=conversation,
        segments=[{"speaker_name": "Ada", "speaker_email": "", "start": 1.0, "end": 2.0}],
    )
    attempt = make_attempt(
        conversation=conversation, user=rep, items=[("budget", "$1", "$2", True, False)]
    )
    AuditCorrection.objects.create(attempt=attempt, author=manager, note="Budget was in EUR")
    CrmLinkTemplate.objects.create(
        record_type="Account", url_template="https://crm.example.test/account/{id}"
    )
    ReviewDigest.objects.create(user=rep, sent_on=timezone.localdate(), overdue=2)
    spot_check = SpotCheck.objects.create(manager=manager, rep=rep)
    SpotCheckItem.objects.create(spot_check=spot_check, confirmed_item=attempt.items.first())
    set_aside(
        kind=SetAsideRecord.Kind.RECORD,
        subject="conv-without-created-at",
        reason="attributes.createdAt: Field required",
        raw={"id": "conv-without-created-at", "attributes": {"title": "No date"}},
    )
    return attempt


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_model_of_the_app_is_registered():
    for model in APP_MODELS:
        assert admin.site.is_registered(model), model.__name__


@pytest.mark.parametrize("model", APP_MODELS, ids=lambda m: m.__name__)
def test_changelist_search_and_change_page_work(login, admin_user, some_of_everything, model):
    client = login(admin_user)
    changelist = client.get(admin_url(model, "changelist"))
    assert changelist.status_code == 200
    searched = client.get(admin_url(model, "changelist"), {"q": "a"})
    assert searched.status_code == 200
    obj = model._default_manager.first()
    assert obj is not None, f"no {model.__name__} to open"
    change = client.get(admin_url(model, "change", obj.pk))
    assert change.status_code == 200


def test_the_conversation_changelist_does_not_query_per_row(login, admin_user, synced):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(admin_user)
    with CaptureQueriesContext(connection) as captured:
        client.get(admin_url(Conversation, "changelist"))
    assert len(captured) <= 12


def test_audit_records_cannot_be_changed_or_deleted_in_the_admin(
    login, admin_user, some_of_everything
):
    attempt = some_of_everything
    client = login(admin_user)
    change_url = admin_url(ConfirmationAttempt, "change", attempt.pk)
    page = client.get(change_url).content.decode()
    assert 'name="outcome"' not in page, "fields are read-only"
    client.post(change_url, {"outcome": "failed", "opportunity_id": "tampered"})
    attempt.refresh_from_db()
    assert attempt.outcome == ConfirmationAttempt.Outcome.SUCCEEDED
    assert attempt.opportunity_id != "tampered"
    assert client.get(admin_url(ConfirmationAttempt, "delete", attempt.pk)).status_code == 403
    item = attempt.items.first()
    assert client.get(admin_url(ConfirmedItem, "delete", item.pk)).status_code == 403
    response = client.post(
        admin_url(ConfirmationAttempt, "changelist"),
        {"action": "delete_selected", "_selected_action": [attempt.pk]},
    )
    assert ConfirmationAttempt.objects.filter(pk=attempt.pk).exists()
    assert response.status_code in (200, 302)


def test_history_refuses_changes_and_deletes_in_code_too(some_of_everything):
    attempt = some_of_everything
    attempt.opportunity_id = "changed"
    with pytest.raises(AppendOnlyError):
        attempt.save()
    with pytest.raises(AppendOnlyError):
        attempt.delete()
    with pytest.raises(AppendOnlyError):
        ConfirmationAttempt.objects.filter(pk=attempt.pk).update(outcome="failed")
    with pytest.raises(AppendOnlyError):
        ConfirmedItem.objects.all().delete()
    correction = AuditCorrection.objects.first()
    correction.note = "rewritten"
    with pytest.raises(AppendOnlyError):
        correction.save()


def test_a_correction_is_added_as_a_new_record(login, admin_user, some_of_everything):
    attempt = some_of_everything
    client = login(admin_user)
    prefix = "corrections"
    data = {
        f"{prefix}-TOTAL_FORMS": "2",
        f"{prefix}-INITIAL_FORMS": "1",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
        f"{prefix}-0-id": AuditCorrection.objects.get().pk,
        f"{prefix}-0-attempt": attempt.pk,
        f"{prefix}-0-note": "Budget was in EUR",
        f"{prefix}-1-attempt": attempt.pk,
        f"{prefix}-1-note": "Rep confirmed the figure by email",
        "items-TOTAL_FORMS": "0",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }
    client.post(admin_url(ConfirmationAttempt, "change", attempt.pk), data)
    notes = list(attempt.corrections.order_by("created_at").values_list("note", "author"))
    assert notes == [
        ("Budget was in EUR", notes[0][1]),
        ("Rep confirmed the figure by email", admin_user.pk),
    ]


def test_admin_can_refresh_from_attention(login, admin_user, sandbox, synced):
    conversation = Conversation.objects.filter(awaiting_review=True).first()
    Conversation.objects.filter(pk=conversation.pk).update(title="Stale title")
    client = login(admin_user)
    client.post(
        admin_url(Conversation, "changelist"),
        {"action": "refresh_from_attention", "_selected_action": [conversation.pk]},
    )
    conversation.refresh_from_db()
    assert (
        conversation.title
        == sandbox.state.conversation(conversation.attention_id)["attributes"]["title"]
    )


def test_admin_can_return_a_conversation_to_the_review_queue(login, admin_user, rep, api, synced):
    from attention_review.reviews.services.sync import conversation_sync

    confirmed = Conversation.objects.filter(awaiting_review=False, is_internal=False).exclude(
        items=None
    )
    conversation = confirmed.filter(is_empty=False).first()
    client = login(admin_user)
    return_to_queue(client, conversation, reason="Stage was wrong")
    conversation.refresh_from_db()
    assert conversation.awaiting_review
    conversation_sync(client=api, full=True)
    conversation.refresh_from_db()
    assert conversation.awaiting_review, "a sync does not take it back out of the queue"


def test_a_managers_teams_are_editable_in_the_admin(login, admin_user, manager, db):
    from attention_review.reviews.models import Team

    team = make_team("North")
    client = login(admin_user)
    user_page = client.get(reverse("admin:auth_user_change", args=[manager.pk])).content.decode()
    assert "managed teams" in user_page.lower()
    client.post(
        admin_url(Team, "change", team.pk),
        {"attention_uuid": team.attention_uuid, "name": team.name, "managers": [manager.pk]},
    )
    assert list(manager.managed_teams.all()) == [team]


def test_sync_runs_are_read_only(login, admin_user, db):
    run = SyncRun.objects.create(status=SyncRun.Status.SUCCEEDED)
    client = login(admin_user)
    assert client.get(admin_url(SyncRun, "delete", run.pk)).status_code == 403


def return_to_queue(client, conversation, *, reason=None):
    """The admin's action: without a reason, the page that asks for one."""
    data = {"action": "return_to_review_queue", "_selected_action": [conversation.pk]}
    if reason is not None:
        data.update(apply="1", reason=reason)
    return client.post(admin_url(Conversation, "changelist"), data)


@pytest.fixture
def confirmed(synced, rep):
    return (
        Conversation.objects.filter(owner=rep, awaiting_review=False, is_internal=False)
        .exclude(items=None)
        .filter(is_empty=False)
        .first()
    )


def test_returning_a_call_asks_for_a_reason_and_the_rep_reads_it_until_confirming(
    sandbox, login, client_factory, admin_user, rep, confirmed
):
    client = login(admin_user)
    asking = return_to_queue(client, confirmed).content.decode().replace("&#x27;", "'")
    assert "Reason for the rep" in asking
    assert confirmed.title in asking
    assert not Conversation.objects.get(pk=confirmed.pk).awaiting_review, "nothing yet"

    refused = return_to_queue(client, confirmed, reason="   ").content.decode()
    assert "This field is required." in refused
    assert not Conversation.objects.get(pk=confirmed.pk).awaiting_review

    reason = "The amount is in EUR, not USD: check it with the customer."
    assert return_to_queue(client, confirmed, reason=reason).status_code == 302
    stored = Conversation.objects.get(pk=confirmed.pk)
    assert stored.awaiting_review
    assert (stored.return_reason, stored.returned_by) == (reason, admin_user)

    rep_client = client_factory(rep)
    review = reverse("reviews:review", args=[confirmed.pk])
    text = re.sub(r"<[^>]+>", "", rep_client.get(review).content.decode())
    text = text.replace("&#x27;", "'")
    assert f"Returned to you by Alex Admin on {call_day(stored.returned_at)}: {reason}" in text

    assert confirm(rep_client, stored).status_code == 302
    assert "Returned to you by" not in rep_client.get(review).content.decode()
    assert Conversation.objects.get(pk=confirmed.pk).return_reason == ""


def test_the_change_page_reads_the_items_as_three_values_and_folds_the_payload(
    login, admin_user, synced
):
    conversation = Conversation.objects.filter(items__isnull=False).first()
    item = conversation.items.first()
    html = login(admin_user).get(admin_url(Conversation, "change", conversation.pk)).content
    html = html.decode()
    table = html[html.index('<table class="conversation-items">') :]
    table = table[: table.index("</table>")]
    headers = ["In CRM", "AI proposes", "You send"]
    assert [table.index(header) for header in headers] == sorted(
        table.index(header) for header in headers
    )
    assert item.title in table
    assert "<details" in html[html.index("Raw payload from Attention") - 400 :][:600]
    assert 'name="decision_value' not in html, "no raw editing of decisions here"


def test_a_crm_link_template_per_record_type_is_used_on_the_review_page(
    login, client_factory, admin_user, rep, synced, settings
):
    settings.CRM_RECORD_URL_TEMPLATE = "https://default.example.test/{type}/{id}"
    conversation = Conversation.objects.filter(owner=rep, awaiting_review=True).first()
    conversation.raw["attributes"]["linkedCrmRecords"] = [
        {"id": "006OPP", "code": "Opportunity"},
        {"id": "001ACC", "code": "Account"},
    ]
    conversation.awaiting_review = False
    conversation.save()
    conversation.items.update(is_confirmed=True, confirmed_value="x", needs_review=False)
    rep_client = client_factory(rep)
    review = reverse("reviews:review", args=[conversation.pk])
    assert (
        'href="https://default.example.test/Account/001ACC"'
        in rep_client.get(review).content.decode()
    )

    added = login(admin_user).post(
        admin_url(CrmLinkTemplate, "add"),
        {"record_type": "Account", "url_template": "https://crm.example.test/accounts/{id}/view"},
    )
    assert added.status_code == 302
    html = rep_client.get(review).content.decode()
    assert 'href="https://crm.example.test/accounts/001ACC/view"' in html
    assert 'href="https://default.example.test/Opportunity/006OPP"' in html, "others as before"


def test_a_crm_link_template_must_be_a_web_address_with_a_place_for_the_id(login, admin_user, db):
    client = login(admin_user)
    for url, problem in [
        ("ftp://crm.example.test/{id}", "Use an https:// (or http://) address."),
        ("https://crm.example.test/records", "Put {id} where the record's id goes."),
    ]:
        response = client.post(
            admin_url(CrmLinkTemplate, "add"), {"record_type": "Lead", "url_template": url}
        )
        assert problem in response.content.decode().replace("&#x27;", "'")
    assert not CrmLinkTemplate.objects.exists()
