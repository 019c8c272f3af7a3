"""The fault matrix: each fault the sandbox can inject, against the sync and against the
confirm, over real HTTP. In every cell: no edit is lost, nothing is confirmed twice, and
a sync that stopped resumes at the page where it stopped.

The figures asserted here (requests made, waits between them, what the user reads) are
the ones `docs/reliability.md` states; `test_the_reliability_doc_states_these_figures`
keeps the two in step.
"""

import logging
import re
import time
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from attention_review.reviews.models import (
    ConfirmationAttempt,
    Conversation,
    SetAsideRecord,
    SyncRun,
)
from tests.hardening.helpers import (
    HTMX,
    REP_EDIT,
    assert_draft_kept,
    client_for,
    confirm,
    edit_and_exclude,
    exclude,
    save_draft,
    text_item,
)
from tests.hardening.matrix import ACTED_CELLS, CELLS, READ_TIMEOUT, RETRY_AFTER_CAP

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
PAGE_SIZE = 20
ANALYSED = 56  # the demo's analysed conversations: what a complete sync stores
CLIENT_LOGGER = "attention_review.attention.client"
_RETRY_LINE = re.compile(r"retry (\d+)/(\d+) in ([0-9.]+)s")


@pytest.fixture(autouse=True)
def _short_timeouts(settings):
    settings.ATTENTION_READ_TIMEOUT = READ_TIMEOUT
    settings.ATTENTION_RETRY_AFTER_CAP = RETRY_AFTER_CAP
    settings.ATTENTION_PAGE_SIZE = PAGE_SIZE
    # Every sync re-reads the whole demo history, so the pages are the same each time.
    settings.ATTENTION_SYNC_OVERLAP_MINUTES = 10 * 365 * 24 * 60


def logged_retry_delays(caplog) -> list[float]:
    """The waits the client announced before each retry, in order."""
    delays = []
    for record in caplog.records:
        if record.name == CLIENT_LOGGER and (match := _RETRY_LINE.search(record.getMessage())):
            delays.append(float(match[3]))
    return delays


def wait_for(condition, timeout=5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the sandbox"
        time.sleep(0.02)


def cell_ids(cells):
    return [cell.name.replace(" ", "-") for cell in cells]


# Sync -------------------------------------------------------------------------------


def sync_now(client):
    response = client.post(reverse("reviews:sync-now"), headers=HTMX)
    assert response.status_code == 200
    return response.content.decode()


# The sync's listing of page 2 (not page 2 of the organisation's users).
LIST_PAGE_2 = "withCrmRecords=true&page=2"


def list_requests(sandbox, page: int) -> int:
    """Requests for one page of the sync's listing (not the owner look-ups)."""
    return sandbox.state.request_count(f"withCrmRecords=true&page={page}", method="GET")


# A page whose records break the contract does not fail the sync: its records are set
# aside one by one (test_a_page_breaking_the_contract_is_set_aside_and_the_rest_stored).
WHOLE_PAGE_FAULTS = [cell for cell in CELLS if cell.fault["kind"] != "contract"]


@pytest.mark.parametrize("cell", WHOLE_PAGE_FAULTS, ids=cell_ids(WHOLE_PAGE_FAULTS))
def test_sync_cell(cell, sandbox, rep, rep2, manager, caplog):
    manager_client = client_for(manager)
    assert "failed" not in sync_now(manager_client)
    first = SyncRun.objects.get()
    assert first.status == SyncRun.Status.SUCCEEDED
    assert first.pages == 3, "56 analysed conversations in pages of 20"
    assert Conversation.objects.count() == ANALYSED

    # The rep has a draft on a conversation of page 2, the page that is going to fail.
    ordered = list(Conversation.objects.order_by("started_at", "attention_id"))
    page_2 = ordered[PAGE_SIZE : 2 * PAGE_SIZE]
    target = next(c for c in page_2 if c.owner == rep and c.awaiting_review)
    rep_client = client_for(rep)
    edited = text_item(target)
    excluded = next(i for i in target.items.filter(refreshing=False) if i.pk != edited.pk)
    save_draft(rep_client, edited, REP_EDIT)
    exclude(rep_client, excluded)

    before = timezone.now()
    page_1_requests = list_requests(sandbox, 1)
    page_2_requests = list_requests(sandbox, 2)
    sandbox.state.add_fault(**cell.fault, times=None, path_contains=LIST_PAGE_2, method="GET")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=CLIENT_LOGGER):
        panel = sync_now(manager_client)

    # What the manager sees: the sync panel says it failed, and why.
    assert "failed" in panel
    assert cell.sync_message[:60] in panel.replace("&#x27;", "'")
    failed = SyncRun.objects.order_by("-pk").first()
    assert failed.status == SyncRun.Status.FAILED
    assert cell.sync_message in failed.error
    # What is retried, and how often.
    assert list_requests(sandbox, 2) - page_2_requests == cell.read_requests
    assert logged_retry_delays(caplog) == (cell.read_delays or [])
    # What is stored: page 1 again, nothing of the failed page, the rep's draft as it was.
    assert failed.pages == 1
    fresh = set(Conversation.objects.filter(synced_at__gte=before).values_list("pk", flat=True))
    assert fresh == {c.pk for c in ordered[:PAGE_SIZE]}
    assert_draft_kept(edited, excluded)

    # The next sync resumes at page 2 without reading page 1 again.
    sandbox.state.clear_faults()
    assert "failed" not in sync_now(manager_client)
    resumed = SyncRun.objects.order_by("-pk").first()
    assert resumed.status == SyncRun.Status.SUCCEEDED
    assert resumed.start_page == 2
    assert resumed.pages == 2
    assert list_requests(sandbox, 1) == page_1_requests + 1, "page 1 was not read again"
    assert Conversation.objects.filter(synced_at__gte=before).count() == len(ordered)
    assert_draft_kept(edited, excluded)


