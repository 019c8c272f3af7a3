"""Hostile input, from the API and from the browser: nothing renders as markup, nothing
is stored half-way, no request reaches data it should not, and none of it is a 500."""

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from attention_review.reviews.forms import MAX_VALUE_LENGTH
from attention_review.reviews.models import (
    AttentionUser,
    ConfirmationAttempt,
    Conversation,
    IntelligenceItem,
    SetAsideRecord,
    SyncRun,
    Team,
)
from attention_review.reviews.services.sync import conversation_sync
from tests.factories import make_conversation, make_item
from tests.hardening.helpers import HTMX, client_for, confirm, save_draft, text_item
from tests.hardening.hostile import (
    EMOJI,
    IMAGE,
    NUL,
    RTL,
    SCRIPT,
    assert_inert,
    hostile,
    hostile_conversation,
)

pytestmark = pytest.mark.django_db

HOSTILE_ID = "conv-hostile-0001"


@pytest.fixture
def hostile_synced(sandbox, api, synced, rep, manager):
    """A conversation of the rep's whose every text is hostile, synced over HTTP."""
    owner = AttentionUser.objects.get(user=rep).attention_uuid
    team = Conversation.objects.filter(owner=rep).first().team_attention_uuid
    sandbox.state.add_conversation(hostile_conversation(HOSTILE_ID, owner, team))
    conversation_sync(client=api, full=True)
    return Conversation.objects.get(attention_id=HOSTILE_ID)


@pytest.fixture
def small_conversation(rep):
    """A conversation of the rep's built directly (no sync): for the many cheap cases."""
    conversation = make_conversation(owner=rep)
    for key in ("next_steps", "budget", "pain_points"):
        make_item(conversation, key=key, value=f"What the AI heard about {key}")
    return conversation


def item_by_key(conversation, key):
    return conversation.items.get(key=key)


# Text from the API ----------------------------------------------------------------


def test_hostile_text_from_the_api_renders_as_text_on_every_page(
    sandbox, hostile_synced, rep, manager, admin_user
):
    conversation = hostile_synced
    client = client_for(rep)

    queue = client.get(reverse("reviews:queue")).content.decode()
    assert_inert(queue, shown=["Title"])

    review_url = reverse("reviews:review", args=[conversation.pk])
    reading = client.get(review_url).content.decode()
    assert_inert(
        reading, shown=["Title", "Participant", "ItemTitle", "ItemValue", "Amount", "OppTitle"]
    )
    for key in ["next_steps", "stage", "decision_makers", "raw_json"]:
        item = item_by_key(conversation, key)
        editing = client.get(f"{review_url}?edit={item.pk}").content.decode()
        assert_inert(editing, shown=["Title"])
        fragment = client.get(
            reverse("reviews:item-edit", args=[conversation.pk, item.pk]), headers=HTMX
        ).content.decode()
        assert_inert(fragment)
        assert "&lt;script&gt;" in fragment

    # The rep types markup too, and confirms.
    typed = save_draft(client, item_by_key(conversation, "next_steps"), hostile("Typed"))
    assert_inert(typed.content.decode(), shown=["Typed"])
    html = confirm(client, conversation).content.decode()
    assert "Confirmed in Attention" in html
    result = client.get(review_url).content.decode()
    assert_inert(
        result,
        shown=[
            "Participant",
            "Attendee",
            "PStatus",
            "Scorecard",
            "ScoreItem",
            "ScoreDescription",
            "Evidence",
            "Sum",
            "RecordId",
            "RecordCode",
            "AccountId",
            "ContactId",
            "OppTitle",
        ],
    )

    manager_client = client_for(manager)
    ledger = manager_client.get(reverse("reviews:audit")).content.decode()
    assert_inert(ledger, shown=["Title", "ItemTitle", "ItemValue"])
    assert "<ins>Typed</ins>" in ledger, "the edit is shown as a diff"
    export = manager_client.get(reverse("reviews:audit-export"))
    csv_text = b"".join(export.streaming_content).decode()
    assert "Typed <script>" in csv_text, "CSV is data, not a page: kept as typed"

    admin_client = client_for(admin_user)
    attempt = ConfirmationAttempt.objects.get(conversation=conversation)
    for url in [
        reverse("admin:reviews_conversation_changelist"),
        reverse("admin:reviews_conversation_change", args=[conversation.pk]),
        reverse("admin:reviews_intelligenceitem_changelist"),
        reverse("admin:reviews_confirmationattempt_change", args=[attempt.pk]),
    ]:
        page = admin_client.get(url)
        assert page.status_code == 200, url
        assert_inert(page.content.decode())


