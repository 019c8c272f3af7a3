"""The sync: Attention's conversations into the database, a page at a time.

The row mappings (`conversation_row`, `item_row`) are the one translation from an API
resource to table rows; the benchmark's database builder uses them too.
"""

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone
from pydantic import ValidationError

from attention_review.attention import schemas
from attention_review.attention.client import (
    AttentionClient,
    AttentionContractError,
    AttentionError,
    AttentionNotFound,
)

from ..bulk import bulk_upsert
from ..fragment_cache import data_changed
from ..models import AttentionUser, Conversation, IntelligenceItem, SetAsideRecord, SyncRun, Team
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
    "account_name",
    "people_text",
    "raw",
    "synced_at",
    "gone_at",
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
    "evidence",
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


def people_text(attributes: schemas.ConversationAttributes) -> str:
    """The names and emails of the people on a call (participants and attendees), lower-
    cased, each once, one person a line: what the queue's search looks through."""
    lines: dict[str, None] = {}
    for person in (*attributes.participants, *attributes.attendees):
        line = " ".join(part.strip().lower() for part in (person.name, person.email) if part)
        if line:
            lines[line] = None
    return "\n".join(lines)


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
        # Attention documents no account name (`externalAccounts` are CRM ids, and the
        # opportunity's title only sometimes starts with the account): left blank rather
        # than guessed (docs/attention-api.md); the search still finds title and people.
        account_name="",
        people_text=people_text(attributes),
        raw=resource.raw,
        synced_at=now,
        gone_at=None,
    )


def item_row(
    item: schemas.IntelligenceItem,
    *,
    conversation_pk: int,
    position: int,
    is_confirmed: bool,
    confirmed_value: Any,
    needs_review: bool,
    participants: Sequence[schemas.Person] = (),
) -> dict[str, Any]:
    """An extracted item's table row as the sync stores it (decisions are not the sync's).

    Its evidence is stored as each sync reads it, a half-named speaker completed from the
    call's `participants`."""
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
        evidence=[quote.stored(participants) for quote in item.evidence],
    )


class PageWriter:
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
        participants = self.resource.attributes.participants
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
                    participants=participants,
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
    return PageWriter().write(resources)


def conversation_store(*, resource: schemas.Conversation) -> Conversation:
    """Store one conversation as Attention returned it (after a confirm or a refresh)."""
    conversations_write(resources=[resource])
    return Conversation.objects.get(attention_id=resource.id)


# Owner links --------------------------------------------------------------------------


def attention_users_link(*, client: AttentionClient) -> list[str]:
    """Link app accounts to Attention users from what the API states about its users
    (`GET /organizations/users`), by email; returns warnings for the run.

    Never from a filter the API may ignore. An email that two app accounts (or two
    Attention users) share is refused with a clear message: linking either could show
    one rep another's calls. A link an admin set is never changed here.
    """
    try:
        users = _organization_users(client)
    except AttentionNotFound:
        return [
            "Attention does not list its users (GET /organizations/users answered 404), so "
            "no new account was linked: link app accounts to Attention users in the admin."
        ]
    except AttentionError as error:
        return [f"Attention's users could not be read ({error.user_message}); links are as before."]
    warnings: list[str] = []
    by_email: dict[str, list[schemas.OrganizationUser]] = {}
    for user in users:
        if user.email.strip():
            by_email.setdefault(user.email.strip().lower(), []).append(user)
    accounts: dict[str, list[tuple[int, str]]] = {}
    for pk, email, username in (
        get_user_model()
        .objects.filter(is_active=True)
        .exclude(email="")
        .values_list("pk", "email", "username")
    ):
        accounts.setdefault(email.strip().lower(), []).append((pk, username))
    for email, owners in by_email.items():
        for owner in owners:
            AttentionUser.objects.update_or_create(
                attention_uuid=owner.uuid,
                defaults={
                    "email": email[:254],
                    "name": f"{owner.first_name} {owner.last_name}".strip()[:200],
                },
            )
        holders = accounts.get(email, [])
        if len(owners) > 1 and holders:
            _refuse_link(
                email,
                f"Attention lists {len(owners)} users with the email {email}; "
                "none of them is linked to an app account.",
                warnings,
            )
            continue
        if len(holders) > 1:
            names = ", ".join(sorted(username for _, username in holders))
            _refuse_link(
                email,
                f"Two or more app accounts use the email {email} ({names}): "
                "none is linked to Attention's user. Give each account its own email.",
                warnings,
            )
            continue
        if not holders:
            continue
        (user_pk, _), (owner,) = holders[0], owners
        linked = AttentionUser.objects.filter(attention_uuid=owner.uuid, user__isnull=True).update(
            user_id=user_pk
        )
        if linked:
            Conversation.objects.filter(owner_attention_uuid=owner.uuid).update(owner_id=user_pk)
        SetAsideRecord.objects.filter(
            kind=SetAsideRecord.Kind.LINK, subject=email[:200], resolved_at__isnull=True
        ).update(resolved_at=timezone.now())
    return warnings


