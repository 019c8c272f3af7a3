"""The sync: Attention's conversations into the database, a page at a time.

The row mappings (`conversation_row`, `item_row`) are the one translation from an API
resource to table rows; the benchmark's database builder uses them too.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from attention_review.attention import schemas
from attention_review.attention.client import AttentionClient, AttentionError

from ..bulk import bulk_upsert
from ..models import AttentionUser, Conversation, IntelligenceItem, SyncRun, Team

logger = logging.getLogger(__name__)

_CONVERSATION_SYNC_FIELDS = [
    "title",
    "started_at",
    "finished_at",
    "duration_seconds",
    "owner_attention_uuid",
    "team_attention_uuid",
    "owner",
    "team",
    "participant_count",
    "is_internal",
    "is_empty",
    "archived",
    "private",
    "crm_export_status",
    "transcript_status",
    "external_opportunity_id",
    "external_opportunity_title",
    "intelligence_opportunity_id",
    "items_to_review",
    "awaiting_review",
    "raw",
    "synced_at",
]
_ITEM_SYNC_FIELDS = [
    "key",
    "title",
    "category",
    "position",
    "ai_value",
    "options",
    "refreshing",
    "confirmed_value",
    "is_confirmed",
    "needs_review",
    "raw",
]


@dataclass(frozen=True)
class _ItemState:
    """What the sync needs to know of an item already stored."""

    pk: int
    has_draft: bool
    is_decided: bool
    decided_ai_value: Any


def item_needs_review(
    extracted: schemas.IntelligenceItem,
    confirmed: schemas.IntelligenceItem | None,
    stored: _ItemState | None,
) -> bool:
    """An extracted item awaits review unless confirmed with the same value, or decided
    in a confirmed review (sent edited, or left out) while the AI's value was as now."""
    if extracted.refreshing:
        return False
    if confirmed is not None and confirmed.value == extracted.value:
        return False
    return not (stored and stored.is_decided and stored.decided_ai_value == extracted.value)


def conversation_row(
    resource: schemas.Conversation,
    *,
    items_to_review: int,
    owner_id: int | None,
    team_id: int | None,
    now: datetime,
) -> dict[str, Any]:
    """The conversation's table row as the sync stores it."""
    attributes = resource.attributes
    opportunity = attributes.external_opportunity
    hidden = Conversation.hidden_from_queue(
        is_internal=attributes.is_internal,
        is_empty=attributes.is_empty,
        archived=attributes.archived,
    )
    return dict(
        attention_id=resource.id,
        title=attributes.title[:500],
        started_at=attributes.created_at,
        finished_at=attributes.finished_at,
        duration_seconds=max(attributes.media_duration or 0, 0) or None,
        owner_attention_uuid=attributes.user_uuid[:64],
        team_attention_uuid=attributes.team_uuid[:64],
        owner_id=owner_id,
        team_id=team_id,
        participant_count=len(attributes.participants),
        is_internal=attributes.is_internal,
        is_empty=attributes.is_empty,
        archived=attributes.archived,
        private=attributes.private,
        crm_export_status=attributes.crm_export_status[:50],
        transcript_status=attributes.transcript_status[:50],
        external_opportunity_id=(opportunity.uuid if opportunity else "")[:200],
        external_opportunity_title=(opportunity.title if opportunity else "")[:500],
        intelligence_opportunity_id=attributes.external_intelligence_opportunity_id[:200],
        items_to_review=items_to_review,
        awaiting_review=items_to_review > 0 and not hidden,
        raw=resource.raw,
        synced_at=now,
    )


def item_row(
    item: schemas.IntelligenceItem,
    *,
    conversation_pk: int,
    position: int,
    confirmed: schemas.IntelligenceItem | None,
    needs_review: bool,
) -> dict[str, Any]:
    """An extracted item's table row as the sync stores it (drafts are not the sync's)."""
    return dict(
        conversation_id=conversation_pk,
        item_id=item.id[:200],
        key=item.key[:200],
        title=item.title[:500],
        category=item.category[:100],
        position=position,
        ai_value=item.value,
        options=item.options,
        refreshing=item.refreshing,
        confirmed_value=confirmed.value if confirmed else None,
        is_confirmed=confirmed is not None,
        needs_review=needs_review,
        raw=item.raw,
    )