def test_right_to_left_text_and_emoji_survive_the_round_trip_exactly(sandbox, hostile_synced, rep):
    conversation = hostile_synced
    client = client_for(rep)
    item = item_by_key(conversation, "next_steps")
    typed = f"{RTL} — {EMOJI}"
    assert save_draft(client, item, typed).status_code == 200
    item.refresh_from_db()
    assert item.decision_value == typed
    page = client.get(reverse("reviews:review", args=[conversation.pk])).content.decode()
    assert RTL in page
    assert EMOJI in page
    confirm(client, conversation)
    (body,) = sandbox.state.confirm_bodies[HOSTILE_ID]
    sent = {entry["id"]: entry["value"] for entry in body["intelligence"]}
    assert sent[item.item_id] == typed
    lists = {entry["key"]: entry["value"] for entry in body["intelligence"]}
    assert lists["decision_makers"][1] == EMOJI, "a list value goes back as it came"


def test_nul_bytes_from_the_api_are_stored_without_breaking_the_sync(sandbox, api, synced, rep):
    """PostgreSQL cannot store NUL in text or JSON: the API boundary drops it."""
    owner = AttentionUser.objects.get(user=rep).attention_uuid
    resource = hostile_conversation("conv-nul-0001", owner, "")
    attributes = resource["attributes"]
    attributes["title"] = NUL
    attributes["participants"][0]["name"] = NUL
    attributes["extractedIntelligence"]["next_steps"]["value"] = NUL
    attributes["labels"] = {NUL: NUL}
    sandbox.state.add_conversation(resource)
    run = conversation_sync(client=api, full=True)
    assert run.status == "succeeded"
    stored = Conversation.objects.get(attention_id="conv-nul-0001")
    assert stored.title == "beforeafter"
    assert item_by_key(stored, "next_steps").ai_value == "beforeafter"
    client = client_for(rep)
    page = client.get(reverse("reviews:review", args=[stored.pk]))
    assert page.status_code == 200
    assert "beforeafter" in page.content.decode()


def test_oversized_text_from_the_api_is_stored_within_the_columns(sandbox, api, synced, rep):
    owner = AttentionUser.objects.get(user=rep).attention_uuid
    resource = hostile_conversation("conv-big-0001", owner, "t" * 500)
    attributes = resource["attributes"]
    attributes["title"] = "T" * 20_000
    attributes["crmExportStatus"] = "S" * 5_000
    attributes["externalIntelligenceOpportunityID"] = "O" * 5_000
    attributes["externalOpportunity"] = {"uuid": "U" * 5_000, "title": "E" * 5_000}
    attributes["extractedIntelligence"]["next_steps"]["value"] = "V" * 200_000
    attributes["extractedIntelligence"]["next_steps"]["title"] = "I" * 5_000
    sandbox.state.add_conversation(resource)
    assert conversation_sync(client=api, full=True).status == "succeeded"
    stored = Conversation.objects.get(attention_id="conv-big-0001")
    assert stored.title == "T" * 500
    assert len(item_by_key(stored, "next_steps").ai_value) == 200_000
    page = client_for(rep).get(reverse("reviews:review", args=[stored.pk]))
    assert page.status_code == 200