def _organization_users(client: AttentionClient) -> list[schemas.OrganizationUser]:
    """Every user the API lists, page by page until an empty or repeated page."""
    users: list[schemas.OrganizationUser] = []
    seen_pages: set[tuple[str, ...]] = set()
    for page_number in range(1, _MAX_USER_PAGES + 1):
        page = client.list_users_page(page_number)
        readable = []
        for record in page.data:
            try:
                readable.append(schemas.OrganizationUser.model_validate(record))
            except ValidationError:
                continue  # a user without a uuid cannot be linked to anything
        ids = tuple(user.uuid for user in readable)
        if not page.data or ids in seen_pages:
            break
        seen_pages.add(ids)
        users.extend(readable)
    return users


_MAX_USER_PAGES = 200


def _refuse_link(email: str, reason: str, warnings: list[str]) -> None:
    warnings.append(reason)
    set_aside(kind=SetAsideRecord.Kind.LINK, subject=email, reason=reason, raw=None)


# Records set aside ----------------------------------------------------------------------


def set_aside(*, kind: str, subject: str, reason: str, raw: Any) -> None:
    """Keep what could not be used, with the reason, for the Problems panel and the admin;
    seen again, it is counted, not duplicated."""
    now = timezone.now()
    record, created = SetAsideRecord.objects.get_or_create(
        kind=kind,
        subject=subject[:200],
        defaults={"reason": reason, "raw": raw, "last_seen": now},
    )
    if not created:
        SetAsideRecord.objects.filter(pk=record.pk).update(
            reason=reason, raw=raw, last_seen=now, times_seen=F("times_seen") + 1, resolved_at=None
        )


def _record_subject(record: Any, client: AttentionClient) -> str:
    """What a broken record is about: its id when it has a usable one, else a hash."""
    if isinstance(record, dict) and isinstance(record.get("id"), str) and record["id"].strip():
        return client.redact(record["id"].strip())[:200]
    text = json.dumps(record, sort_keys=True, default=str)
    return "record " + hashlib.sha256(text.encode()).hexdigest()[:16]


def _scrubbed(record: Any, client: AttentionClient) -> Any:
    """The record as JSON with the key scrubbed from it, to keep and show."""
    text = client.redact(json.dumps(record, ensure_ascii=False, default=str))
    try:
        return json.loads(text)
    except ValueError:
        return text


# Reading pages -------------------------------------------------------------------------


@dataclass
class _Page:
    number: int
    page: schemas.ListPage


class _PageReader:
    """Pages of the list in order, fetched up to `ahead` at a time (each by its own
    client in its own thread), until a page comes back empty.

    Paging follows what came back, never the requested size or the reported total: a
    server that caps pages at 20 rows, undercounts its total or skips one page is read
    to the end. An empty page before the reported total is probed once more; a page that
    repeats the previous page's ids (a server that ignores `page`) ends the run with a
    warning.
    """

    def __init__(
        self,
        client: AttentionClient,
        *,
        start_page: int,
        ahead: int,
        from_datetime: datetime | None,
    ) -> None:
        self.client = client
        self.next_to_fetch = start_page
        self.ahead = max(1, ahead)
        self.from_datetime = from_datetime
        self.warnings: list[str] = []
        self._local = threading.local()
        self._clients: list[AttentionClient] = []
        self._lock = threading.Lock()

    def _thread_client(self) -> AttentionClient:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self.client.clone()
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    def _fetch(self, number: int) -> schemas.ListPage:
        return self._thread_client().list_page(number, from_datetime=self.from_datetime)

    def pages(self, *, records_seen: Callable[[], int]) -> Iterator[_Page]:
        with ThreadPoolExecutor(max_workers=self.ahead) as pool:
            pending: dict[int, Future[schemas.ListPage]] = {}
            number = self.next_to_fetch
            previous_ids: tuple[object, ...] | None = None
            empty_in_a_row = 0
            try:
                while True:
                    while len(pending) < self.ahead:
                        pending[self.next_to_fetch] = pool.submit(self._fetch, self.next_to_fetch)
                        self.next_to_fetch += 1
                    page = pending.pop(number).result()
                    ids = tuple(
                        record.get("id") if isinstance(record, dict) else repr(record)
                        for record in page.data
                    )
                    if page.data and ids == previous_ids:
                        self.warnings.append(
                            f"Attention sent page {number} again with the same conversations "
                            f"as page {number - 1} (it may ignore the page number): the sync "
                            "stopped there."
                        )
                        return
                    if not page.data:
                        empty_in_a_row += 1
                        total = page.total_records
                        if empty_in_a_row > 1 or total is None or records_seen() >= total:
                            return
                    else:
                        empty_in_a_row = 0
                        previous_ids = ids
                    yield _Page(number, page)
                    number += 1
            finally:
                for future in pending.values():
                    future.cancel()
                for client in self._clients:
                    client.close()


