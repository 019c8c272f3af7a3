"""Concurrency over real HTTP, with real threads and real database connections.

Each scenario runs twice: against pytest-django's live server on PostgreSQL (skipped
only when the suite runs on SQLite), and against the demo as `make run` serves it
(SQLite in WAL mode with IMMEDIATE transactions, `runserver`, syncs in their own
process), which runs on every database.
"""

import json
import sqlite3
import threading
import time

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection, transaction

from attention_review.reviews.models import Conversation, IntelligenceItem, SyncRun
from attention_review.reviews.services import review as review_services
from attention_review.reviews.services.sync import conversation_sync
from attention_review.sandbox.app import SandboxState
from attention_review.sandbox.server import SandboxServer
from tests.conftest import PASSWORD, TEST_API_KEY
from tests.hardening.live import AppSession, DemoTarget, OrmTarget, Target, run_together

ON_POSTGRES = django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
CONFIRMS = 20
SAVES = 20


def review_path(pk: int) -> str:
    return f"/conversations/{pk}/"


def item_path(conversation_pk: int, item_pk: int, action: str = "") -> str:
    return f"/conversations/{conversation_pk}/items/{item_pk}/{action}"


# Scenarios ----------------------------------------------------------------------------


def twenty_confirms_make_one_call(target: Target, rep: AppSession, sandbox: SandboxServer):
    pk, review_round = target.fresh_conversation("rep")
    target.sign_off(rep, pk)
    attention_id = target.query(
        "SELECT attention_id FROM reviews_conversation WHERE id = %s", (pk,)
    )
    attention_id = attention_id[0][0]
    # Attention takes its time, so most clicks arrive while the first is in flight.
    sandbox.state.add_fault(
        kind="latency", delay=0.5, times=1, path_contains="/crm/confirm", apply_first=True
    )
    tabs = [rep.clone() for _ in range(CONFIRMS)]
    responses = run_together(
        CONFIRMS,
        lambda i: tabs[i].post(f"{review_path(pk)}confirm/", {"review_round": review_round}),
    )
    assert all(getattr(r, "status_code", r) == 200 for r in responses), responses
    assert sandbox.state.confirm_calls[attention_id] == 1
    assert sandbox.state.applied_confirms[attention_id] == 1
    assert target.attempts(pk) == ["succeeded"]
    said = [r.text for r in responses]
    assert sum("Confirmed in Attention" in text for text in said) >= 1
    assert all(
        "Confirmed in Attention" in text or "being confirmed right now" in text for text in said
    )
    page = rep.get(review_path(pk)).text
    assert "Confirmed in Attention" in page
    return {
        "clicks": CONFIRMS,
        "confirm POSTs": sandbox.state.confirm_calls[attention_id],
        "attempts": len(target.attempts(pk)),
        "answered confirmed": sum("Confirmed in Attention" in text for text in said),
        "answered in progress": sum("being confirmed right now" in text for text in said),
    }


def simultaneous_saves_leave_one_value(target: Target, rep: AppSession):
    pk, _ = target.fresh_conversation("rep")
    item = next(i for i in target.items(pk) if i["free_text"])
    values = [f"Value typed in tab {i}" for i in range(SAVES)]
    tabs = [rep.clone() for _ in range(SAVES)]

    def act(i: int):
        # Three in four tabs save a value; the others reset the item to the AI's value.
        if i % 4 == 3:
            return tabs[i].post(item_path(pk, item["pk"], "reset/"), {})
        return tabs[i].post(item_path(pk, item["pk"]), {"value": values[i]})

    responses = run_together(SAVES, act)
    assert all(getattr(r, "status_code", r) == 200 for r in responses), responses
    stored = target.item(item["pk"])
    if stored["choice"] == "own":
        assert stored["decision_value"] in values
        shown = stored["decision_value"]
    else:
        assert stored["decision_value"] is None
        shown = item["ai_value"]
    assert stored["reviewed_by_id"] == target.user_id("rep")
    fragment = rep.get(item_path(pk, item["pk"]), headers={"HX-Request": "true"}).text
    assert shown.replace("'", "&#x27;") in fragment
    return {
        "requests": SAVES,
        "saves": SAVES - SAVES // 4,
        "resets": SAVES // 4,
        "stored": "a saved value" if stored["choice"] == "own" else "the AI value (a reset won)",
    }


