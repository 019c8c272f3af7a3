"""The sync pulls the sandbox's conversations over HTTP into the database."""

from io import StringIO

import pytest
from django.core.management import call_command

from attention_review.attention.client import AttentionUnavailable
from attention_review.reviews.models import AttentionUser, Conversation, IntelligenceItem, SyncRun
from attention_review.reviews.services.sync import conversation_sync

pytestmark = pytest.mark.django_db


def analysed_resources(api):
    return list(api.list_conversations())


def test_sync_stores_every_analysed_conversation_once(synced, api):
    resources = analysed_resources(api)
    assert Conversation.objects.count() == len(resources)
    assert synced.status == SyncRun.Status.SUCCEEDED
    assert synced.created == len(resources)
    assert synced.pages == -(-len(resources) // 50)


def test_second_sync_updates_without_duplicates(synced, api):
    again = conversation_sync(client=api, full=True)
    assert again.created == 0
    assert again.updated == Conversation.objects.count()
    item_ids = list(IntelligenceItem.objects.values_list("conversation_id", "item_id"))
    assert len(item_ids) == len(set(item_ids))


def test_sync_keeps_the_raw_payload_and_the_items(synced, api):
    resource = analysed_resources(api)[0]
    stored = Conversation.objects.get(attention_id=resource.id)
    assert stored.raw["attributes"]["title"] == resource.attributes.title
    assert stored.items.count() == len(resource.attributes.extracted_intelligence)
    assert stored.participant_count == len(resource.attributes.participants)


def test_awaiting_review_is_computed_from_both_intelligence_maps(synced, api):
    for resource in analysed_resources(api):
        attributes = resource.attributes
        confirmed_by_id = {i.id: i for i in attributes.confirmed_extracted_intelligence.values()}
        expected = sum(
            1
            for item in attributes.extracted_intelligence.values()
            if not item.refreshing
            and (item.id not in confirmed_by_id or confirmed_by_id[item.id].value != item.value)
        )
        stored = Conversation.objects.get(attention_id=resource.id)
        assert stored.items_to_review == expected, resource.attributes.title
        hidden = attributes.is_internal or attributes.is_empty or attributes.archived
        assert stored.awaiting_review == (expected > 0 and not hidden)
    assert Conversation.objects.filter(awaiting_review=True).exists()
    assert Conversation.objects.filter(awaiting_review=False).exists()


def test_conversations_are_linked_to_their_rep_by_email(synced, rep, rep2, api):
    rep_uuids = {c.attributes.user_uuid for c in api.list_conversations(owner_email=rep.email)}
    assert AttentionUser.objects.get(user=rep).attention_uuid in rep_uuids
    owned = Conversation.objects.filter(owner=rep)
    assert owned.exists()
    assert set(owned.values_list("owner_attention_uuid", flat=True)) == rep_uuids
    assert Conversation.objects.filter(owner=rep2).exists()
    assert Conversation.objects.filter(owner__isnull=True).exists(), "reps without an account"


def test_a_reviewers_edit_survives_a_sync(synced, api):
    item = IntelligenceItem.objects.filter(conversation__awaiting_review=True).first()
    item.choice = IntelligenceItem.Choice.OWN
    item.decision_value = "What the rep typed"
    item.save()
    conversation_sync(client=api, full=True)
    item.refresh_from_db()
    assert item.is_edited
    assert item.decision_value == "What the rep typed"


def test_incremental_sync_starts_from_the_last_success_minus_the_overlap(synced, api, settings):
    settings.ATTENTION_SYNC_OVERLAP_MINUTES = 60
    run = conversation_sync(client=api)
    assert run.from_datetime is not None
    assert (synced.started_at - run.from_datetime).total_seconds() == pytest.approx(3600, abs=1)


def test_a_failed_sync_is_recorded_and_the_next_one_resumes(db, sandbox, api, rep, rep2):
    sandbox.state.add_fault(
        kind="status", status=503, times=None, path_contains="withCrmRecords=true&page=2"
    )
    with pytest.raises(AttentionUnavailable):
        conversation_sync(client=api)
    failed = SyncRun.objects.get()
    assert failed.status == SyncRun.Status.FAILED
    assert failed.pages == 1
    assert "AttentionUnavailable" in failed.error
    stored_after_failure = Conversation.objects.count()
    assert stored_after_failure == 50, "the first page is kept"
    sandbox.state.clear_faults()
    resumed = conversation_sync(client=api)
    assert resumed.start_page == 2
    assert resumed.status == SyncRun.Status.SUCCEEDED
    assert Conversation.objects.count() == len(analysed_resources(api))


def test_sync_command_reports_what_it_did(db, sandbox, rep):
    out = StringIO()
    call_command("sync_conversations", stdout=out)
    assert "new" in out.getvalue()
    assert Conversation.objects.exists()
