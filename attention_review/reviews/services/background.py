"""Queueing background work for a worker (`manage.py db_worker`)."""

from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from ..models import SyncRun
from ..tasks import sync_conversations_task

# A sync that has shown no progress for this long was cut off (a worker killed mid-run).
SYNC_STALE_AFTER = timedelta(minutes=30)


def sync_active() -> SyncRun | None:
    """The queued or running sync, if one is under way (stale ones are not)."""
    cutoff = timezone.now() - SYNC_STALE_AFTER
    return (
        SyncRun.objects.filter(
            kind=SyncRun.Kind.SYNC,
            status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING],
            started_at__gte=cutoff,
        )
        .order_by("-started_at")
        .first()
    )


def sync_enqueue(*, started_by: User | None = None, full: bool = False) -> tuple[SyncRun, bool]:
    """Queue a background sync unless one is under way; returns (run, newly queued)."""
    with transaction.atomic():
        active = sync_active()
        if active is not None:
            return active, False
        run = SyncRun.objects.create(status=SyncRun.Status.QUEUED, started_by=started_by)
    # Enqueued after the commit: a worker must find the run it is given.
    sync_conversations_task.enqueue(run_id=run.pk, full=full)
    run.refresh_from_db()
    return run, True