def a_sync_never_overwrites_drafts(target: Target, rep: AppSession, sandbox: SandboxServer):
    """A full sync (slowed down so it overlaps) runs while the rep keeps editing items
    across their conversations; afterwards every saved draft is exactly as saved."""
    sandbox.state.add_fault(
        kind="latency", delay=0.15, times=None, path_contains="withCrmRecords=true"
    )
    conversations = target.query(
        "SELECT c.id FROM reviews_conversation c WHERE c.owner_id = %s AND c.awaiting_review "
        "AND NOT EXISTS (SELECT 1 FROM reviews_confirmationattempt a "
        "WHERE a.conversation_id = c.id) ORDER BY c.started_at",
        (target.user_id("rep"),),
    )
    # The newest few are left alone for the other scenarios, which need untouched ones.
    rows = [
        (item["pk"], pk)
        for (pk,) in conversations[:-4]
        for item in target.items(pk)
        if item["free_text"]
    ]
    last_saved: dict[int, str] = {}
    excluded: set[int] = set()
    sync = threading.Thread(target=target.run_sync)
    runs_before = len(target.sync_runs())
    sync.start()
    edits = 0
    try:
        while sync.is_alive() or edits < len(rows):
            item_pk, conversation_pk = rows[edits % len(rows)]
            if edits % 5 == 4:
                response = rep.post(item_path(conversation_pk, item_pk, "exclude/"), {})
                if response.status_code == 200:
                    excluded.add(item_pk)
            else:
                value = f"Rep draft {edits} of item {item_pk}"
                response = rep.post(item_path(conversation_pk, item_pk), {"value": value})
                if response.status_code == 200:
                    last_saved[item_pk] = value
            assert response.status_code == 200
            edits += 1
    finally:
        sync.join(timeout=120)
        sandbox.state.clear_faults()
    runs = target.sync_runs()
    assert len(runs) == runs_before + 1
    assert runs[-1] == "succeeded"
    lost = []
    for item_pk, value in last_saved.items():
        stored = target.item(item_pk)
        if not (stored["choice"] == "own" and stored["decision_value"] == value):
            lost.append((item_pk, value, stored))
    for item_pk in excluded:
        if not target.item(item_pk)["is_excluded"]:
            lost.append((item_pk, "excluded", target.item(item_pk)))
    assert lost == []
    return {"edits during the sync": edits, "items": len(set(last_saved) | excluded), "lost": 0}


def an_edit_during_a_confirm_is_never_lost(target: Target, rep: AppSession, sandbox: SandboxServer):
    """The rep (or a second tab) changes an item while Attention is still answering the
    confirm: the change is either refused, with a message, or it reaches Attention."""
    pk, review_round = target.fresh_conversation("rep")
    target.sign_off(rep, pk)
    attention_id = target.query(
        "SELECT attention_id FROM reviews_conversation WHERE id = %s", (pk,)
    )
    attention_id = attention_id[0][0]
    late = next(i for i in target.items(pk) if i["free_text"])
    sandbox.state.add_fault(kind="latency", delay=1.0, times=1, path_contains="/crm/confirm")
    result: dict = {}
    confirming = threading.Thread(
        target=lambda: result.update(
            response=rep.clone().post(f"{review_path(pk)}confirm/", {"review_round": review_round})
        )
    )
    confirming.start()
    deadline = time.monotonic() + 10
    while not target.has_live_attempt(pk):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    response = rep.post(item_path(pk, late["pk"]), {"value": "Changed while confirming"})
    confirming.join(timeout=30)
    assert response.status_code == 200
    assert "Confirmed in Attention" in result["response"].text
    (body,) = sandbox.state.confirm_bodies[attention_id]
    sent = {entry["id"]: entry["value"] for entry in body["intelligence"]}
    stored = target.item(late["pk"])
    reached_attention = sent.get(late["item_id"]) == "Changed while confirming"
    still_a_draft = (
        stored["choice"] == "own" and stored["decision_value"] == "Changed while confirming"
    )
    refused = "being confirmed" in response.text and not reached_attention
    assert reached_attention or still_a_draft or refused, (response.text, sent, stored)
    if refused:
        assert stored["choice"] != "own"
    return {"reached Attention": reached_attention, "kept": still_a_draft, "refused": refused}


# PostgreSQL: the live server on the test database ----------------------------------

needs_postgres = pytest.mark.skipif(
    not ON_POSTGRES, reason="PostgreSQL only; the demo (SQLite) counterparts run below"
)


@pytest.fixture
def pg_target(live_server, synced, rep, rep2, manager, api):
    return OrmTarget(live_server.url, lambda: call_command("sync_conversations", "--full"))