def fetch_conversations(
    client: AttentionClient, conversation_ids: list[str], *, concurrency: int
) -> dict[str, schemas.Conversation | AttentionError]:
    """`GET /conversations/{id}` for each id, `concurrency` at a time; each answer or the
    error it gave."""
    if not conversation_ids:
        return {}
    local = threading.local()
    clients: list[AttentionClient] = []
    lock = threading.Lock()

    def fetch(conversation_id: str) -> schemas.Conversation | AttentionError:
        own = getattr(local, "client", None)
        if own is None:
            own = local.client = client.clone()
            with lock:
                clients.append(own)
        try:
            return own.get_conversation(conversation_id)
        except AttentionError as error:
            return error

    try:
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            answers = list(pool.map(fetch, conversation_ids))
    finally:
        for own in clients:
            own.close()
    return dict(zip(conversation_ids, answers, strict=True))


# The sync ------------------------------------------------------------------------------


def _sync_window_start(*, full: bool) -> tuple[datetime | None, int, int]:
    """Where a sync starts: (fromDateTime, first page, records read before that page)."""
    if full:
        return None, 1, 0
    runs = SyncRun.objects.filter(kind=SyncRun.Kind.SYNC)
    last_success = runs.filter(status=SyncRun.Status.SUCCEEDED).first()
    from_datetime = None
    if last_success is not None:
        overlap = timedelta(minutes=settings.ATTENTION_SYNC_OVERLAP_MINUTES)
        from_datetime = last_success.started_at - overlap
    # A run that failed part-way over the same window resumes after its last stored page.
    last_run = runs.filter(status__in=[SyncRun.Status.SUCCEEDED, SyncRun.Status.FAILED]).first()
    if (
        last_run is not None
        and last_run.status == SyncRun.Status.FAILED
        and not last_run.full
        and last_run.from_datetime == from_datetime
        and last_run.pages
    ):
        return from_datetime, last_run.start_page + last_run.pages, last_run.records_seen
    return from_datetime, 1, 0


@dataclass
class PageOutcome:
    created: int = 0
    updated: int = 0
    set_aside: int = 0  # records and items
    records_set_aside: int = 0
    fetched_singly: int = 0
    gone: int = 0
    warnings: list[str] = field(default_factory=list)


def _store_records(
    writer: "PageWriter", client: AttentionClient, records: list[Any], *, concurrency: int
) -> PageOutcome:
    """Store one page's records, each on its own: a record that breaks the contract is set
    aside with the reason and the rest are stored; a record without the intelligence maps
    is fetched on its own to get them."""
    outcome = PageOutcome()
    readable: list[schemas.Conversation] = []
    for record in records:
        try:
            readable.append(client.parse_conversation(record))
        except AttentionContractError as error:
            set_aside(
                kind=SetAsideRecord.Kind.RECORD,
                subject=_record_subject(record, client),
                reason=error.detail,
                raw=_scrubbed(record, client),
            )
            outcome.set_aside += 1
            outcome.records_set_aside += 1
    missing = [resource.id for resource in readable if not resource.attributes.extracted_reported]
    if missing:
        answers = fetch_conversations(client, missing, concurrency=concurrency)
        for position, resource in enumerate(readable):
            answer = answers.get(resource.id)
            if isinstance(answer, schemas.Conversation):
                readable[position] = answer
                outcome.fetched_singly += 1
            elif isinstance(answer, AttentionNotFound):
                outcome.gone += 1
            elif isinstance(answer, AttentionError):
                outcome.warnings.append(
                    f"Conversation {resource.id} came without its intelligence and could not be "
                    f"read on its own ({answer.user_message}); its items are as before."
                )
    for resource in readable:
        for reason in resource.attributes.skipped_items:
            set_aside(
                kind=SetAsideRecord.Kind.ITEM,
                subject=f"{resource.id} {reason}"[:200],
                reason=reason,
                raw=None,
            )
            outcome.set_aside += 1
    created, updated = store_resources(writer, readable, outcome, client)
    outcome.created, outcome.updated = created, updated
    stored = [resource.id for resource in readable]
    SetAsideRecord.objects.filter(
        kind=SetAsideRecord.Kind.RECORD, subject__in=stored, resolved_at__isnull=True
    ).update(resolved_at=timezone.now())
    return outcome


