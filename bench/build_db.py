"""Build the benchmark database: 100,000 conversations, about a million intelligence
items and 20,000 confirmations, streamed into PostgreSQL with COPY.

The conversations are the sandbox's own (`generate_conversation`, same seed and count),
so their `raw` payloads, ids and items are what a sync would store, and a sandbox started
with the same arguments serves the same ids. What a sync cannot give is history, so this
step writes it: dates spread over the last year, 15% of the calls awaiting review,
19,000 confirmed reviews (1,000 after a failed first try) with ~25% of items edited.

Four COPY streams run side by side on four connections (a COPY holds its connection),
with foreign-key triggers off (`session_replication_role = replica`): the rows are
consistent by construction. Then sequences are moved past the ids, the tables are
vacuumed and analysed, sessions are created for the load (no login round-trips), and
`var/bench/context.json` records what the load step needs.

Usage: python -m bench.build_db [CONVERSATIONS]
"""

import contextlib
import json
import random
import re
import secrets
import string
import sys
import time
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from .common import CONTEXT_FILE, SEED, setup_django, update_results, write_json

AWAITING_SHARE = 0.17  # of the reviewable calls: ~15% of all conversations
SUCCEEDED_ATTEMPTS = 19_000
FAILED_ATTEMPTS = 1_000  # a failed first try before 1,000 of the successes
EDITED_SHARE = 0.25
EXCLUDED_SHARE = 0.04
CSV_TARGET_ROWS = 100_000
FLUSH_BYTES = 1 << 20

# Two more items per analysed call (the sandbox extracts 6-12), so the database holds
# about ten per conversation, as the benchmark brief asks.
_EXTRA_ITEMS = [
    (
        19,
        "renewal_risk",
        "Renewal Risk",
        "CustomInsight",
        [
            "Low: champion is engaged and usage is growing.",
            "Medium: budget owner changed last quarter.",
            "High: a competitor is running a pilot in another team.",
        ],
        None,
    ),
    (20, "security_review", "Security Review Needed", "Indicators", ["Yes", "No"], ["Yes", "No"]),
]
_EDITS = [
    "Confirmed on the call; see notes.",
    "Corrected by the rep after the call.",
    "Updated: customer asked to move this to next quarter.",
]