class _PageWriter:
    """Upserts pages of conversation resources in bulk: a few queries a page, not a row."""

    def __init__(self) -> None:
        self.owners: dict[str, int] = dict(
            AttentionUser.objects.filter(user__isnull=False).values_list(
                "attention_uuid", "user_id"
            )
        )
        self.teams: dict[str, int] = dict(Team.objects.values_list("attention_uuid", "id"))

    def _team_id(self, team_uuid: str) -> int | None:
        if not team_uuid:
            return None
        if team_uuid not in self.teams:
            team, _ = Team.objects.get_or_create(attention_uuid=team_uuid)
            self.teams[team_uuid] = team.pk
        return self.teams[team_uuid]

    def write(self, resources: list[schemas.Conversation]) -> tuple[int, int]:
        """Store one page; returns (created, updated)."""
        # The same conversation twice on one page would make the bulk upsert fail.
        unique = list({resource.id: resource for resource in resources}.values())
        if not unique:
            return 0, 0
        ids = [resource.id for resource in unique]
        with transaction.atomic():
            forced = dict(
                Conversation.objects.filter(attention_id__in=ids).values_list(
                    "attention_id", "force_review"
                )
            )
            stored_items = self._stored_items(ids)
            now = timezone.now()
            rows = []
            for resource in unique:
                items_to_review = sum(
                    item_needs_review(
                        item,
                        confirmed_counterpart(resource.attributes, item),
                        stored_items.get((resource.id, item.id)),
                    )
                    for item in resource.attributes.extracted_intelligence.values()
                )
                if forced.get(resource.id):
                    items_to_review = sum(
                        not item.refreshing
                        for item in resource.attributes.extracted_intelligence.values()
                    )
                rows.append(
                    conversation_row(
                        resource,
                        items_to_review=items_to_review,
                        owner_id=self.owners.get(resource.attributes.user_uuid),
                        team_id=self._team_id(resource.attributes.team_uuid[:64]),
                        now=now,
                    )
                )
            bulk_upsert(
                Conversation,
                rows,
                unique_fields=["attention_id"],
                update_fields=_CONVERSATION_SYNC_FIELDS,
            )
            pks = dict(
                Conversation.objects.filter(attention_id__in=ids).values_list("attention_id", "pk")
            )
            self._write_items(unique, pks, stored_items)
        created = len(ids) - len(forced)
        return created, len(forced)

    def _stored_items(self, ids: list[str]) -> dict[tuple[str, str], _ItemState]:
        rows = IntelligenceItem.objects.filter(conversation__attention_id__in=ids).values_list(
            "conversation__attention_id",
            "item_id",
            "pk",
            "is_edited",
            "is_excluded",
            "is_decided",
            "decided_ai_value",
        )
        return {
            (row[0], row[1]): _ItemState(
                pk=row[2], has_draft=row[3] or row[4], is_decided=row[5], decided_ai_value=row[6]
            )
            for row in rows
        }

    def _write_items(
        self,
        resources: list[schemas.Conversation],
        pks: dict[str, int],
        stored_items: dict[tuple[str, str], _ItemState],
    ) -> None:
        rows: list[dict[str, Any]] = []
        keep: set[int] = set()
        for resource in resources:
            conversation_pk = pks[resource.id]
            seen_in_payload: set[str] = set()
            for position, item in enumerate(resource.attributes.extracted_intelligence.values()):
                if item.id in seen_in_payload:
                    continue
                seen_in_payload.add(item.id)
                stored = stored_items.get((resource.id, item.id))
                if stored is not None:
                    keep.add(stored.pk)
                    if stored.has_draft:
                        # Never overwrite what a reviewer has typed or decided.
                        continue
                confirmed = confirmed_counterpart(resource.attributes, item)
                rows.append(
                    item_row(
                        item,
                        conversation_pk=conversation_pk,
                        position=position,
                        confirmed=confirmed,
                        needs_review=item_needs_review(item, confirmed, stored),
                    )
                )
        bulk_upsert(
            IntelligenceItem,
            rows,
            unique_fields=["conversation", "item_id"],
            update_fields=_ITEM_SYNC_FIELDS,
        )
        # Items the AI no longer reports go, unless a reviewer has a draft on them.
        gone = [
            state.pk
            for state in stored_items.values()
            if state.pk not in keep and not state.has_draft
        ]
        if gone:
            # Checked again as the rows are deleted: a draft saved since they were read
            # keeps its item (PostgreSQL re-reads a row it had to wait for).
            IntelligenceItem.objects.filter(
                pk__in=gone, is_edited=False, is_excluded=False
            ).delete()


def confirmed_counterpart(
    attributes: schemas.ConversationAttributes, item: schemas.IntelligenceItem
) -> schemas.IntelligenceItem | None:
    """The confirmed entry with the same id as an extracted one, whatever its map key."""
    by_key = attributes.confirmed_extracted_intelligence.get(item.key)
    if by_key is not None and by_key.id == item.id:
        return by_key
    for confirmed in attributes.confirmed_extracted_intelligence.values():
        if confirmed.id == item.id:
            return confirmed
    return None