def store_resources(
    writer: "PageWriter",
    resources: list[schemas.Conversation],
    outcome: PageOutcome,
    client: AttentionClient,
) -> tuple[int, int]:
    """Write the page in bulk; if the database refuses it, write record by record and set
    aside the ones it refuses, so one record never costs the others."""
    data_changed()  # the cached page fragments are out of date once this commits
    try:
        return writer.write(resources)
    except DatabaseError:
        logger.warning("A page could not be stored in bulk; storing its records one by one")
    created = updated = 0
    for resource in resources:
        try:
            one_created, one_updated = writer.write([resource])
        except DatabaseError as error:
            set_aside(
                kind=SetAsideRecord.Kind.RECORD,
                subject=client.redact(resource.id),
                reason=f"The database refused it ({type(error).__name__}).",
                raw=_scrubbed(resource.raw, client),
            )
            outcome.set_aside += 1
            outcome.records_set_aside += 1
            continue
        created += one_created
        updated += one_updated
    return created, updated


def conversation_sync(
    *,
    client: AttentionClient,
    full: bool = False,
    started_by: User | None = None,
    on_page: Callable[[SyncRun], None] | None = None,
    run: SyncRun | None = None,
    concurrency: int | None = None,
) -> SyncRun:
    """Pull conversations from Attention into the database.

    Pages are fetched up to `concurrency` at a time and stored in order, each in its own
    transaction, so a failure keeps what was stored and the next run resumes after it.
    Nothing about one record can stop the run. Errors are recorded on the run, then
    re-raised; what went wrong without stopping it is in `run.warnings`.
    `run` is a run recorded as queued by `sync_enqueue`; without one a new run starts.
    """
    ahead = concurrency or settings.ATTENTION_SYNC_CONCURRENCY
    from_datetime, start_page, read_before = _sync_window_start(full=full)
    if run is None:
        run = SyncRun(started_by=started_by)
    run.kind = SyncRun.Kind.SYNC
    run.full = full
    run.from_datetime = from_datetime
    run.start_page = start_page
    run.status = SyncRun.Status.RUNNING
    run.save()
    progress = [
        "pages",
        "created",
        "updated",
        "pages_total",
        "records_seen",
        "total_reported",
        "set_aside",
        "fetched_singly",
        "gone",
        "warnings",
    ]
    try:
        run.warnings = list(attention_users_link(client=client))
        writer = PageWriter()
        reader = _PageReader(
            client, start_page=start_page, ahead=ahead, from_datetime=from_datetime
        )
        records_set_aside = 0
        for fetched in reader.pages(records_seen=lambda: read_before + run.records_seen):
            page = fetched.page
            outcome = _store_records(writer, client, page.data, concurrency=ahead)
            run.pages += 1
            run.records_seen += len(page.data)
            run.created += outcome.created
            run.updated += outcome.updated
            run.set_aside += outcome.set_aside
            records_set_aside += outcome.records_set_aside
            run.fetched_singly += outcome.fetched_singly
            run.gone += outcome.gone
            run.warnings.extend(outcome.warnings)
            if page.total_records is not None:
                run.total_reported = page.total_records
            per_page = max(len(page.data), 1)
            estimate = -(-(run.total_reported or 0) // per_page) if run.total_reported else 0
            run.pages_total = max(estimate, fetched.number)
            run.save(update_fields=progress)
            if on_page is not None:
                on_page(run)
        run.warnings.extend(reader.warnings)
        stored = read_before + run.records_seen - records_set_aside
        if run.total_reported is not None and stored < run.total_reported:
            run.warnings.append(
                f"Attention reported {run.total_reported} conversations; {stored} were stored."
            )
    except AttentionError as error:
        run.status = SyncRun.Status.FAILED
        run.error = client.redact(f"{type(error).__name__}: {error.detail or error.user_message}")[
            :2000
        ]
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at", "warnings"])
        logger.warning("Sync %s failed after %d pages: %s", run.pk, run.pages, run.error)
        raise
    except Exception as error:
        # Not Attention's doing (a database error, a bug): still end the run, or it would
        # look under way and hold back "Sync now" until it went stale.
        run.status = SyncRun.Status.FAILED
        run.error = f"Internal error ({type(error).__name__}); see the server log."
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at", "warnings"])
        logger.exception("Sync %s failed after %d pages", run.pk, run.pages)
        raise
    run.status = SyncRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at", "warnings"])
    for warning in run.warnings:
        logger.warning("Sync %s: %s", run.pk, warning)
    return run
