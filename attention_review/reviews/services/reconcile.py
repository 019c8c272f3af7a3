"""The reconcile: re-read conversations the incremental sync no longer covers.

The sync asks only for what changed since its last success (minus an overlap), so a call
confirmed or deleted in Attention weeks later would otherwise stay in the queue for
ever. The reconcile re-reads every conversation at most once per period, the longest
unread first, in chunks, each stored in its own transaction: stopped half-way, the next
run carries on where it stopped. A conversation Attention answers 404 for is marked
gone: out of the queue, kept for the audit.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from attention_review.attention import schemas
from attention_review.attention.client import AttentionClient, AttentionError, AttentionNotFound

from ..models import Conversation, SyncRun
from .sync import PageOutcome, PageWriter, fetch_conversations, store_resources

logger = logging.getLogger(__name__)


def reconcile_due() -> bool:
    """Whether a periodic reconcile should start: none has started within the period."""
    period = timedelta(hours=settings.ATTENTION_RECONCILE_EVERY_HOURS)
    return not SyncRun.objects.filter(
        kind=SyncRun.Kind.RECONCILE, started_at__gte=timezone.now() - period
    ).exists()


def conversations_reconcile(
    *,
    client: AttentionClient,
    chunk_size: int = 200,
    max_chunks: int | None = None,
    concurrency: int | None = None,
) -> SyncRun:
    """Re-read the conversations not read within the period, `chunk_size` at a time."""
    now = timezone.now()
    period = timedelta(hours=settings.ATTENTION_RECONCILE_EVERY_HOURS)
    ahead = concurrency or settings.ATTENTION_SYNC_CONCURRENCY
    run = SyncRun.objects.create(kind=SyncRun.Kind.RECONCILE, status=SyncRun.Status.RUNNING)
    writer = PageWriter()
    due = Q(reconciled_at__isnull=True) | Q(reconciled_at__lt=now - period)
    try:
        while max_chunks is None or run.pages < max_chunks:
            chunk = list(
                Conversation.objects.filter(due, gone_at__isnull=True)
                .order_by(F("reconciled_at").asc(nulls_first=True), "id")
                .values_list("attention_id", flat=True)[:chunk_size]
            )
            if not chunk:
                break
            answers = fetch_conversations(client, chunk, concurrency=ahead)
            found = [
                answer for answer in answers.values() if isinstance(answer, schemas.Conversation)
            ]
            gone = [key for key, answer in answers.items() if isinstance(answer, AttentionNotFound)]
            unread = [
                key
                for key, answer in answers.items()
                if isinstance(answer, AttentionError) and not isinstance(answer, AttentionNotFound)
            ]
            outcome = PageOutcome()
            with transaction.atomic():
                _, updated = store_resources(writer, found, outcome, client)
                read_at = timezone.now()
                # Read, or not readable now: either way on to the next; an unread one is
                # tried again next period (and a later sync may bring it sooner).
                Conversation.objects.filter(attention_id__in=chunk).update(reconciled_at=read_at)
                Conversation.objects.filter(attention_id__in=gone).update(
                    gone_at=read_at, awaiting_review=False
                )
            run.pages += 1
            run.records_seen += len(chunk)
            run.updated += updated
            run.gone += len(gone)
            run.set_aside += outcome.set_aside
            if unread:
                run.warnings.append(
                    f"{len(unread)} conversation(s) could not be read this time; they are "
                    "tried again next period."
                )
            run.save(
                update_fields=["pages", "records_seen", "updated", "gone", "set_aside", "warnings"]
            )
    except Exception as error:
        run.status = SyncRun.Status.FAILED
        run.error = client.redact(f"{type(error).__name__}: {error}")[:2000]
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        logger.exception("Reconcile %s failed after %d chunks", run.pk, run.pages)
        raise
    run.status = SyncRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at"])
    logger.info(
        "Reconcile %s read %d conversations: %d updated, %d gone",
        run.pk,
        run.records_seen,
        run.updated,
        run.gone,
    )
    return run
