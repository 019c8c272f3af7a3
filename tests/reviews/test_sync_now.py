"""Managers start a sync from the queue page; it runs through django.tasks."""

import pytest
from django.urls import reverse

from attention_review.reviews.models import Conversation, SyncRun

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def test_a_manager_syncs_now_and_sees_the_result(login, manager, sandbox, rep, rep2):
    client = login(manager)
    page = client.get(reverse("reviews:queue")).content.decode()
    assert "Not synced yet" in page
    response = client.post(reverse("reviews:sync-now"), headers=HTMX)
    run = SyncRun.objects.get()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.started_by == manager
    assert Conversation.objects.count() == run.created > 0
    html = response.content.decode()
    assert f"{run.created} new" in html
    assert "every 2s" not in html, "nothing left to poll once the sync is done"


def test_a_sync_under_way_is_shown_with_its_progress_and_polled(login, manager, db):
    SyncRun.objects.create(status=SyncRun.Status.RUNNING, pages=3, pages_total=10)
    client = login(manager)
    html = client.get(reverse("reviews:sync-status"), headers=HTMX).content.decode()
    assert "page 3 of 10" in html
    assert 'hx-trigger="every 2s"' in html
    assert 'value="30"' in html
    # a second "Sync now" does not start another
    client.post(reverse("reviews:sync-now"))
    assert SyncRun.objects.count() == 1


def test_a_failed_sync_says_so(login, manager, sandbox, rep):
    sandbox.state.add_fault(kind="status", status=503, times=None, path_contains="/list")
    client = login(manager)
    response = client.post(reverse("reviews:sync-now"), follow=True)
    assert SyncRun.objects.get().status == SyncRun.Status.FAILED
    assert "failed" in response.content.decode()


@pytest.mark.parametrize("persona", ["rep", "outsider"])
def test_reps_cannot_start_or_follow_a_sync(login, request, persona, db):
    client = login(request.getfixturevalue(persona))
    assert client.post(reverse("reviews:sync-now")).status_code == 403
    assert client.get(reverse("reviews:sync-status"), headers=HTMX).status_code == 403
    assert not SyncRun.objects.exists()


def test_sync_now_requires_post(login, manager, db):
    assert login(manager).get(reverse("reviews:sync-now")).status_code == 405


def test_the_periodic_scheduler_queues_a_sync_and_the_reconcile_when_due(sandbox, rep, db):
    from django.core.management import call_command

    call_command("schedule_sync", "--once")
    sync = SyncRun.objects.get(kind=SyncRun.Kind.SYNC)
    assert sync.status == SyncRun.Status.SUCCEEDED
    reconcile = SyncRun.objects.get(kind=SyncRun.Kind.RECONCILE)
    assert reconcile.status == SyncRun.Status.SUCCEEDED
    assert reconcile.records_seen == sync.created, "every conversation re-read once"

    call_command("schedule_sync", "--once")
    assert SyncRun.objects.filter(kind=SyncRun.Kind.RECONCILE).count() == 1, "not due again"
