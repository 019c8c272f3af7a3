"""A sync that never stalls, never misses and never leaks, against a stand-in for Attention
that answers within what its documentation allows: each situation is a sandbox switch,
driven over real HTTP."""

import html
import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from attention_review.attention.client import AttentionClient, RetryPolicy
from attention_review.demo import DEMO_ATTENTION_USERS
from attention_review.reviews.models import (
    AttentionUser,
    Conversation,
    SetAsideRecord,
    SyncRun,
)
from attention_review.reviews.services.reconcile import conversations_reconcile
from attention_review.reviews.services.sync import conversation_sync
from attention_review.sandbox.app import ListQuery, SandboxState
from attention_review.sandbox.server import SandboxServer
from tests.conftest import PASSWORD, TEST_API_KEY
from tests.sign_off import sign_off

pytestmark = pytest.mark.django_db

CONVERSATIONS = 120
# Soft breaks: a null where text is expected, an odd type a person would not notice.
# The call is stored whole, the odd part read as empty or skipped with a reason.
SOFT = [
    "null_title",
    "null_category",
    "null_email",
    "null_user",
    "null_team",
    "source_object",
    "refreshing_null",
    "item_without_id",
    "item_without_key",
    "map_value_string",
    "float_duration",
    "evidences_null",
]
# Hard breaks: the record cannot be stored without guessing; it is set aside.
HARD = ["missing_created_at", "id_not_string"]


@pytest.fixture(scope="module")
def big_sandbox():
    server = SandboxServer(
        SandboxState(api_key=TEST_API_KEY, conversation_count=CONVERSATIONS)
    ).start()
    yield server
    server.stop()


@pytest.fixture
def big(big_sandbox, settings, rep, rep2):
    big_sandbox.state.reset()
    settings.ATTENTION_API_BASE_URL = big_sandbox.base_url
    return big_sandbox


@pytest.fixture
def api(big):
    client = AttentionClient(
        base_url=big.base_url,
        api_key=TEST_API_KEY,
        read_timeout=2.0,
        page_size=20,
        retry=RetryPolicy(max_retries=1, backoff_seconds=0.01, retry_after_cap=0.2),
    )
    yield client
    client.close()


def listed_ids(server) -> list[str]:
    """The ids the list serves, in its order, as the sync asks for them (read before any
    switch is set)."""
    ids: list[str] = []
    page = 1
    while True:
        query = ListQuery(page=page, size=50, hide_non_analyzed=True, with_crm_records=True)
        data = server.state.list_envelope(query)["data"]
        if not data:
            return ids
        ids += [record["id"] for record in data]
        page += 1


# One record on its own -----------------------------------------------------------------


@pytest.mark.parametrize("kind", SOFT)
def test_an_odd_record_at_position_71_never_stops_the_run(big, api, kind):
    ids = listed_ids(big)
    odd = ids[70]
    big.state.corrupt(odd, kind)
    run = conversation_sync(client=api, full=True)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert Conversation.objects.count() == len(ids), "every conversation is stored"
    assert Conversation.objects.filter(attention_id=odd).exists()
    # And every later run, incremental or full, goes through the same record.
    assert conversation_sync(client=api).status == SyncRun.Status.SUCCEEDED
    assert conversation_sync(client=api, full=True).status == SyncRun.Status.SUCCEEDED


@pytest.mark.parametrize("kind", ["item_without_id", "item_without_key", "map_value_string"])
def test_an_item_that_is_not_an_item_is_skipped_with_a_reason(big, api, kind):
    odd = listed_ids(big)[70]
    big.state.corrupt(odd, kind)
    conversation_sync(client=api, full=True)
    (skipped,) = SetAsideRecord.objects.filter(kind="item", resolved_at__isnull=True)
    assert "skipped" in skipped.reason
    assert Conversation.objects.get(attention_id=odd).items.exists(), "its other items stored"


@pytest.mark.parametrize("kind", HARD)
def test_a_record_breaking_the_contract_is_set_aside_and_the_rest_stored(
    big, api, kind, login, manager
):
    ids = listed_ids(big)
    odd = ids[70]
    big.state.corrupt(odd, kind)
    run = conversation_sync(client=api, full=True)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.set_aside == 1
    assert Conversation.objects.count() == len(ids) - 1
    record = SetAsideRecord.objects.get(kind="record", resolved_at__isnull=True)
    assert record.raw, "kept raw"
    assert "broke the contract" in record.reason
    problems = login(manager).get(reverse("reviews:problems")).content.decode()
    assert record.reason.split(":")[0] in problems


def test_a_missing_total_is_no_reason_to_stop(big, api):
    ids = listed_ids(big)
    big.state.total_records_missing = "meta"
    run = conversation_sync(client=api, full=True)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert Conversation.objects.count() == len(ids)


