"""Background work through django.tasks: the database queue in production (workers run
`manage.py db_worker`), the immediate backend in tests."""

import logging

from django.tasks import task

from attention_review.attention.client import AttentionError, client_from_settings

from .models import SyncRun
from .services.sync import conversation_sync

logger = logging.getLogger(__name__)


@task()
def sync_conversations_task(*, run_id: int, full: bool = False) -> int:
    """Run a sync that `sync_enqueue` recorded as queued; returns the run's id.

    A failure is recorded on the run (the page shows it); it is not retried here, the
    next periodic sync picks up where this one stopped.
    """
    run = SyncRun.objects.get(pk=run_id)
    try:
        with client_from_settings() as client:
            conversation_sync(client=client, full=full, run=run)
    except AttentionError:
        logger.warning("Background sync %s failed; recorded on the run", run_id)
    return run_id