class Dumped(str):
    """JSON already serialised (a payload reused in several rows)."""


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class TableCopy:
    """One COPY ... FROM STDIN stream (text format) for a model, fed row dicts by attname.

    Columns come from the model, so a field the app adds later with a default needs no
    change here; one without a default stops the build with its name.
    """

    def __init__(self, model: Any, connection: Any, stack: contextlib.ExitStack) -> None:
        from django.db import models

        self.model = model
        self.rows = 0
        self._chunks: list[str] = []
        self._size = 0
        self._spec = []
        for field in model._meta.concrete_fields:
            if isinstance(field, models.JSONField):
                convert = _json_cell
            elif isinstance(field, models.BooleanField):
                convert = _bool_cell
            elif isinstance(field, models.DateTimeField | models.DateField):
                convert = _datetime_cell
            else:
                convert = _text_cell
            # get_default: the field's default, "" for text without one, else None.
            self._spec.append((field, convert, field.get_default))
        columns = ", ".join(f'"{field.column}"' for field, _, _ in self._spec)
        cursor = stack.enter_context(connection.cursor())
        self._copy = stack.enter_context(
            cursor.copy(f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN')
        )

    def add(self, row: dict[str, Any]) -> None:
        cells = []
        for field, convert, default in self._spec:
            value = row.get(field.attname, _MISSING)
            if value is _MISSING:
                value = default()
            if value is None:
                if not field.null:
                    raise SystemExit(
                        f"bench/build_db.py has no value for {self.model.__name__}.{field.name}:"
                        " give it one in the row builder"
                    )
                cells.append("\\N")
            else:
                cells.append(convert(value))
        line = "\t".join(cells) + "\n"
        self._chunks.append(line)
        self._size += len(line)
        self.rows += 1
        if self._size > FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        self._copy.write("".join(self._chunks))
        self._chunks.clear()
        self._size = 0


_MISSING = object()


def _escape(text: str) -> str:
    """COPY's text format: backslash, tab and line breaks are escaped."""
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _json_cell(value: Any) -> str:
    return _escape(value if isinstance(value, Dumped) else _dump(value))


def _bool_cell(value: Any) -> str:
    return "t" if value else "f"


def _datetime_cell(value: Any) -> str:
    return value.isoformat()


def _text_cell(value: Any) -> str:
    return _escape(str(value))


def _people(models: Any) -> dict[str, Any]:
    """The personas: rep (35% of calls), rep2 (30%), a manager of rep's team, an admin;
    the two other Attention users own the rest and have no account."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from attention_review.demo import DEMO_ACCOUNTS, DEMO_ATTENTION_USERS, DEMO_TEAMS

    user_model = get_user_model()
    users = {}
    for account in DEMO_ACCOUNTS:
        user = user_model(
            username=account.username,
            email=account.email,
            first_name=account.first_name,
            last_name=account.last_name,
        )
        user.set_unusable_password()  # the load uses sessions made here, never a login
        user.is_staff = user.is_superuser = account.is_admin
        user.save()
        if account.group:
            user.groups.add(Group.objects.get_or_create(name=account.group)[0])
        users[account.username] = user
    teams = {
        team.uuid: models.Team.objects.create(attention_uuid=team.uuid, name=team.name)
        for team in DEMO_TEAMS
    }
    teams[DEMO_TEAMS[0].uuid].managers.add(users["manager"])
    owners = {}
    by_email = {user.email: user for user in users.values()}
    for person in DEMO_ATTENTION_USERS:
        owner = by_email.get(person.email)
        models.AttentionUser.objects.create(
            attention_uuid=person.uuid, email=person.email, name=person.name, user=owner
        )
        owners[person.uuid] = owner.pk if owner else None
    return {
        "users": users,
        "owner_ids": owners,
        "team_ids": {uuid: team.pk for uuid, team in teams.items()},
    }


def _plan(count: int, rng: random.Random) -> tuple[list[bool], dict[int, bool]]:
    """Which calls await review, and which were confirmed in the app (and which of
    those after a failed try), decided from the cheap outlines before any body is built."""
    from attention_review.sandbox.demo_data import ReviewState, conversation_outline

    reviewable = {ReviewState.AWAITING, ReviewState.CONFIRMED, ReviewState.PARTIAL}
    awaiting = [False] * count
    eligible = []
    for index in range(count):
        outline = conversation_outline(index, SEED, count)
        if outline.state not in reviewable:
            continue
        if rng.random() < AWAITING_SHARE:
            awaiting[index] = True
        elif outline.owner in (0, 1):  # rep and rep2 have accounts, so they confirm
            eligible.append(index)
    wanted = min(SUCCEEDED_ATTEMPTS, len(eligible))
    confirmed = rng.sample(eligible, wanted)
    failed_first = set(rng.sample(confirmed, min(FAILED_ATTEMPTS, wanted)))
    return awaiting, {index: index in failed_first for index in confirmed}


def build(count: int) -> dict[str, Any]:
    from django.db import connection
    from django.utils import timezone

    from attention_review.reviews import models
    from attention_review.sandbox.demo_data import format_datetime, generate_conversation

    rng = random.Random(SEED)
    people = _people(models)
    owner_ids, team_ids = people["owner_ids"], people["team_ids"]
    awaiting_plan, confirmed_plan = _plan(count, rng)

    now = timezone.now().replace(microsecond=0)
    span = timedelta(days=365).total_seconds()
    first = now - timedelta(days=365)
    ids = {"item": 0, "attempt": 0, "confirmed_item": 0}

    params = connection.get_connection_params()
    with contextlib.ExitStack() as open_connections:
        connections = []
        for _ in range(4):
            raw = connection.get_new_connection(params)
            open_connections.callback(raw.close)
            with raw.cursor() as cursor:
                try:
                    cursor.execute("SET session_replication_role = replica")
                except Exception:  # not a superuser: keep the foreign-key checks
                    raw.rollback()
            connections.append(raw)
        tables = [
            ("conversation", models.Conversation),
            ("item", models.IntelligenceItem),
            ("attempt", models.ConfirmationAttempt),
            ("confirmed_item", models.ConfirmedItem),
        ]
        # Leaving this block ends every COPY (aborting them all on an error).
        with contextlib.ExitStack() as streams:
            copies = {
                name: TableCopy(model, raw, streams)
                for (name, model), raw in zip(tables, connections, strict=True)
            }
            for index in range(count):
                _conversation(
                    index=index,
                    resource=generate_conversation(index, SEED, count),
                    started=first + timedelta(seconds=(index + 0.75 * rng.random()) * span / count),
                    awaiting=awaiting_plan[index],
                    confirmed=confirmed_plan.get(index),
                    now=now,
                    rng=rng,
                    copies=copies,
                    ids=ids,
                    owner_ids=owner_ids,
                    team_ids=team_ids,
                    format_datetime=format_datetime,
                )
            for copy in copies.values():
                copy.flush()
        for raw in connections:
            raw.commit()
    copy_rows = {name: copy.rows for name, copy in copies.items()}
    return {"people": people, "rows": copy_rows, "now": now}


def _conversation(
    *,
    index: int,
    resource: dict[str, Any],
    started: datetime,
    awaiting: bool,
    confirmed: bool | None,
    now: datetime,
    rng: random.Random,
    copies: dict[str, TableCopy],
    ids: dict[str, int],
    owner_ids: dict[str, int | None],
    team_ids: dict[str, int],
    format_datetime: Any,
) -> None:
    """Rows of one conversation: itself, its items, and its confirmations if any.

    The conversation and item rows come from the sync's own mappings and queue rule, so
    the builder stores what a sync would and cannot drift from it.
    """
    from attention_review.attention import schemas
    from attention_review.reviews.models import Conversation
    from attention_review.reviews.services.sync import (
        confirmed_counterpart,
        conversation_row,
        item_row,
    )

    pk = index + 1
    attributes = resource["attributes"]
    cid = resource["id"]
    duration = attributes["mediaDuration"]
    attributes["createdAt"] = format_datetime(started)
    attributes["finishedAt"] = format_datetime(started + timedelta(seconds=duration))
    extracted = attributes["extractedIntelligence"]
    if extracted:
        for number, key, title, category, values, options in _EXTRA_ITEMS:
            extracted[key] = {
                "id": f"intel_{cid[:8]}{cid[9:13]}_{number:02d}",
                "key": key,
                "value": rng.choice(values),
                "title": title,
                "category": category,
                "refreshing": False,
                "options": options,
                "source": "ai",
                "scope_insight": "conversation",
            }
    hidden = Conversation.hidden_from_queue(
        is_internal=attributes["isInternal"],
        is_empty=attributes["isEmpty"],
        archived=attributes["archived"],
    )
    owner_id = owner_ids.get(attributes["userUUID"])
    confirmed_in_app = confirmed is not None and owner_id is not None

    # Decisions per item, for a confirmed review: edited (with the sent value), or left out.
    decisions: dict[str, tuple[bool, bool, Any]] = {}
    if confirmed_in_app:
        for key, item in extracted.items():
            if item["refreshing"]:
                continue
            excluded = rng.random() < EXCLUDED_SHARE
            edited = not excluded and rng.random() < EDITED_SHARE
            value = item["value"]
            if edited:
                value = value + 5000 if isinstance(value, int) else rng.choice(_EDITS)
                if item["options"]:
                    value = rng.choice(item["options"])
            decisions[key] = (edited, excluded, value)
        attributes["confirmedExtractedIntelligence"] = {
            key: {**extracted[key], "value": value}
            for key, (_, excluded, value) in decisions.items()
            if not excluded
        }
        attributes["crmExportStatus"] = "exported"
    elif not awaiting and not hidden and extracted:
        # Confirmed in Attention itself, before this app: nothing left to review.
        attributes["confirmedExtractedIntelligence"] = {
            key: dict(item) for key, item in extracted.items() if not item["refreshing"]
        }
    else:
        attributes["confirmedExtractedIntelligence"] = {}

    attempt_started = attempt_opened = attempt_finished = None
    if confirmed_in_app:
        delay = timedelta(minutes=rng.uniform(30, 72 * 60))
        attempt_started = min(started + delay, now - timedelta(minutes=1))
        review = rng.choice([rng.uniform(8, 30), rng.uniform(30, 1200)])
        attempt_opened = attempt_started - timedelta(seconds=review)
        attempt_finished = attempt_started + timedelta(milliseconds=rng.randint(180, 2400))

    # The rows themselves come from the sync's own mappings, as a sync would store them.
    parsed = schemas.Conversation.model_validate(resource)
    parsed_items = list(parsed.attributes.extracted_intelligence.items())
    items_to_review = 0
    drafts_opened = None
    for position, (key, item) in enumerate(parsed_items):
        ids["item"] += 1
        refreshing = item.refreshing
        confirmed_entry = confirmed_counterpart(parsed.attributes, item)
        decision = decisions.get(key)
        needs_review = not refreshing and confirmed_entry is None and decision is None
        if awaiting and not refreshing:
            needs_review = True
        items_to_review += needs_review
        row: dict[str, Any] = {
            "id": ids["item"],
            **item_row(
                item,
                conversation_pk=pk,
                position=position,
                is_confirmed=confirmed_entry is not None,
                confirmed_value=confirmed_entry.value if confirmed_entry else None,
                needs_review=needs_review,
            ),
        }
        if decision is not None:
            # The confirmed decision carries into the next round, as after a real confirm.
            edited, excluded, value = decision
            row.update(
                is_decided=True,
                decided_ai_value=item.value,
                choice="own" if edited else "accept",
                decision_value=value,
                decision_proposal=item.value,
                is_excluded=excluded,
            )
        if awaiting and needs_review and owner_id and rng.random() < 0.05:
            drafts_opened = drafts_opened or started + timedelta(hours=2)
            row.update(
                choice="own",
                decision_value=rng.choice(_EDITS),
                decision_proposal=item.value,
                reviewed_at=drafts_opened,
                reviewed_by_id=owner_id,
            )
        copies["item"].add(row)

    row = conversation_row(
        parsed,
        items_to_review=items_to_review,
        owner_id=owner_id,
        team_id=team_ids[attributes["teamUUID"]],
        now=min(started + timedelta(hours=1), now),
    )
    row.update(
        id=pk,
        raw=Dumped(_dump(resource)),
        review_round=2 if confirmed_in_app else 1,
        review_opened_at=drafts_opened,
        last_confirmed_at=attempt_finished,
        last_confirmed_by_id=owner_id if confirmed_in_app else None,
    )
    copies["conversation"].add(row)
    if not confirmed_in_app:
        return
    # Both are set above whenever the call was confirmed in the app.
    assert attempt_started is not None
    assert attempt_finished is not None

    sent = [
        {"id": extracted[key]["id"], "key": key, "value": value, "title": extracted[key]["title"]}
        for key, (_, excluded, value) in decisions.items()
        if not excluded
    ]
    opportunity_id = attributes["externalIntelligenceOpportunityID"]
    request_body = Dumped(_dump({"intelligence": sent, "opportunity_id": opportunity_id or None}))
    counts = {
        "items_sent": len(sent),
        "items_edited": sum(edited for edited, _, _ in decisions.values()),
        "items_excluded": sum(excluded for _, excluded, _ in decisions.values()),
    }
    attempts = []
    if confirmed:  # a failed try first: Attention did not answer
        failed_at = attempt_started - timedelta(minutes=rng.uniform(1, 90))
        attempts.append(
            {
                "outcome": "failed",
                "started_at": failed_at,
                "finished_at": failed_at + timedelta(seconds=35),
                "error": "Attention is not responding right now; your edits are saved.",
                "response_body": None,
                "api_milliseconds": 35_000,
            }
        )
    attempts.append(
        {
            "outcome": "succeeded",
            "started_at": attempt_started,
            "finished_at": attempt_finished,
            "error": "",
            "response_body": Dumped(_dump(resource)),
            "api_milliseconds": int((attempt_finished - attempt_started).total_seconds() * 1000),
        }
    )
    for attempt in attempts:
        ids["attempt"] += 1
        copies["attempt"].add(
            {
                "id": ids["attempt"],
                "conversation_id": pk,
                "review_round": 1,
                "user_id": owner_id,
                "opportunity_id": opportunity_id,
                "review_opened_at": attempt_opened,
                "request_body": request_body,
                "resolved_by_readback": False,
                **counts,
                **attempt,
            }
        )
        for key, (edited, excluded, value) in decisions.items():
            ids["confirmed_item"] += 1
            item = extracted[key]
            copies["confirmed_item"].add(
                {
                    "id": ids["confirmed_item"],
                    "attempt_id": ids["attempt"],
                    "item_id": item["id"],
                    "key": key,
                    "title": item["title"],
                    "ai_value": item["value"],
                    "sent_value": None if excluded else value,
                    "is_edited": edited,
                    "is_excluded": excluded,
                }
            )


def finish_tables() -> None:
    """Sequences past the copied ids, then VACUUM ANALYZE (the visibility map lets the
    planner use index-only scans, as on a database autovacuum has kept)."""
    from django.db import connection

    from attention_review.reviews import models

    tables = [
        models.Conversation._meta.db_table,
        models.IntelligenceItem._meta.db_table,
        models.ConfirmationAttempt._meta.db_table,
        models.ConfirmedItem._meta.db_table,
    ]
    with connection.cursor() as cursor:
        for table in tables:
            # The model's own table names, not input.
            sql = (
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                "(SELECT COALESCE(MAX(id), 1) FROM {}))"
            )
            cursor.execute(sql.format(f'"{table}"'), [f'"{table}"'])
    raw = connection.get_new_connection(connection.get_connection_params())
    raw.autocommit = True
    try:
        with raw.cursor() as cursor:
            for table in tables:
                cursor.execute(f'VACUUM (ANALYZE) "{table}"')
    finally:
        raw.close()


def _csrf_secret() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


def _session_cookie(user: Any) -> str:
    """A logged-in session for `user`, made as `login()` makes it."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    backends = settings.AUTHENTICATION_BACKENDS
    backend = next((name for name in backends if name.endswith("ModelBackend")), backends[-1])
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = backend
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def _csv_window(user: Any, today: date) -> tuple[date, date, int]:
    """The last days whose export (as `user` sees it) holds about 100,000 rows."""
    from django.db.models import Count
    from django.db.models.functions import TruncDate

    from attention_review.reviews.models import ConfirmedItem
    from attention_review.reviews.selectors.audit import AuditFilters, audit_attempts, audit_items

    visible = audit_attempts(user, AuditFilters()).values("pk")
    per_day = (
        ConfirmedItem.objects.filter(attempt__in=visible)
        .annotate(day=TruncDate("attempt__started_at"))
        .values_list("day")
        .annotate(rows=Count("id"))
        .order_by("-day")
    )
    total, start = 0, today
    for day, rows in per_day:
        total += rows
        start = day
        if total >= CSV_TARGET_ROWS:
            break
    filters = AuditFilters(date_from=start, date_to=today)
    exported = audit_items(filters).filter(attempt__in=audit_attempts(user, filters).values("pk"))
    return start, today, exported.count()


def context_for_load(people: dict[str, Any], now: datetime) -> dict[str, Any]:
    from django.conf import settings
    from django.utils import timezone

    from attention_review.reviews.models import IntelligenceItem
    from attention_review.reviews.selectors.queue import review_queue

    users = people["users"]
    csrf = _csrf_secret()
    cookies = {}
    for username, user in users.items():
        cookies[username] = (
            f"{settings.SESSION_COOKIE_NAME}={_session_cookie(user)}; "
            f"{settings.CSRF_COOKIE_NAME}={csrf}"
        )
    review_pks = list(review_queue(users["rep"]).values_list("pk", flat=True)[:40])
    items = IntelligenceItem.objects.filter(
        conversation_id__in=review_pks, refreshing=False, options__isnull=True
    ).values_list("conversation_id", "pk", "ai_value")
    item_paths = [
        f"/conversations/{conversation}/items/{item}/"
        for conversation, item, value in items
        if isinstance(value, str)
    ][:200]
    date_from, date_to, csv_rows = _csv_window(users["admin"], timezone.localdate(now))
    # A word found in some of the rep's calls (not all: the search has to skip rows) and
    # a waiting filter, as a rep narrowing the queue would type them.
    titles = list(review_queue(users["rep"]).values_list("title", flat=True)[:500])
    words = Counter(
        word.lower() for title in titles for word in set(re.findall(r"[A-Za-z]{4,}", title))
    )
    word = next(
        (word for word, seen in words.most_common() if seen <= len(titles) * 0.6),
        "call",
    )
    return {
        "built_at": now.isoformat(),
        "cookies": cookies,
        "csrf_token": csrf,
        "csrf_header": "X-CSRFToken",
        "review_paths": [f"/conversations/{pk}/" for pk in review_pks],
        "item_paths": item_paths,
        "csv_query": f"date_from={date_from.isoformat()}&date_to={date_to.isoformat()}",
        "csv_rows": csv_rows,
        "queue_query": f"q={word}&waiting=3",
        "user_ids": {name: user.pk for name, user in users.items()},
        "team_ids": people["team_ids"],
    }


def table_counts() -> dict[str, int]:
    from attention_review.reviews import models

    return {
        "conversations": models.Conversation.objects.count(),
        "awaiting_review": models.Conversation.objects.filter(awaiting_review=True).count(),
        "intelligence_items": models.IntelligenceItem.objects.count(),
        "confirmation_attempts": models.ConfirmationAttempt.objects.count(),
        "confirmed_items": models.ConfirmedItem.objects.count(),
        "edited_confirmed_items": models.ConfirmedItem.objects.filter(is_edited=True).count(),
    }


def table_sizes() -> dict[str, dict[str, int]]:
    """On-disk size of each big table: rows (heap), TOAST (the JSON payloads), indexes."""
    from django.db import connection

    from attention_review.reviews import models

    sizes = {}
    with connection.cursor() as cursor:
        for model in (
            models.Conversation,
            models.IntelligenceItem,
            models.ConfirmationAttempt,
            models.ConfirmedItem,
        ):
            cursor.execute(
                "SELECT pg_total_relation_size(%s), pg_relation_size(%s), pg_indexes_size(%s)",
                [model._meta.db_table] * 3,
            )
            total, heap, indexes = cursor.fetchone()
            sizes[model._meta.db_table] = {
                "total": total,
                "heap": heap,
                "indexes": indexes,
                "toast": total - heap - indexes,
            }
    return sizes


def main(argv: list[str]) -> None:
    count = int(argv[0]) if argv else 100_000
    setup_django()
    started = time.monotonic()
    built = build(count)
    copied = time.monotonic() - started
    finish_tables()
    context = context_for_load(built["people"], built["now"])
    seconds = time.monotonic() - started
    counts = table_counts()
    context["counts"] = counts
    write_json(CONTEXT_FILE, context)
    update_results(
        build={
            "seconds": round(seconds, 1),
            "copy_seconds": round(copied, 1),
            "counts": counts,
            "sizes": table_sizes(),
            "csv_rows": context["csv_rows"],
            "csv_query": context["csv_query"],
        }
    )
    print(
        f"Built in {seconds:.0f} s (COPY {copied:.0f} s): "
        + ", ".join(f"{value:,} {name.replace('_', ' ')}" for name, value in counts.items())
    )


if __name__ == "__main__":
    main(sys.argv[1:])
