"""Background work through django.tasks: the database queue in production (workers run
`manage.py db_worker`), the immediate backend in tests."""

import logging

from django.tasks import task

from attention_review.attention.client import AttentionError, client_from_settings

from .models import Conversation, SyncRun
from .services.digest import digest_send
from .services.export import export_check, export_next_check, exports_follow
from .services.reconcile import conversations_reconcile
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


@task()
def follow_export_task(*, conversation_id: int) -> str:
    """Read one conversation's export status; while it is not final, look again later
    (backends that can defer a task; the periodic sweep covers the others)."""
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        return ""
    with client_from_settings() as client:
        state = export_check(conversation=conversation, client=client)
    export_follow_later(conversation)
    return state


@task()
def follow_exports_task() -> int:
    """Check every export whose next look is due; run by `schedule_sync`."""
    with client_from_settings() as client:
        return exports_follow(client=client)


def export_follow_later(conversation: Conversation) -> None:
    """Queue the next look at a conversation's export, when the backend can wait."""
    if not follow_export_task.get_backend().supports_defer:
        return
    due = export_next_check(conversation)
    if due is not None:
        follow_export_task.using(run_after=due).enqueue(conversation_id=conversation.pk)


@task()
def reconcile_task() -> int:
    """Re-read the conversations the incremental sync no longer covers; returns the run."""
    with client_from_settings() as client:
        return conversations_reconcile(client=client).pk


@task()
def review_digest_task() -> int:
    """Email each reviewer their overdue calls, once a day; queued by every
    `schedule_sync` run (the one-a-day rule makes the repeats harmless)."""
    return digest_send()