RETRIED_READS = [cell for cell in CELLS if cell.read_delays]


@pytest.mark.parametrize("cell", RETRIED_READS, ids=cell_ids(RETRIED_READS))
def test_a_passing_fault_costs_the_sync_one_retry(cell, sandbox, rep, rep2, manager):
    sandbox.state.add_fault(**cell.fault, times=1, path_contains=LIST_PAGE_2, method="GET")
    assert "failed" not in sync_now(client_for(manager))
    run = SyncRun.objects.get()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert list_requests(sandbox, 2) == 2
    assert Conversation.objects.count() == ANALYSED


# Confirm ----------------------------------------------------------------------------


def confirm_posts(sandbox, conversation) -> int:
    return sandbox.state.confirm_calls[conversation.attention_id]


def applied(sandbox, conversation) -> int:
    return sandbox.state.applied_confirms.get(conversation.attention_id, 0)


def readbacks(sandbox, conversation) -> int:
    return sandbox.state.request_count(f"/conversations/{conversation.attention_id}", method="GET")


def assert_edit_reached_attention(sandbox, conversation, edited, excluded) -> None:
    confirmed = sandbox.state.conversation(conversation.attention_id)["attributes"][
        "confirmedExtractedIntelligence"
    ]
    by_id = {entry["id"]: entry["value"] for entry in confirmed.values()}
    assert by_id[edited.item_id] == REP_EDIT
    (body,) = [b for b in sandbox.state.confirm_bodies[conversation.attention_id] if b][-1:]
    assert excluded.item_id not in {item["id"] for item in body["intelligence"]}


@pytest.mark.parametrize("cell", CELLS, ids=cell_ids(CELLS))
def test_confirm_cell(cell, sandbox, rep, conversation, caplog):
    """The API did not act: the reviewer is told, keeps every edit, and confirms again."""
    client = client_for(rep)
    edited, excluded = edit_and_exclude(client, conversation)
    sandbox.state.add_fault(**cell.fault, times=None, path_contains="/crm/confirm")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=CLIENT_LOGGER):
        html = confirm(client, conversation).content.decode().replace("&#x27;", "'")

    # What the reviewer sees.
    assert cell.confirm_message in html
    assert "Confirmed in Attention" not in html
    # What is retried, and how often: only what the API cannot have acted on.
    assert confirm_posts(sandbox, conversation) == cell.confirm_posts
    assert logged_retry_delays(caplog) == (cell.confirm_delays or [])
    # What is stored: a failed attempt, the drafts as they were, still awaiting review.
    attempt = ConfirmationAttempt.objects.get()
    assert attempt.outcome == cell.confirm_outcome
    assert attempt.resolved_by_readback == cell.may_have_acted
    assert readbacks(sandbox, conversation) == (1 if cell.may_have_acted else 0)
    assert_draft_kept(edited, excluded)
    conversation.refresh_from_db()
    assert conversation.awaiting_review

    # A timed-out confirm lands late; wait for it before the reviewer tries again.
    if cell.fault["kind"] == "latency":
        wait_for(lambda: applied(sandbox, conversation) == 1)
    else:
        assert applied(sandbox, conversation) == 0

    sandbox.state.clear_faults()
    posts_before_retry = confirm_posts(sandbox, conversation)
    retry = confirm(client, conversation).content.decode()
    assert "Confirmed in Attention" in retry
    assert applied(sandbox, conversation) == 1, "confirmed once in Attention"
    if cell.fault["kind"] == "latency":
        assert confirm_posts(sandbox, conversation) == posts_before_retry, "found, not re-sent"
    else:
        assert confirm_posts(sandbox, conversation) == posts_before_retry + 1
    assert_edit_reached_attention(sandbox, conversation, edited, excluded)
    outcomes = list(
        ConfirmationAttempt.objects.order_by("started_at", "pk").values_list("outcome", flat=True)
    )
    assert outcomes == [cell.confirm_outcome, "succeeded"]


