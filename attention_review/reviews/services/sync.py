"""The sync: Attention's conversations into the database, a page at a time.

The row mappings (`conversation_row`, `item_row`) are the one translation from an API
resource to table rows; the benchmark's database builder uses them too.
"""

import json
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
from ..values import same_value

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
    "withdrawn",
    "confirmed_value",
    "is_confirmed",
    "needs_review",
    "raw",
]


@dataclass(frozen=True)
class _ItemState:
    """What the sync needs to know of an item already stored."""

    pk: int
    ai_value: Any
    refreshing: bool
    withdrawn: bool
    confirmed_value: Any
    is_confirmed: bool
    is_decided: bool
    decided_ai_value: Any
    needs_review: bool


def item_needs_review(
    *,
    ai_value: Any,
    refreshing: bool,
    withdrawn: bool,
    is_confirmed: bool,
    confirmed_value: Any,
    is_decided: bool,
    decided_ai_value: Any,
) -> bool:
    """An AI proposal awaits a person unless it is what the CRM already holds, or what a
    confirmed decision (sent as is, edited, kept or left out) was about. A value a person
    changed or excluded never asks again by itself; a new proposal does."""
    if refreshing or withdrawn:
        return False
    if is_confirmed and same_value(confirmed_value, ai_value):
        return False
    return not (is_decided and same_value(decided_ai_value, ai_value))


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
    is_confirmed: bool,
    confirmed_value: Any,
    needs_review: bool,
) -> dict[str, Any]:
    """An extracted item's table row as the sync stores it (decisions are not the sync's)."""
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
        withdrawn=False,
        confirmed_value=confirmed_value,
        is_confirmed=is_confirmed,
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
        """Store one page; returns (created, updated).

        A map the resource leaves out or sends empty is "not reported", never "none": it
        changes no item. Items are never deleted: one the AI stops reporting is marked
        withdrawn, and every decision stays where it is.
        """
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
            plans = {
                resource.id: _ItemPlan.make(resource, stored_items.get(resource.id, {}))
                for resource in unique
            }
            now = timezone.now()
            rows = [
                conversation_row(
                    resource,
                    items_to_review=plans[resource.id].items_to_review(
                        forced=bool(forced.get(resource.id))
                    ),
                    owner_id=self.owners.get(resource.attributes.user_uuid),
                    team_id=self._team_id(resource.attributes.team_uuid[:64]),
                    now=now,
                )
                for resource in unique
            ]
            bulk_upsert(
                Conversation,
                rows,
                unique_fields=["attention_id"],
                update_fields=_CONVERSATION_SYNC_FIELDS,
            )
            pks = dict(
                Conversation.objects.filter(attention_id__in=ids).values_list("attention_id", "pk")
            )
            self._write_items(plans, pks)
        created = len(ids) - len(forced)
        return created, len(forced)

    def _stored_items(self, ids: list[str]) -> dict[str, dict[str, _ItemState]]:
        rows = IntelligenceItem.objects.filter(conversation__attention_id__in=ids).values_list(
            "conversation__attention_id",
            "item_id",
            "pk",
            "ai_value",
            "refreshing",
            "withdrawn",
            "confirmed_value",
            "is_confirmed",
            "is_decided",
            "decided_ai_value",
            "needs_review",
        )
        stored: dict[str, dict[str, _ItemState]] = {}
        for row in rows:
            stored.setdefault(row[0], {})[row[1]] = _ItemState(*row[2:])
        return stored

    def _write_items(self, plans: dict[str, "_ItemPlan"], pks: dict[str, int]) -> None:
        rows: list[dict[str, Any]] = []
        # Grouped by the change, so a confirm's ten items take one UPDATE, not ten.
        updates: dict[str, tuple[tuple[bool, bool, Any, bool], list[int]]] = {}
        for conversation_id, plan in plans.items():
            rows.extend(plan.rows(pks[conversation_id]))
            for pk, change in plan.changes_to_stored().items():
                group = json.dumps(change, sort_keys=True, default=str)
                updates.setdefault(group, (change, []))[1].append(pk)
        bulk_upsert(
            IntelligenceItem,
            rows,
            unique_fields=["conversation", "item_id"],
            update_fields=_ITEM_SYNC_FIELDS,
        )
        # Items the payload did not carry but whose state changed: withdrawn by the AI,
        # or confirmed in Attention while their proposal went unreported. Rare: one
        # UPDATE per distinct change.
        for change, item_pks in updates.values():
            withdrawn, is_confirmed, confirmed_value, needs_review = change
            IntelligenceItem.objects.filter(pk__in=item_pks).update(
                withdrawn=withdrawn,
                is_confirmed=is_confirmed,
                confirmed_value=confirmed_value,
                needs_review=needs_review,
            )