# Paging by what came back ----------------------------------------------------------------


def test_a_server_that_caps_pages_at_20_is_read_to_the_end(big, api):
    ids = listed_ids(big)
    api.page_size = 50
    big.state.page_size_cap = 20
    run = conversation_sync(client=api, full=True)
    assert Conversation.objects.count() == len(ids)
    assert run.warnings == []


def test_a_total_that_undercounts_does_not_cut_the_run_short(big, api):
    ids = listed_ids(big)
    big.state.total_records_offset = -20
    conversation_sync(client=api, full=True)
    assert Conversation.objects.count() == len(ids)


def test_one_empty_page_in_the_middle_is_looked_past_and_the_shortfall_told(big, api):
    ids = listed_ids(big)
    big.state.empty_page_at = 2
    run = conversation_sync(client=api, full=True)
    # Page 2's rows were never served; every page after it is read, and the run says so.
    assert Conversation.objects.count() == len(ids) - 20
    assert f"Attention reported {len(ids)} conversations; {len(ids) - 20} were stored." in (
        run.warnings
    )


def test_a_server_that_ignores_the_page_ends_the_run_with_a_warning(big, api):
    ids = listed_ids(big)
    big.state.ignore_page = True
    run = conversation_sync(client=api, full=True)
    assert Conversation.objects.count() == 20
    assert any("same conversations" in warning for warning in run.warnings)
    assert any(f"Attention reported {len(ids)}" in warning for warning in run.warnings)


def test_a_run_that_stored_fewer_than_reported_says_so_on_the_panel(big, api, login, manager):
    big.state.ignore_page = True
    login(manager).post(reverse("reviews:sync-now"))
    panel = login(manager).get(reverse("reviews:queue")).content.decode()
    assert "warning" in panel
    problems = login(manager).get(reverse("reviews:problems")).content.decode()
    assert "were stored" in problems


# Missing is not empty -----------------------------------------------------------------------


def test_a_list_without_the_maps_never_deletes_items_and_fetches_them(big, api, rep):
    conversation_sync(client=api, full=True)
    items_before = sum(c.items.count() for c in Conversation.objects.all())
    awaiting_before = Conversation.objects.filter(awaiting_review=True).count()
    big.state.omit_maps_in_list = True
    run = conversation_sync(client=api, full=True)
    assert run.fetched_singly == Conversation.objects.count()
    assert sum(c.items.count() for c in Conversation.objects.all()) == items_before
    assert Conversation.objects.filter(awaiting_review=True).count() == awaiting_before
    # A first sync of a list without maps still gets every item.
    Conversation.objects.all().delete()
    conversation_sync(client=api, full=True)
    assert sum(c.items.count() for c in Conversation.objects.all()) == items_before


# Reconcile -------------------------------------------------------------------------------