@pytest.mark.parametrize("cell", ACTED_CELLS, ids=cell_ids(ACTED_CELLS))
def test_confirm_cell_when_the_api_acted_before_the_fault(cell, sandbox, rep, conversation):
    """The API applied the confirmation, then the answer was lost: the app reads it back,
    records the success, and never posts again."""
    client = client_for(rep)
    edited, excluded = edit_and_exclude(client, conversation)
    sandbox.state.add_fault(
        **cell.fault, times=None, path_contains="/crm/confirm", apply_first=True
    )
    html = confirm(client, conversation).content.decode()
    assert "Confirmed in Attention" in html
    attempt = ConfirmationAttempt.objects.get()
    assert attempt.outcome == ConfirmationAttempt.Outcome.SUCCEEDED
    assert attempt.resolved_by_readback
    assert confirm_posts(sandbox, conversation) == 1
    assert readbacks(sandbox, conversation) == 1
    assert_edit_reached_attention(sandbox, conversation, edited, excluded)
    # A second click (or a late tab) finds the success and does not post again.
    again = confirm(client, conversation).content.decode()
    assert "Confirmed in Attention" in again
    assert confirm_posts(sandbox, conversation) == 1
    assert applied(sandbox, conversation) == 1


def test_a_retry_after_a_lost_answer_reads_back_before_posting_again(sandbox, rep, conversation):
    """A timed-out confirm that lands after the read-back: the retry finds it, and when
    Attention cannot be read the retry posts nothing and says so."""
    client = client_for(rep)
    edited, excluded = edit_and_exclude(client, conversation)
    sandbox.state.add_fault(kind="latency", delay=0.6, times=1, path_contains="/crm/confirm")
    confirm(client, conversation)
    wait_for(lambda: applied(sandbox, conversation) == 1)

    sandbox.state.add_fault(
        kind="status", status=503, times=None, path_contains=conversation.attention_id
    )
    html = confirm(client, conversation).content.decode()
    assert "Attention is not answering right now" in html
    assert confirm_posts(sandbox, conversation) == 1, "nothing posted while it cannot check"
    assert_draft_kept(edited, excluded)

    sandbox.state.clear_faults()
    assert "Confirmed in Attention" in confirm(client, conversation).content.decode()
    assert confirm_posts(sandbox, conversation) == 1
    assert applied(sandbox, conversation) == 1
    outcomes = list(
        ConfirmationAttempt.objects.order_by("started_at", "pk").values_list("outcome", flat=True)
    )
    assert outcomes == ["failed", "failed", "succeeded"]


# The document -----------------------------------------------------------------------


def _doc_rows(where: str) -> dict[str, str]:
    rows = {}
    for line in DOC.read_text().splitlines():
        cells = [part.strip() for part in line.strip().strip("|").split("|")]
        if len(cells) > 2 and cells[1] == where:
            rows[cells[0]] = line
    return rows


def test_the_reliability_doc_states_these_figures():
    sync_rows = _doc_rows("sync")
    confirm_rows = _doc_rows("confirm")
    for cell in CELLS:
        sync_row = sync_rows[cell.name]
        assert f"{cell.read_requests} request" in sync_row, sync_row
        confirm_row = confirm_rows[cell.name]
        assert f"{cell.confirm_posts} POST" in confirm_row, confirm_row
        assert cell.confirm_message.split(".")[0] in confirm_row, confirm_row


def test_a_page_breaking_the_contract_is_set_aside_and_the_rest_stored(sandbox, rep, manager):
    """Every record of page 2 breaks the contract: they are set aside with the reason and
    the run goes on to the pages after it, and says what it could not store."""
    manager_client = client_for(manager)
    sync_now(manager_client)
    sandbox.state.add_fault(kind="contract", times=1, path_contains=LIST_PAGE_2, method="GET")
    panel = sync_now(manager_client)
    run = SyncRun.objects.order_by("-pk").first()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.set_aside == PAGE_SIZE
    assert run.pages == 3, "the pages after the broken one were read"
    assert any("were stored" in warning for warning in run.warnings), run.warnings
    assert "set aside" in panel
    open_records = SetAsideRecord.objects.filter(resolved_at__isnull=True, kind="record")
    assert open_records.count() == PAGE_SIZE
    assert "broke the contract" in open_records.first().reason

    # Retried on the next run: read fine this time, they are resolved.
    sync_now(manager_client)
    assert not SetAsideRecord.objects.filter(resolved_at__isnull=True, kind="record").exists()