def conversations_write(*, resources: list[schemas.Conversation]) -> tuple[int, int]:
    """Store conversations as Attention returned them, drafts kept; (created, updated)."""
    return _PageWriter().write(resources)


def conversation_store(*, resource: schemas.Conversation) -> Conversation:
    """Store one conversation as Attention returned it (after a confirm or a refresh)."""
    conversations_write(resources=[resource])
    return Conversation.objects.get(attention_id=resource.id)


def attention_users_link(*, client: AttentionClient) -> int:
    """Match app users to Attention users by email; returns how many were linked.

    The conversation resource names its owner only by `userUUID`, so for each app user
    not yet linked we ask the list endpoint for one of the conversations they own.
    """
    user_model = get_user_model()
    unlinked = (
        user_model.objects.filter(is_active=True, attention_identities__isnull=True)
        .exclude(email="")
        .values_list("pk", "email")
    )
    linked = 0
    for user_pk, user_email in unlinked:
        pages = client.list_conversation_pages(
            owner_email=user_email, hide_non_analyzed=False, with_crm_records=False
        )
        _, first_page = next(iter(pages))
        owner_uuids = {resource.attributes.user_uuid for resource in first_page.data} - {""}
        if len(owner_uuids) != 1:
            continue
        (owner_uuid,) = owner_uuids
        AttentionUser.objects.update_or_create(
            attention_uuid=owner_uuid, defaults={"email": user_email, "user_id": user_pk}
        )
        Conversation.objects.filter(owner_attention_uuid=owner_uuid).update(owner_id=user_pk)
        linked += 1
    return linked


def _sync_window_start(*, full: bool) -> tuple[datetime | None, int]:
    """Where a sync starts: (fromDateTime, first page)."""
    if full:
        return None, 1
    last_success = SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).first()
    from_datetime = None
    if last_success is not None:
        overlap = timedelta(minutes=settings.ATTENTION_SYNC_OVERLAP_MINUTES)
        from_datetime = last_success.started_at - overlap
    # A run that failed part-way over the same window resumes after its last stored page.
    last_run = SyncRun.objects.filter(
        status__in=[SyncRun.Status.SUCCEEDED, SyncRun.Status.FAILED]
    ).first()
    if (
        last_run is not None
        and last_run.status == SyncRun.Status.FAILED
        and not last_run.full
        and last_run.from_datetime == from_datetime
        and last_run.pages
    ):
        return from_datetime, last_run.start_page + last_run.pages
    return from_datetime, 1


def conversation_sync(
    *,
    client: AttentionClient,
    full: bool = False,
    started_by: User | None = None,
    on_page: Callable[[SyncRun], None] | None = None,
    run: SyncRun | None = None,
) -> SyncRun:
    """Pull conversations from Attention into the database, one page at a time.

    Each page is stored in its own transaction, so a failure keeps what was stored and
    the next run resumes after it. Errors are recorded on the run, then re-raised.
    `run` is a run recorded as queued by `sync_enqueue`; without one a new run starts.
    """
    from_datetime, start_page = _sync_window_start(full=full)
    if run is None:
        run = SyncRun(started_by=started_by)
    run.full = full
    run.from_datetime = from_datetime
    run.start_page = start_page
    run.status = SyncRun.Status.RUNNING
    run.save()
    try:
        attention_users_link(client=client)
        writer = _PageWriter()
        pages = client.list_conversation_pages(from_datetime=from_datetime, start_page=start_page)
        for page_number, page in pages:
            created, updated = writer.write(page.data)
            run.pages += 1
            run.created += created
            run.updated += updated
            size = client.page_size
            run.pages_total = max(-(-page.meta.total_records // size), page_number)
            run.save(update_fields=["pages", "created", "updated", "pages_total"])
            if on_page is not None:
                on_page(run)
    except AttentionError as error:
        run.status = SyncRun.Status.FAILED
        run.error = f"{type(error).__name__}: {error.detail or error.user_message}"[:2000]
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        logger.warning("Sync %s failed after %d pages: %s", run.pk, run.pages, run.error)
        raise
    except Exception as error:
        # Not Attention's doing (a database error, a bug): still end the run, or it would
        # look under way and hold back "Sync now" until it went stale.
        run.status = SyncRun.Status.FAILED
        run.error = f"Internal error ({type(error).__name__}); see the server log."
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        logger.exception("Sync %s failed after %d pages", run.pk, run.pages)
        raise
    run.status = SyncRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at"])
    return run