def test_the_reconcile_picks_up_confirmations_and_deletions_made_in_attention(big, api, login, rep):
    conversation_sync(client=api, full=True)
    awaiting = list(Conversation.objects.filter(owner=rep, awaiting_review=True)[:2])
    confirmed_there, deleted_there = awaiting
    values = {
        item.key: item.ai_value for item in confirmed_there.items.all() if item.is_confirmable
    }
    big.state.confirm_outside(confirmed_there.attention_id, values)
    big.state.delete_conversation(deleted_there.attention_id)

    run = conversations_reconcile(client=api, chunk_size=25)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.pages == -(-Conversation.objects.count() // 25), "read in chunks"
    assert run.gone == 1
    confirmed_there.refresh_from_db()
    deleted_there.refresh_from_db()
    assert not confirmed_there.awaiting_review
    assert deleted_there.gone_at is not None
    assert not deleted_there.awaiting_review
    queue = login(rep).get(reverse("reviews:queue")).content.decode()
    assert confirmed_there.title not in queue
    assert deleted_there.title not in queue
    page = login(rep).get(reverse("reviews:review", args=[deleted_there.pk])).content.decode()
    assert "Deleted in Attention" in page, "kept, and says why"


def test_the_reconcile_resumes_where_it_stopped(big, api):
    conversation_sync(client=api, full=True)
    total = Conversation.objects.count()
    first = conversations_reconcile(client=api, chunk_size=10, max_chunks=2)
    assert first.records_seen == 20
    second = conversations_reconcile(client=api, chunk_size=10)
    assert second.records_seen == total - 20, "only the ones not read yet"
    assert not Conversation.objects.filter(reconciled_at__isnull=True).exists()


# Owner links from evidence only --------------------------------------------------------------


def make_account(django_user_model, username, email):
    user = django_user_model.objects.create_user(username, email=email, password=PASSWORD)
    user.groups.add(Group.objects.get_or_create(name="Reps")[0])
    return user


def test_an_ignored_owner_filter_never_links_a_user_to_another_reps_calls(
    big, api, django_user_model
):
    dana = next(user for user in DEMO_ATTENTION_USERS if user.email.startswith("dana"))
    big.state.filter_owner_email_ignored = True
    account = make_account(django_user_model, "dana", dana.email)
    conversation_sync(client=api, full=True)
    link = AttentionUser.objects.get(user=account)
    assert link.attention_uuid == dana.uuid
    owned = Conversation.objects.filter(owner=account)
    assert owned.exists()
    assert set(owned.values_list("owner_attention_uuid", flat=True)) == {dana.uuid}


def test_two_accounts_with_one_email_are_refused_with_a_clear_message(
    big, api, django_user_model, login, manager
):
    lee = next(user for user in DEMO_ATTENTION_USERS if user.email.startswith("lee"))
    first = make_account(django_user_model, "lee", lee.email)
    second = make_account(django_user_model, "lee.too", lee.email.upper())
    run = conversation_sync(client=api, full=True)
    assert not AttentionUser.objects.filter(user__in=[first, second]).exists()
    assert not Conversation.objects.filter(owner__in=[first, second]).exists()
    (warning,) = [w for w in run.warnings if lee.email in w]
    assert "lee, lee.too" in warning
    assert "own email" in warning
    problems = login(manager).get(reverse("reviews:problems")).content.decode()
    assert lee.email in problems


def test_without_the_users_endpoint_nobody_new_is_linked(big, api, django_user_model):
    big.state.users_endpoint_missing = True
    dana = next(user for user in DEMO_ATTENTION_USERS if user.email.startswith("dana"))
    account = make_account(django_user_model, "dana", dana.email)
    run = conversation_sync(client=api, full=True)
    assert not Conversation.objects.filter(owner=account).exists()
    assert any("link app accounts" in warning for warning in run.warnings)


# Secrets scrubbed at the boundary -----------------------------------------------------------


def test_an_error_that_repeats_the_key_leaks_it_nowhere(big, login, manager, rep, caplog):
    big.state.add_fault(
        kind="status", status=400, echo_key=True, times=None, path_contains="/conversations/list"
    )
    panel = login(manager).post(reverse("reviews:sync-now")).content.decode()
    panel += login(manager).get(reverse("reviews:queue")).content.decode()
    panel += login(manager).get(reverse("reviews:problems")).content.decode()
    stored = " ".join(SyncRun.objects.values_list("error", flat=True))
    output, errors = io.StringIO(), io.StringIO()
    with pytest.raises(Exception, match="Sync failed"):
        call_command("sync_conversations", stdout=output, stderr=errors)
    assert "[redacted]" in stored
    for text in (panel, stored, output.getvalue(), errors.getvalue(), caplog.text):
        assert TEST_API_KEY not in text


def test_a_confirm_error_that_repeats_the_key_leaks_it_nowhere(big, api, login, rep, caplog):
    conversation_sync(client=api, full=True)
    conversation = Conversation.objects.filter(owner=rep, awaiting_review=True).first()
    big.state.add_fault(kind="status", status=422, echo_key=True, path_contains="/crm/confirm")
    client = login(rep)
    sign_off(client, conversation)
    response = client.post(
        reverse("reviews:confirm", args=[conversation.pk]), {"review_round": 1}, follow=True
    )
    page = response.content.decode()
    attempt = conversation.confirmation_attempts.get()
    assert "[redacted]" in attempt.error
    for text in (page, attempt.error, caplog.text):
        assert TEST_API_KEY not in text


# The Problems panel ----------------------------------------------------------------------------


def test_managers_see_failed_syncs_set_aside_records_and_failed_confirms_in_one_place(
    big, api, login, manager, rep
):
    conversation_sync(client=api, full=True)
    conversation = Conversation.objects.filter(owner=rep, awaiting_review=True).first()
    big.state.add_fault(kind="status", status=422, path_contains="/crm/confirm")
    client = login(rep)
    sign_off(client, conversation)
    client.post(reverse("reviews:confirm", args=[conversation.pk]), {"review_round": 1})
    big.state.corrupt(listed_ids(big)[3], "missing_created_at")
    conversation_sync(client=api, full=True)
    big.state.add_fault(kind="status", status=503, times=None, path_contains="/conversations/list")
    with pytest.raises(Exception, match="503"):
        conversation_sync(client=api, full=True)

    page = login(manager).get(reverse("reviews:problems")).content.decode()
    assert "Failed" in page
    assert "Attention answered 503" in page
    assert "broke the contract" in page
    assert html.escape(conversation.title) in page
    assert login(rep).get(reverse("reviews:problems")).status_code == 403