@pytest.mark.parametrize(
    "conversation_id",
    [f"id-{IMAGE}", "id with spaces and ünïcödé", "a?b=c#d", "%2e%2e", "c" * 64],
    ids=["markup", "unicode", "url-syntax", "encoded-dots", "64-chars"],
)
def test_hostile_conversation_ids_from_the_api_are_stored_and_confirmed_as_text(
    sandbox, api, synced, rep, conversation_id
):
    owner = AttentionUser.objects.get(user=rep).attention_uuid
    sandbox.state.add_conversation(hostile_conversation(conversation_id, owner, ""))
    assert conversation_sync(client=api, full=True).status == "succeeded"
    stored = Conversation.objects.get(attention_id=conversation_id)
    client = client_for(rep)
    page = client.get(reverse("reviews:review", args=[stored.pk]))
    assert_inert(page.content.decode())
    html = confirm(client, stored).content.decode()
    assert "Confirmed in Attention" in html
    assert sandbox.state.applied_confirms[conversation_id] == 1


@pytest.mark.parametrize(
    "conversation_id",
    ["..", "../../admin", "a/b", "a\\b", f"id-{SCRIPT}"],
    ids=["dots", "up", "slash", "backslash", "closing-tag"],
)
def test_an_id_that_reads_as_a_path_is_never_put_in_a_url(
    sandbox, api, synced, rep, conversation_id
):
    """Stored and shown, but no request is made with it: a server that decodes %2F or
    resolves '..' would otherwise receive the key on another endpoint."""
    owner = AttentionUser.objects.get(user=rep).attention_uuid
    sandbox.state.add_conversation(hostile_conversation(conversation_id, owner, ""))
    assert conversation_sync(client=api, full=True).status == "succeeded"
    stored = Conversation.objects.get(attention_id=conversation_id)
    client = client_for(rep)
    requests_before = sandbox.state.request_count()
    html = confirm(client, stored).content.decode()
    assert "Attention sent a response this app does not understand" in html
    assert sandbox.state.request_count() == requests_before, "no request at all"
    assert ConfirmationAttempt.objects.get().outcome == ConfirmationAttempt.Outcome.FAILED


@pytest.mark.parametrize(("where", "value"), [("id", "c" * 65), ("userUUID", "u" * 65)])
def test_a_record_with_an_id_too_long_to_store_whole_is_set_aside_by_name(
    sandbox, api, synced, rep, manager, where, value
):
    """A cut id would name another conversation: the record is set aside, with the field
    and the rule it broke, and the rest of the sync goes on."""
    owner = AttentionUser.objects.get(user=rep).attention_uuid
    resource = hostile_conversation("conv-long-0001", owner, "")
    if where == "id":
        resource["id"] = resource["attributes"]["uuid"] = value
    else:
        resource["attributes"]["userUUID"] = value
    sandbox.state.add_conversation(resource)
    before = Conversation.objects.count()
    client = client_for(manager)
    panel = client.post(reverse("reviews:sync-now"), headers=HTMX).content.decode()
    run = SyncRun.objects.order_by("-pk").first()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.set_aside == 1
    assert "1 set aside" in panel
    record = SetAsideRecord.objects.get(kind="record", resolved_at__isnull=True)
    assert "broke the contract" in record.reason
    assert "characters" in record.reason, "the field and the rule it broke are named"
    assert Conversation.objects.count() == before
    assert client.get(reverse("reviews:queue")).status_code == 200


@pytest.mark.parametrize(("where", "value"), [("item id", "i" * 201), ("item key", "k" * 201)])
def test_an_item_with_an_id_too_long_is_skipped_with_a_reason_and_the_call_stored(
    sandbox, api, synced, rep, manager, where, value
):
    owner = AttentionUser.objects.get(user=rep).attention_uuid
    resource = hostile_conversation("conv-long-0001", owner, "")
    item = resource["attributes"]["extractedIntelligence"]["next_steps"]
    item["id" if where == "item id" else "key"] = value
    sandbox.state.add_conversation(resource)
    client_for(manager).post(reverse("reviews:sync-now"), headers=HTMX)
    stored = Conversation.objects.get(attention_id="conv-long-0001")
    assert not stored.items.filter(key="next_steps").exists()
    assert stored.items.exists(), "the call's other items are stored"
    skipped = SetAsideRecord.objects.get(kind="item", resolved_at__isnull=True)
    assert "next_steps" in skipped.reason
    assert "characters" in skipped.reason