@dataclass
class _ItemPlan:
    """What one resource does to its conversation's items."""

    resource: schemas.Conversation
    stored: dict[str, _ItemState]
    # item id -> (position, extracted item) for the items the payload reports
    reported: dict[str, tuple[int, schemas.IntelligenceItem]]
    confirmed: dict[str, schemas.IntelligenceItem]

    @classmethod
    def make(cls, resource: schemas.Conversation, stored: dict[str, _ItemState]) -> "_ItemPlan":
        attributes = resource.attributes
        reported: dict[str, tuple[int, schemas.IntelligenceItem]] = {}
        for position, item in enumerate(attributes.extracted_intelligence.values()):
            reported.setdefault(item.id, (position, item))
        confirmed = {item.id: item for item in attributes.confirmed_extracted_intelligence.values()}
        return cls(resource=resource, stored=stored, reported=reported, confirmed=confirmed)

    def _crm(self, item_id: str) -> tuple[bool, Any]:
        """(is_confirmed, value): as reported, else as stored (absence is not news)."""
        entry = self.confirmed.get(item_id)
        if entry is not None:
            return True, entry.value
        stored = self.stored.get(item_id)
        if stored is not None:
            return stored.is_confirmed, stored.confirmed_value
        return False, None

    def _needs_review(self, item_id: str, ai_value: Any, refreshing: bool, withdrawn: bool) -> bool:
        is_confirmed, confirmed_value = self._crm(item_id)
        stored = self.stored.get(item_id)
        return item_needs_review(
            ai_value=ai_value,
            refreshing=refreshing,
            withdrawn=withdrawn,
            is_confirmed=is_confirmed,
            confirmed_value=confirmed_value,
            is_decided=stored is not None and stored.is_decided,
            decided_ai_value=stored.decided_ai_value if stored is not None else None,
        )

    def _withdrawn(self, item_id: str) -> bool:
        """Withdrawn when the AI reports a list of items without it; an unreported list
        leaves the item as it was."""
        if not self.reported:
            return self.stored[item_id].withdrawn
        return item_id not in self.reported

    def rows(self, conversation_pk: int) -> list[dict[str, Any]]:
        rows = []
        for item_id, (position, item) in self.reported.items():
            is_confirmed, confirmed_value = self._crm(item_id)
            rows.append(
                item_row(
                    item,
                    conversation_pk=conversation_pk,
                    position=position,
                    is_confirmed=is_confirmed,
                    confirmed_value=confirmed_value,
                    needs_review=self._needs_review(item_id, item.value, item.refreshing, False),
                )
            )
        return rows

    def changes_to_stored(self) -> dict[int, tuple[bool, bool, Any, bool]]:
        """pk -> (withdrawn, is_confirmed, confirmed_value, needs_review) for stored items
        the payload does not carry whose state changes."""
        changes = {}
        for item_id, stored in self.stored.items():
            if item_id in self.reported:
                continue
            withdrawn = self._withdrawn(item_id)
            is_confirmed, confirmed_value = self._crm(item_id)
            needs_review = self._needs_review(
                item_id, stored.ai_value, stored.refreshing, withdrawn
            )
            state = (withdrawn, is_confirmed, confirmed_value, needs_review)
            if state != (
                stored.withdrawn,
                stored.is_confirmed,
                stored.confirmed_value,
                stored.needs_review,
            ):
                changes[stored.pk] = state
        return changes

    def items_to_review(self, *, forced: bool) -> int:
        """How many proposals await a person (every confirmable one when an admin
        returned the conversation to the queue)."""
        total = 0
        for item_id, (_, item) in self.reported.items():
            if forced:
                total += not item.refreshing
            else:
                total += self._needs_review(item_id, item.value, item.refreshing, False)
        for item_id, stored in self.stored.items():
            if item_id in self.reported:
                continue
            withdrawn = self._withdrawn(item_id)
            if forced:
                total += not (stored.refreshing or withdrawn)
            else:
                total += self._needs_review(item_id, stored.ai_value, stored.refreshing, withdrawn)
        return total


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
