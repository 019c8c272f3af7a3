"""Following the write to the CRM: "confirmed" is not yet "in Salesforce".

After a confirm, Attention's `crmExportStatus` moves on its own (pending, then exported or
failed). The app re-reads it with a backoff that grows with the time since the confirm,
until it is final, and a failed export comes back to the rep who confirmed it.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from attention_review.attention.client import AttentionClient, AttentionError, AttentionNotFound

from ..fragment_cache import data_changed
from ..models import Conversation

logger = logging.getLogger(__name__)

# How long after a confirm the export is followed, and the longest pause between two
# reads of it (the first read waits ATTENTION_EXPORT_FIRST_CHECK_SECONDS).
FOLLOW_FOR = timedelta(days=2)
LONGEST_PAUSE = timedelta(hours=1)


def _first_check_after() -> timedelta:
    return timedelta(seconds=settings.ATTENTION_EXPORT_FIRST_CHECK_SECONDS)


def export_next_check(conversation: Conversation) -> datetime | None:
    """When the export should be read next: the pause doubles with the time already
    waited (5 s, 10 s, 20 s, ... up to an hour); None once it is final or too old."""
    confirmed_at = conversation.last_confirmed_at
    if confirmed_at is None or conversation.export_state in {"exported", "failed"}:
        return None
    if timezone.now() - confirmed_at > FOLLOW_FOR:
        return None
    checked_at = conversation.export_checked_at
    if checked_at is None or checked_at < confirmed_at:
        return confirmed_at + _first_check_after()
    waited = max(checked_at - confirmed_at, _first_check_after())
    return checked_at + min(waited, LONGEST_PAUSE)


def exports_to_follow() -> QuerySet[Conversation]:
    """Conversations confirmed recently whose export has not failed (the candidates of a
    sweep; the final ones are skipped by `export_next_check`)."""
    recent = timezone.now() - FOLLOW_FOR
    return Conversation.objects.filter(last_confirmed_at__gte=recent, export_failed=False).only(
        "pk", "attention_id", "crm_export_status", "last_confirmed_at", "export_checked_at"
    )


def export_check(*, conversation: Conversation, client: AttentionClient) -> str:
    """Read the conversation's export status once and record it; returns the state.

    A failed export sets `export_failed`, which puts the call back in front of its rep
    with Attention's reason. Reading fails quietly: the next check tries again.
    """
    try:
        resource = client.get_conversation(conversation.attention_id)
    except AttentionNotFound:
        logger.info("Conversation %s is gone from Attention; export not followed", conversation.pk)
        Conversation.objects.filter(pk=conversation.pk).update(export_checked_at=timezone.now())
        return conversation.export_state
    except AttentionError as error:
        logger.warning("Export check of conversation %s failed: %s", conversation.pk, error)
        return conversation.export_state
    attributes = resource.attributes
    conversation.crm_export_status = attributes.crm_export_status[:50]
    state = conversation.export_state
    reason = attributes.crm_export_error.strip()[:2000] if state == "failed" else ""
    Conversation.objects.filter(pk=conversation.pk).update(
        crm_export_status=conversation.crm_export_status,
        crm_export_error=reason,
        export_failed=state == "failed",
        export_checked_at=timezone.now(),
    )
    data_changed()
    return state


def exports_follow(*, client: AttentionClient, limit: int = 200) -> int:
    """Check every export whose next check is due; returns how many were read."""
    now = timezone.now()
    checked = 0
    for conversation in exports_to_follow().order_by("export_checked_at")[: limit * 5]:
        due = export_next_check(conversation)
        if due is None or due > now:
            continue
        export_check(conversation=conversation, client=client)
        checked += 1
        if checked >= limit:
            break
    return checked