# Values the rep types ----------------------------------------------------------------


def test_a_value_at_the_limit_is_saved_and_one_over_is_refused_whole(rep, conversation):
    client = client_for(rep)
    item = text_item(conversation)
    at_limit = "x" * MAX_VALUE_LENGTH
    assert save_draft(client, item, at_limit).status_code == 200
    item.refresh_from_db()
    assert item.decision_value == at_limit
    response = save_draft(client, item, "y" * (MAX_VALUE_LENGTH + 1))
    assert response.status_code == 200
    assert "Keep it under" in response.content.decode()
    item.refresh_from_db()
    assert item.decision_value == at_limit, "the refused value stored nothing"


def test_a_request_body_over_django_s_limit_is_refused_with_400(rep, conversation):
    client = client_for(rep)
    item = text_item(conversation)
    response = save_draft(client, item, "z" * 3_000_000)
    assert response.status_code == 400
    item.refresh_from_db()
    assert not item.is_edited


@pytest.mark.parametrize("value", [NUL, "\x00", "ok\x00"])
def test_nul_bytes_typed_by_the_rep_are_refused_and_nothing_is_stored(rep, conversation, value):
    client = client_for(rep)
    item = text_item(conversation)
    response = save_draft(client, item, value)
    assert response.status_code == 200
    assert "Null characters are not allowed" in response.content.decode()
    item.refresh_from_db()
    assert not item.is_edited


@pytest.mark.parametrize("typed", ["NaN", "Infinity", "-Infinity", '{"a": NaN}', "[1, Infinity]"])
def test_nan_and_infinity_typed_into_a_json_item_are_refused(hostile_synced, rep, typed):
    """Not JSON: PostgreSQL's jsonb and the API client would both refuse them later."""
    item = item_by_key(hostile_synced, "raw_json")
    response = save_draft(client_for(rep), item, typed)
    assert "Enter valid JSON." in response.content.decode()
    item.refresh_from_db()
    assert not item.is_edited


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ('{"note": false}', {"note": False}),
        ('{"note": ""}', {"note": ""}),
        ('{"note": [1, 2], "n": 9007199254740993}', {"note": [1, 2], "n": 9007199254740993}),
    ],
)
def test_a_json_item_reopened_in_the_editor_saves_back_unchanged(
    hostile_synced, rep, typed, stored
):
    client = client_for(rep)
    item = item_by_key(hostile_synced, "raw_json")
    save_draft(client, item, typed)
    item.refresh_from_db()
    assert item.decision_value == stored
    editor = client.get(
        reverse("reviews:item-edit", args=[hostile_synced.pk, item.pk]), headers=HTMX
    )
    shown = re.search(r"<textarea[^>]*>\n?(.*?)</textarea>", editor.content.decode(), re.S)[1]
    save_draft(client, item, html.unescape(shown))
    item.refresh_from_db()
    assert item.decision_value == stored


def test_markup_typed_by_the_rep_is_shown_as_text(rep, conversation):
    client = client_for(rep)
    item = text_item(conversation)
    response = save_draft(client, item, f"{SCRIPT} {IMAGE}")
    assert_inert(response.content.decode())
    page = client.get(reverse("reviews:review", args=[conversation.pk])).content.decode()
    assert_inert(page)
    assert "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;" in page


# Ids from another conversation, another rep, or nowhere ------------------------------


def other_reps_conversation(rep2):
    return Conversation.objects.filter(owner=rep2, awaiting_review=True).first()


