"""/readyz: ready only when the database answers, no migration is pending and the last
successful sync is recent enough; otherwise 503 with one reason per line."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client
from django.utils import timezone

from attention_review.reviews.models import SyncRun

from .helpers import run_django

pytestmark = pytest.mark.django_db


def readyz(client: Client):
    response = client.get("/readyz")
    return response.status_code, response.content.decode()


def sync_run(status: str, *, finished_ago: timedelta | None) -> SyncRun:
    finished = timezone.now() - finished_ago if finished_ago is not None else None
    return SyncRun.objects.create(status=status, finished_at=finished)


def test_a_migrated_database_that_never_synced_is_ready_without_a_login(client, settings):
    settings.READY_MAX_SYNC_AGE_MINUTES = 60
    response = client.get("/readyz")
    assert (response.status_code, response.content) == (200, b"ready")
    assert response["Content-Type"].startswith("text/plain")
    assert "no-store" in response["Cache-Control"]


def test_a_recent_successful_sync_is_ready(client, settings):
    settings.READY_MAX_SYNC_AGE_MINUTES = 60
    sync_run(SyncRun.Status.SUCCEEDED, finished_ago=timedelta(minutes=59))
    sync_run(SyncRun.Status.FAILED, finished_ago=timedelta(minutes=1))
    assert readyz(client) == (200, "ready")


def test_a_last_success_older_than_the_limit_is_not_ready(client, settings):
    settings.READY_MAX_SYNC_AGE_MINUTES = 60
    sync_run(SyncRun.Status.SUCCEEDED, finished_ago=timedelta(minutes=90))
    sync_run(SyncRun.Status.FAILED, finished_ago=timedelta(minutes=1))
    assert readyz(client) == (503, "last successful sync is 90 minutes old (limit 60)\n")


def test_syncs_that_never_succeeded_are_not_ready(client, settings):
    settings.READY_MAX_SYNC_AGE_MINUTES = 60
    sync_run(SyncRun.Status.FAILED, finished_ago=timedelta(minutes=1))
    sync_run(SyncRun.Status.RUNNING, finished_ago=None)
    assert readyz(client) == (503, "no successful sync yet\n")


def test_zero_turns_the_sync_check_off(client, settings):
    settings.READY_MAX_SYNC_AGE_MINUTES = 0
    sync_run(SyncRun.Status.SUCCEEDED, finished_ago=timedelta(days=30))
    assert readyz(client) == (200, "ready")
    SyncRun.objects.all().delete()
    sync_run(SyncRun.Status.FAILED, finished_ago=timedelta(minutes=1))
    assert readyz(client) == (200, "ready")


def test_a_pending_migration_is_not_ready(client, settings):
    settings.READY_MAX_SYNC_AGE_MINUTES = 60
    # As if sessions' first migration had not been applied (the test's transaction
    # puts the row back afterwards).
    recorder = MigrationRecorder(connection)
    recorder.migration_qs.filter(app="sessions", name="0001_initial").delete()
    assert readyz(client) == (503, "migrations pending: sessions.0001_initial\n")


def test_every_reason_is_listed_one_per_line(client, settings):
    settings.READY_MAX_SYNC_AGE_MINUTES = 60
    MigrationRecorder(connection).migration_qs.filter(app="sessions").delete()
    sync_run(SyncRun.Status.SUCCEEDED, finished_ago=timedelta(days=2))
    status, body = readyz(client)
    assert status == 503
    assert body.splitlines() == [
        "migrations pending: sessions.0001_initial",
        "last successful sync is 2880 minutes old (limit 60)",
    ]


def test_an_unreachable_database_is_a_503_not_a_500(tmp_path):
    result = run_django(
        """
        from django.test import Client
        for path in ("/readyz", "/healthz"):
            response = Client().get(path)
            print(path, response.status_code, repr(response.content.decode()))
        """,
        database=tmp_path / "no-such-folder" / "db.sqlite3",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "/readyz 503 'database unreachable\\n'",
        "/healthz 200 'ok'",
    ]
    assert "Readiness: the database did not answer" in result.stderr