@pytest.fixture
def pg_rep(pg_target):
    return AppSession(pg_target.base_url).log_in("rep", PASSWORD)


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_twenty_simultaneous_confirms_make_one_call(pg_target, pg_rep, sandbox):
    print(twenty_confirms_make_one_call(pg_target, pg_rep, sandbox))


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_simultaneous_saves_of_one_item_leave_one_value(pg_target, pg_rep):
    print(simultaneous_saves_leave_one_value(pg_target, pg_rep))


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_a_sync_during_edits_keeps_every_draft(pg_target, pg_rep, sandbox, settings):
    settings.ATTENTION_PAGE_SIZE = 10
    print(a_sync_never_overwrites_drafts(pg_target, pg_rep, sandbox))


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_an_edit_during_a_confirm_is_never_lost(pg_target, pg_rep, sandbox):
    print(an_edit_during_a_confirm_is_never_lost(pg_target, pg_rep, sandbox))


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_a_draft_saved_while_the_sync_drops_its_item_is_kept(synced, rep, api):
    """The AI stops reporting an item; the sync marks it withdrawn. A rep saves a
    decision on it just as the sync runs: the sync waits for the rep's transaction, and
    the decision is kept whole."""
    conversation = Conversation.objects.filter(owner=rep, awaiting_review=True).first()
    stale = IntelligenceItem.objects.create(
        conversation=conversation, item_id="intel-no-longer-reported", key="old", title="Old"
    )
    saved, release = threading.Event(), threading.Event()

    def rep_saves():
        try:
            with transaction.atomic():
                review_services.item_save_own(item=stale, value="Typed as the sync ran", user=rep)
                saved.set()
                release.wait(20)
        finally:
            connection.close()

    def sync():
        try:
            conversation_sync(client=api, full=True)
        finally:
            connection.close()

    saver, syncer = threading.Thread(target=rep_saves), threading.Thread(target=sync)
    saver.start()
    assert saved.wait(10)
    syncer.start()
    waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    deadline = time.monotonic() + 20
    while OrmTarget("", lambda: None).query(waiting)[0][0] == 0:
        assert time.monotonic() < deadline, "the sync never waited for the rep"
        time.sleep(0.02)
    release.set()
    saver.join(20)
    syncer.join(60)
    stale = IntelligenceItem.objects.filter(pk=stale.pk).first()
    assert stale is not None, "the item with the rep's decision was deleted"
    assert stale.withdrawn
    assert stale.decision_value == "Typed as the sync ran"
    assert SyncRun.objects.order_by("-pk")[0].status == SyncRun.Status.SUCCEEDED


# SQLite: the demo, as `make run` serves it -----------------------------------------


@pytest.fixture(scope="module")
def demo_sandbox():
    server = SandboxServer(SandboxState(api_key=TEST_API_KEY)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def demo(tmp_path_factory, demo_sandbox):
    target = DemoTarget(tmp_path_factory.mktemp("demo"), demo_sandbox.base_url, TEST_API_KEY)
    try:
        yield target.start()
    finally:
        target.stop()


@pytest.fixture(scope="module")
def demo_rep(demo):
    return AppSession(demo.base_url).log_in("rep", DemoTarget.PASSWORD)


@pytest.fixture
def fresh_demo_sandbox(demo_sandbox):
    demo_sandbox.state.clear_faults()
    yield demo_sandbox
    demo_sandbox.state.clear_faults()


def test_the_demo_database_runs_in_wal_mode(demo):
    assert demo.journal_mode() == "wal"


def test_demo_twenty_simultaneous_confirms_make_one_call(demo, demo_rep, fresh_demo_sandbox):
    print(twenty_confirms_make_one_call(demo, demo_rep, fresh_demo_sandbox))


def test_demo_simultaneous_saves_of_one_item_leave_one_value(demo, demo_rep):
    print(simultaneous_saves_leave_one_value(demo, demo_rep))


def test_demo_a_sync_during_edits_keeps_every_draft(demo, demo_rep, fresh_demo_sandbox):
    print(a_sync_never_overwrites_drafts(demo, demo_rep, fresh_demo_sandbox))


def test_demo_an_edit_during_a_confirm_is_never_lost(demo, demo_rep, fresh_demo_sandbox):
    print(an_edit_during_a_confirm_is_never_lost(demo, demo_rep, fresh_demo_sandbox))


def test_demo_a_draft_saved_while_the_sync_drops_its_item_is_kept(demo):
    """SQLite takes the write lock when a transaction begins (IMMEDIATE): a sync that
    starts while a rep's draft is being written waits for it, then sees the draft."""
    pk, _ = demo.fresh_conversation("rep2")
    db = sqlite3.connect(demo.db_path, timeout=20, isolation_level=None)
    try:
        db.execute(
            "INSERT INTO reviews_intelligenceitem (conversation_id, item_id, key, title, "
            "category, position, refreshing, withdrawn, is_confirmed, needs_review, raw, "
            "choice, is_excluded, version, is_decided, evidence, draft_text, change_reason) "
            "VALUES (?, 'intel-gone', 'old', 'Old', 'CRM', 99, 0, 0, 0, 1, '{}', '', 0, 0, 0, "
            "'[]', '', '')",
            (pk,),
        )
        stale = db.execute("SELECT id FROM reviews_intelligenceitem WHERE item_id = 'intel-gone'")
        stale_pk = stale.fetchone()[0]
        db.execute("BEGIN IMMEDIATE")
        db.execute(
            "UPDATE reviews_intelligenceitem SET choice = 'own', decision_value = ? WHERE id = ?",
            (json.dumps("Typed as the sync ran"), stale_pk),
        )
        syncer = threading.Thread(target=demo.run_sync)
        syncer.start()
        # The sync process starts meanwhile and waits at its first write: SQLite lets
        # one write transaction run at a time, from BEGIN, so it cannot read the items
        # before this draft is committed.
        time.sleep(1.5)
        db.execute("COMMIT")
        syncer.join(60)
    finally:
        db.close()
    assert demo.sync_runs()[-1] == "succeeded"
    assert demo.item(stale_pk)["decision_value"] == "Typed as the sync ran"