def test_an_item_of_another_conversation_is_404_and_untouched(rep, conversation):
    client = client_for(rep)
    mine_too = (
        Conversation.objects.filter(owner=rep, awaiting_review=True)
        .exclude(pk=conversation.pk)
        .first()
    )
    foreign_item = text_item(mine_too)
    for action in ["item", "item-reset", "item-exclude"]:
        url = reverse(f"reviews:{action}", args=[conversation.pk, foreign_item.pk])
        response = client.post(url, {"value": "Crossed wires", "excluded": "1"}, headers=HTMX)
        assert response.status_code == 404, action
    url = reverse("reviews:item-edit", args=[conversation.pk, foreign_item.pk])
    assert client.get(url, headers=HTMX).status_code == 404
    foreign_item.refresh_from_db()
    assert not foreign_item.is_edited
    assert not foreign_item.is_excluded


def test_another_reps_conversation_and_items_are_404_for_every_action(
    sandbox, rep, rep2, conversation
):
    client = client_for(rep)
    theirs = other_reps_conversation(rep2)
    item = text_item(theirs)
    get_urls = [
        reverse("reviews:review", args=[theirs.pk]),
        reverse("reviews:item-edit", args=[theirs.pk, item.pk]),
        reverse("reviews:item", args=[theirs.pk, item.pk]),
    ]
    for url in get_urls:
        assert client.get(url, headers=HTMX).status_code == 404, url
    post_urls = [
        reverse("reviews:item", args=[theirs.pk, item.pk]),
        reverse("reviews:item-reset", args=[theirs.pk, item.pk]),
        reverse("reviews:item-exclude", args=[theirs.pk, item.pk]),
        reverse("reviews:opportunity", args=[theirs.pk]),
        reverse("reviews:accept-rest", args=[theirs.pk]),
        reverse("reviews:confirm", args=[theirs.pk]),
    ]
    for url in post_urls:
        data = {"value": "x", "excluded": "1", "opportunity_id": "x", "review_round": 1}
        assert client.post(url, data, headers=HTMX).status_code == 404, url
    item.refresh_from_db()
    assert not item.is_edited
    assert not item.is_excluded
    assert sandbox.state.confirm_calls.get(theirs.attention_id, 0) == 0
    assert not ConfirmationAttempt.objects.exists()


BIG = 10**30


@pytest.mark.parametrize(
    "path",
    [
        f"/conversations/{BIG}/",
        f"/conversations/{2**63}/",
        f"/conversations/{{pk}}/items/{BIG}/edit/",
        "/conversations/{pk}/?edit=" + str(BIG),
        "/conversations/{pk}/?edit=-1",
        f"/?page={BIG}",
        "/?page=-3",
        "/?page=%00",
        f"/audit/?page={BIG}",
        "/audit/?date_from=2026-13-45&rep=abc&team=" + str(BIG),
        f"/audit/export.csv?rep={BIG}",
    ],
)
def test_hostile_ids_and_query_strings_never_cause_a_server_error(
    rep, manager, small_conversation, path
):
    conversation = small_conversation
    client = client_for(manager if "audit" in path else rep)
    response = client.get(path.replace("{pk}", str(conversation.pk)), headers=HTMX)
    assert response.status_code in {200, 302, 400, 404}, response.status_code


