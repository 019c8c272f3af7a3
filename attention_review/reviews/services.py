"""Every action that changes state. Each service owns its transaction and its locking."""

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from attention_review.attention import schemas
from attention_review.attention.client import (
    AttentionClient,
    AttentionError,
    AttentionOutcomeUnknown,
)

from .bulk import bulk_upsert
from .models import (
    AttentionUser,
    ConfirmationAttempt,
    ConfirmedItem,
    Conversation,
    IntelligenceItem,
    SyncRun,
    Team,
)

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


def _item_needs_review(
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
                    _item_needs_review(
                        item,
                        _confirmed_counterpart(resource.attributes, item),
                        stored_items.get((resource.id, item.id)),
                    )
                    for item in resource.attributes.extracted_intelligence.values()
                )
                if forced.get(resource.id):
                    items_to_review = sum(
                        not item.refreshing
                        for item in resource.attributes.extracted_intelligence.values()
                    )
                rows.append(self._conversation_row(resource, items_to_review, now))
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

    def _conversation_row(
        self, resource: schemas.Conversation, items_to_review: int, now: Any
    ) -> dict[str, Any]:
        attributes = resource.attributes
        opportunity = attributes.external_opportunity
        hidden = attributes.is_internal or attributes.is_empty or attributes.archived
        return dict(
            attention_id=resource.id,
            title=attributes.title[:500],
            started_at=attributes.created_at,
            finished_at=attributes.finished_at,
            duration_seconds=max(attributes.media_duration or 0, 0) or None,
            owner_attention_uuid=attributes.user_uuid[:64],
            team_attention_uuid=attributes.team_uuid[:64],
            owner_id=self.owners.get(attributes.user_uuid),
            team_id=self._team_id(attributes.team_uuid[:64]),
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
                confirmed = _confirmed_counterpart(resource.attributes, item)
                rows.append(
                    dict(
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
                        needs_review=_item_needs_review(item, confirmed, stored),
                        raw=item.raw,
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


def _confirmed_counterpart(
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


def conversation_store(*, resource: schemas.Conversation) -> Conversation:
    """Store one conversation as Attention returned it (after a confirm or a refresh)."""
    _PageWriter().write([resource])
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


def _sync_window_start(*, full: bool) -> tuple:
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
    started_by: Any = None,
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


def demo_accounts_create(*, password: str) -> list[str]:
    """Create the demo accounts (demo only: refused unless ATTENTION_DEMO is on)."""
    from django.contrib.auth.models import Group

    from attention_review.sandbox.demo_data import DEMO_TEAMS

    if not settings.DEMO_MODE:
        raise RuntimeError("Demo accounts are only created with ATTENTION_DEMO=1")
    user_model = get_user_model()
    specs: Iterable[tuple[str, str, str, str, str | None]] = [
        ("rep", "rep@attention-demo.test", "Riley", "Park", "Reps"),
        ("rep2", "rep2@attention-demo.test", "Sam", "Ortega", "Reps"),
        ("manager", "manager@attention-demo.test", "Morgan", "Lee", "Managers"),
        ("admin", "admin@attention-demo.test", "Alex", "Admin", None),
    ]
    created = []
    for username, user_email, first_name, last_name, group_name in specs:
        user, _ = user_model.objects.get_or_create(
            username=username,
            defaults={"email": user_email, "first_name": first_name, "last_name": last_name},
        )
        user.set_password(password)
        user.is_staff = user.is_superuser = username == "admin"
        user.save()
        if group_name:
            user.groups.add(Group.objects.get_or_create(name=group_name)[0])
        created.append(username)
    for team in DEMO_TEAMS:
        Team.objects.update_or_create(attention_uuid=team["uuid"], defaults={"name": team["name"]})
    return created


# Review drafts ------------------------------------------------------------------------


CONFIRMING = "This review is being confirmed right now, so the change was not saved."


def _confirm_in_flight(conversation_pk: int) -> bool:
    """Take the conversation's row lock, as the confirm does, and say whether a confirm of
    the current round is in flight or unresolved. Its success clears the drafts, so a
    change made meanwhile would be lost without ever being sent: callers refuse it."""
    in_flight = ConfirmationAttempt.objects.filter(
        conversation=OuterRef("pk"),
        review_round=OuterRef("review_round"),
        outcome__in=[ConfirmationAttempt.Outcome.PENDING, ConfirmationAttempt.Outcome.UNKNOWN],
    )
    return (
        Conversation.objects.select_for_update()
        .filter(pk=conversation_pk)
        .annotate(in_flight=Exists(in_flight))
        .values_list("in_flight", flat=True)
        .get()
    )


def _item_update(item: IntelligenceItem, user: Any, **changes: Any) -> IntelligenceItem:
    """Write a draft change in one UPDATE: atomic for the row, so simultaneous saves of
    one item leave one whole value, never a mix. Raises ReviewError during a confirm."""
    changes.update(reviewed_at=timezone.now(), reviewed_by=user)
    # No savepoint: nothing in the block needs rolling back on its own.
    with transaction.atomic(savepoint=False):
        confirming = _confirm_in_flight(item.conversation_id)
        if not confirming:
            IntelligenceItem.objects.filter(
                pk=item.pk, conversation_id=item.conversation_id
            ).update(**changes)
    if confirming:
        raise ReviewError(CONFIRMING)
    for name, value in changes.items():
        setattr(item, name, value)
    return item


def item_save_draft(*, item: IntelligenceItem, value: Any, user: Any) -> IntelligenceItem:
    """Store the reviewer's value for an item at once; the AI's own value is no edit."""
    edited = value != item.ai_value
    return _item_update(item, user, is_edited=edited, draft_value=value if edited else None)


def item_reset(*, item: IntelligenceItem, user: Any) -> IntelligenceItem:
    """Go back to the AI's value (and include the item again)."""
    return _item_update(item, user, is_edited=False, draft_value=None, is_excluded=False)


def item_set_excluded(*, item: IntelligenceItem, excluded: bool, user: Any) -> IntelligenceItem:
    """Leave an item out of the confirm, or put it back; its draft value is kept."""
    return _item_update(item, user, is_excluded=excluded)


def review_open(*, conversation: Conversation) -> None:
    """Note when a review was first opened, for the time-to-confirm figures."""
    if conversation.awaiting_review and conversation.review_opened_at is None:
        now = timezone.now()
        updated = Conversation.objects.filter(
            pk=conversation.pk, review_opened_at__isnull=True
        ).update(review_opened_at=now)
        if updated:
            conversation.review_opened_at = now


def opportunity_choose(*, conversation: Conversation, opportunity_id: str) -> None:
    """Remember the opportunity the reviewer picked (blank: Attention's default)."""
    if opportunity_id == conversation.default_opportunity_id:
        opportunity_id = ""
    with transaction.atomic(savepoint=False):
        confirming = _confirm_in_flight(conversation.pk)
        if not confirming:
            Conversation.objects.filter(pk=conversation.pk).update(
                draft_opportunity_id=opportunity_id
            )
    if confirming:
        raise ReviewError(CONFIRMING)
    conversation.draft_opportunity_id = opportunity_id


# Confirm ------------------------------------------------------------------------------


class ReviewError(Exception):
    """A confirm that cannot start; the message is for the reviewer."""


def _pending_is_stale(attempt: ConfirmationAttempt) -> bool:
    """A pending attempt older than any call could take was cut off (a crash, a kill)."""
    limit = settings.ATTENTION_CONNECT_TIMEOUT + settings.ATTENTION_READ_TIMEOUT
    limit = limit * (settings.ATTENTION_MAX_RETRIES + 1) + settings.ATTENTION_RETRY_AFTER_CAP
    return attempt.started_at < timezone.now() - timedelta(seconds=limit)


def _confirm_request(conversation: Conversation) -> tuple[schemas.ConfirmRequest, list]:
    items = list(conversation.items.filter(refreshing=False).order_by("position", "pk"))
    included = [item for item in items if not item.is_excluded]
    if not included:
        raise ReviewError("Every item is excluded: include at least one item to confirm.")
    request = schemas.ConfirmRequest(
        intelligence=[
            schemas.ConfirmItem(
                id=item.item_id, key=item.key, value=item.current_value, title=item.title
            )
            for item in included
        ],
        opportunity_id=conversation.opportunity_id or None,
    )
    return request, items


def review_confirm(
    *, conversation_pk: int, review_round: int, user: Any, client: AttentionClient
) -> ConfirmationAttempt:
    """Confirm a review round through the API, once.

    1. Under a row lock, find the round's live attempt or write a pending one (the
       database refuses a second live attempt per round).
    2. Call the API outside any transaction.
    3. Record the outcome; when it is unknown, read the conversation back to learn it.
    A late or repeated request gets the first attempt, never a second API call.
    """
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_pk)
        live = (
            conversation.confirmation_attempts.filter(
                review_round=review_round,
                outcome__in=[
                    ConfirmationAttempt.Outcome.PENDING,
                    ConfirmationAttempt.Outcome.UNKNOWN,
                    ConfirmationAttempt.Outcome.SUCCEEDED,
                ],
            )
            .select_for_update()
            .first()
        )
        if live is None and not conversation.awaiting_review:
            # Confirmed already (or nothing to review): never post again, show the result.
            confirmed = conversation.confirmation_attempts.filter(
                outcome=ConfirmationAttempt.Outcome.SUCCEEDED
            ).first()
            if confirmed is not None:
                return confirmed
            raise ReviewError("Nothing in this conversation awaits review.")
        if live is None and review_round != conversation.review_round:
            raise ReviewError("This review has changed since the page was loaded; reload it.")
        if live is None:
            request, items = _confirm_request(conversation)
            # An earlier try of this round lost its answer and was not applied when read
            # back; the API may have applied it since (a slow request lands late).
            check_first = conversation.confirmation_attempts.filter(
                review_round=review_round,
                outcome=ConfirmationAttempt.Outcome.FAILED,
                resolved_by_readback=True,
            ).exists()
            attempt = ConfirmationAttempt.objects.create(
                conversation=conversation,
                review_round=review_round,
                user=user,
                opportunity_id=request.opportunity_id or "",
                review_opened_at=conversation.review_opened_at,
                request_body=request.to_json(),
                items_sent=len(request.intelligence),
                items_edited=sum(1 for i in items if i.is_edited and not i.is_excluded),
                items_excluded=sum(1 for i in items if i.is_excluded),
            )
            ConfirmedItem.objects.bulk_create(
                ConfirmedItem(
                    attempt=attempt,
                    item_id=item.item_id,
                    key=item.key,
                    title=item.title,
                    ai_value=item.ai_value,
                    sent_value=None if item.is_excluded else item.current_value,
                    is_edited=item.is_edited,
                    is_excluded=item.is_excluded,
                )
                for item in items
            )
    if live is not None:
        if live.outcome == ConfirmationAttempt.Outcome.SUCCEEDED:
            return live
        if live.outcome == ConfirmationAttempt.Outcome.PENDING and not _pending_is_stale(live):
            return live  # another request is confirming this round right now
        return confirmation_reconcile(attempt=live, client=client)

    if check_first:
        # Read back before posting, so a late-landing earlier try is not written twice.
        try:
            current = client.get_conversation(conversation.attention_id)
        except AttentionError as error:
            _attempt_finish(attempt, ConfirmationAttempt.Outcome.FAILED, error=error)
            return attempt
        if _was_applied(attempt, current):
            attempt.resolved_by_readback = True
            return _confirmation_succeed(attempt=attempt, resource=current, started=None)

    started = time.monotonic()
    try:
        resource = client.confirm_intelligence(conversation.attention_id, request)
    except AttentionOutcomeUnknown as error:
        _attempt_finish(attempt, ConfirmationAttempt.Outcome.UNKNOWN, error=error, started=started)
        return confirmation_reconcile(attempt=attempt, client=client)
    except AttentionError as error:
        # The API refused or was never reached: it did not act, the draft stays as it is.
        _attempt_finish(attempt, ConfirmationAttempt.Outcome.FAILED, error=error, started=started)
        return attempt
    return _confirmation_succeed(attempt=attempt, resource=resource, started=started)


def _attempt_finish(
    attempt: ConfirmationAttempt,
    outcome: str,
    *,
    error: AttentionError,
    started: float | None = None,
) -> None:
    attempt.outcome = outcome
    attempt.error = error.user_message[:2000]
    attempt.finished_at = timezone.now()
    fields = ["outcome", "error", "finished_at"]
    if started is not None:
        attempt.api_milliseconds = round((time.monotonic() - started) * 1000)
        fields.append("api_milliseconds")
    attempt.save(update_fields=fields)


def _was_applied(attempt: ConfirmationAttempt, resource: schemas.Conversation) -> bool:
    """True when Attention's confirmed intelligence holds every value the attempt sent."""
    confirmed = {
        item.id: item.value
        for item in resource.attributes.confirmed_extracted_intelligence.values()
    }
    sent = attempt.request_body.get("intelligence", [])
    return bool(sent) and all(
        item["id"] in confirmed and confirmed[item["id"]] == item["value"] for item in sent
    )


def confirmation_reconcile(
    *, attempt: ConfirmationAttempt, client: AttentionClient
) -> ConfirmationAttempt:
    """Learn whether an attempt of unknown outcome was applied, by reading it back."""
    try:
        resource = client.get_conversation(attempt.conversation.attention_id)
    except AttentionError as error:
        # Still unknown: keep the attempt live so nothing is posted again until we know.
        _attempt_finish(attempt, ConfirmationAttempt.Outcome.UNKNOWN, error=error)
        attempt.error = (
            "Attention did not say whether it received the confirmation, and could not be "
            "reached to check. Your edits are saved; check again in a moment."
        )
        attempt.save(update_fields=["error"])
        return attempt
    if _was_applied(attempt, resource):
        attempt.resolved_by_readback = True
        return _confirmation_succeed(attempt=attempt, resource=resource, started=None)
    attempt.outcome = ConfirmationAttempt.Outcome.FAILED
    attempt.error = (
        "Attention has no record of this confirmation. Your edits are saved; confirm again "
        "(the app checks with Attention first, so nothing is sent twice)."
    )
    attempt.finished_at = timezone.now()
    attempt.resolved_by_readback = True
    attempt.save(update_fields=["outcome", "error", "finished_at", "resolved_by_readback"])
    return attempt


def _confirmation_succeed(
    *, attempt: ConfirmationAttempt, resource: schemas.Conversation, started: float | None
) -> ConfirmationAttempt:
    """Record a confirmed round and refresh the conversation from what Attention returned."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=attempt.conversation_id)
        # Every confirmable item was decided in this round: sent (as is or edited) or
        # left out. Remember the AI value each decision was about.
        conversation.items.filter(refreshing=False).update(
            is_decided=True, decided_ai_value=F("ai_value")
        )
        conversation.items.update(
            is_edited=False, draft_value=None, is_excluded=False, reviewed_at=None
        )
        attempt.outcome = ConfirmationAttempt.Outcome.SUCCEEDED
        attempt.response_body = resource.model_dump(mode="json", by_alias=True)
        attempt.error = ""
        attempt.finished_at = timezone.now()
        fields = ["outcome", "response_body", "error", "finished_at", "resolved_by_readback"]
        if started is not None:
            attempt.api_milliseconds = round((time.monotonic() - started) * 1000)
            fields.append("api_milliseconds")
        attempt.save(update_fields=fields)
        # The round is closed: what Attention now holds decides whether it awaits review.
        Conversation.objects.filter(pk=conversation.pk).update(force_review=False)
        _PageWriter().write([resource])
        Conversation.objects.filter(pk=conversation.pk).update(
            review_round=conversation.review_round + 1,
            review_opened_at=None,
            draft_opportunity_id="",
            last_confirmed_at=attempt.finished_at,
            last_confirmed_by_id=attempt.user_id,
        )
    return attempt


# Admin corrections --------------------------------------------------------------------


def conversation_refresh(*, attention_id: str, client: AttentionClient) -> Conversation:
    """Re-read one conversation from Attention (drafts are kept, as in a sync)."""
    return conversation_store(resource=client.get_conversation(attention_id))


def conversations_return_to_queue(*, conversation_ids: Any) -> int:
    """Put conversations back in the review queue: every item asks for review again."""
    with transaction.atomic():
        conversations = list(
            Conversation.objects.select_for_update().filter(pk__in=conversation_ids)
        )
        for conversation in conversations:
            items = conversation.items.filter(refreshing=False)
            items.update(needs_review=True, is_decided=False, decided_ai_value=None)
            count = items.count()
            hidden = conversation.is_internal or conversation.is_empty or conversation.archived
            Conversation.objects.filter(pk=conversation.pk).update(
                items_to_review=count, awaiting_review=count > 0 and not hidden, force_review=True
            )
    return len(conversations)


# Background sync ------------------------------------------------------------------------

# A sync that has shown no progress for this long was cut off (a worker killed mid-run).
SYNC_STALE_AFTER = timedelta(minutes=30)


def sync_active() -> SyncRun | None:
    """The queued or running sync, if one is under way (stale ones are not)."""
    cutoff = timezone.now() - SYNC_STALE_AFTER
    return (
        SyncRun.objects.filter(
            status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING], started_at__gte=cutoff
        )
        .order_by("-started_at")
        .first()
    )


def sync_enqueue(*, started_by: Any = None, full: bool = False) -> tuple[SyncRun, bool]:
    """Queue a background sync unless one is under way; returns (run, newly queued)."""
    from .tasks import sync_conversations_task

    with transaction.atomic():
        active = sync_active()
        if active is not None:
            return active, False
        run = SyncRun.objects.create(status=SyncRun.Status.QUEUED, started_by=started_by)
    # Enqueued after the commit: a worker must find the run it is given.
    sync_conversations_task.enqueue(run_id=run.pk, full=full)
    run.refresh_from_db()
    return run, True