@pytest.mark.parametrize("review_round", [str(BIG), "-1", "0", "1.5", "abc", "", "\x00"])
def test_a_hostile_review_round_confirms_nothing(sandbox, rep, small_conversation, review_round):
    conversation = small_conversation
    client = client_for(rep)
    response = client.post(
        reverse("reviews:confirm", args=[conversation.pk]),
        {"review_round": review_round},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "Confirmed in Attention" not in response.content.decode()
    assert sandbox.state.confirm_calls.get(conversation.attention_id, 0) == 0


def test_a_stale_review_round_confirms_nothing(sandbox, rep, conversation):
    client = client_for(rep)
    response = client.post(
        reverse("reviews:confirm", args=[conversation.pk]),
        {"review_round": conversation.review_round + 1},
        headers=HTMX,
    )
    assert "has changed since the page was loaded" in response.content.decode()
    assert sandbox.state.confirm_calls.get(conversation.attention_id, 0) == 0


def test_an_opportunity_not_linked_to_the_conversation_is_refused(rep, conversation):
    client = client_for(rep)
    response = client.post(
        reverse("reviews:opportunity", args=[conversation.pk]),
        {"opportunity_id": f"006{SCRIPT}"},
        headers=HTMX,
    )
    assert "Choose one of the opportunities" in response.content.decode()
    assert_inert(response.content.decode())
    conversation.refresh_from_db()
    assert conversation.draft_opportunity_id == ""


# CSRF and methods -------------------------------------------------------------------


def post_targets(conversation):
    item = text_item(conversation)
    return {
        "save": (reverse("reviews:item", args=[conversation.pk, item.pk]), {"value": "x"}),
        "reset": (reverse("reviews:item-reset", args=[conversation.pk, item.pk]), {}),
        "exclude": (
            reverse("reviews:item-exclude", args=[conversation.pk, item.pk]),
            {"excluded": "1"},
        ),
        "opportunity": (
            reverse("reviews:opportunity", args=[conversation.pk]),
            {"opportunity_id": conversation.default_opportunity_id},
        ),
        "accept the rest": (reverse("reviews:accept-rest", args=[conversation.pk]), {}),
        "confirm": (
            reverse("reviews:confirm", args=[conversation.pk]),
            {"review_round": conversation.review_round},
        ),
        "sync": (reverse("reviews:sync-now"), {}),
        "logout": (reverse("logout"), {}),
    }


def test_every_post_without_a_csrf_token_is_403_and_changes_nothing(
    sandbox, rep, manager, conversation
):
    for name, (url, data) in post_targets(conversation).items():
        client = client_for(manager if name == "sync" else rep, enforce_csrf_checks=True)
        response = client.post(url, data, headers=HTMX)
        assert response.status_code == 403, name
    assert not IntelligenceItem.objects.filter(reviewed_by__isnull=False).exists()
    assert not IntelligenceItem.objects.filter(choice="own").exists()
    assert not IntelligenceItem.objects.filter(is_excluded=True).exists()
    assert sandbox.state.confirm_calls.get(conversation.attention_id, 0) == 0
    assert not ConfirmationAttempt.objects.exists()
    assert client_for(rep).get(reverse("reviews:queue")).status_code == 200


def test_a_login_without_a_csrf_token_is_403(rep):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("login"), {"username": "rep", "password": "correct-horse-battery"}
    )
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("method", "name", "needs_item"),
    [
        ("get", "confirm", False),
        ("get", "opportunity", False),
        ("get", "item-reset", True),
        ("get", "item-exclude", True),
        ("get", "sync-now", None),
        ("post", "review", False),
        ("post", "item-edit", True),
        ("post", "queue", None),
        ("post", "audit", None),
        ("post", "audit-export", None),
        ("post", "sync-status", None),
        ("put", "item", True),
        ("delete", "item", True),
        ("patch", "confirm", False),
        ("delete", "review", False),
    ],
)
def test_a_wrong_method_is_405(rep, manager, small_conversation, method, name, needs_item):
    conversation = small_conversation
    if needs_item is None:
        url = reverse(f"reviews:{name}")
    elif needs_item:
        url = reverse(f"reviews:{name}", args=[conversation.pk, text_item(conversation).pk])
    else:
        url = reverse(f"reviews:{name}", args=[conversation.pk])
    client = client_for(manager if name.startswith(("audit", "sync")) else rep)
    response = getattr(client, method)(url)
    assert response.status_code == 405, (method, url)
    assert not IntelligenceItem.objects.filter(choice="own").exists()


def test_team_names_from_the_admin_render_as_text(manager, rep, synced):
    Team.objects.update(name=hostile("Team"))
    page = client_for(manager).get(reverse("reviews:audit")).content.decode()
    assert_inert(page, shown=["Team"])
