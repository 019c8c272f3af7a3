"""The Attention sandbox over real HTTP: the documented API, its demo data and its faults."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from attention_review.demo import DEMO_ATTENTION_USERS, DEMO_TEAMS
from attention_review.sandbox.app import Fault, SandboxState
from attention_review.sandbox.demo_data import (
    DEFAULT_SEED,
    generate_conversation,
)
from attention_review.sandbox.server import SandboxServer
from tests.fixtures import attention_example
from tests.sandbox.conftest import AUTH, KEY

REP = DEMO_ATTENTION_USERS[0]


def list_page(http, server, **params):
    response = http.get(f"{server.base_url}/conversations/list", params=params, timeout=5)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/json"
    return response.json()


def all_conversations(http, server, **params):
    conversations, page = [], 1
    while True:
        body = list_page(http, server, page=page, **params)
        conversations.extend(body["data"])
        if page * 50 >= body["meta"]["totalRecords"]:
            return conversations
        page += 1


def awaiting(server):
    """The first conversation with extracted intelligence and nothing confirmed."""
    for outline in server.state.outlines:
        resource = server.state.conversation(outline.id)
        attributes = resource["attributes"]
        if attributes["extractedIntelligence"] and not attributes["confirmedExtractedIntelligence"]:
            return resource
    raise AssertionError("no conversation awaiting review")


def confirm_url(server, conversation_id):
    return f"{server.base_url}/conversations/{conversation_id}/crm/confirm"


# --- Authentication ---------------------------------------------------------------------


@pytest.mark.parametrize("header", [f"Bearer {KEY}", f"bearer {KEY}", KEY])
def test_bearer_and_raw_keys_are_accepted(server, header):
    response = requests.get(
        f"{server.base_url}/conversations/list", headers={"Authorization": header}, timeout=5
    )
    assert response.status_code == 200


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": ""}])
def test_a_missing_or_wrong_key_is_401_and_never_echoed(server, headers):
    response = requests.get(f"{server.base_url}/conversations/list", headers=headers, timeout=5)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or missing API key"}
    assert KEY not in response.text
    assert KEY not in repr(server.state)


# --- Listing ----------------------------------------------------------------------------


def test_pages_cover_every_conversation_once_in_created_order(http, server):
    first = list_page(http, server)
    assert len(first["data"]) == 50
    assert first["meta"]["totalRecords"] == 60
    assert first["links"] == {
        "self": "/v2/conversations/list?page=1&size=50",
        "related": "/v2/conversations/list?page=2&size=50",
    }
    conversations = all_conversations(http, server)
    ids = [c["id"] for c in conversations]
    assert len(ids) == len(set(ids)) == 60
    created = [c["attributes"]["createdAt"] for c in conversations]
    assert created == sorted(created)
    assert list_page(http, server, page=99)["data"] == []


def test_small_pages_agree_with_big_ones(http, server):
    big = [c["id"] for c in list_page(http, server, size=50)["data"]]
    small = [c["id"] for page in (1, 2) for c in list_page(http, server, size=7, page=page)["data"]]
    assert small == big[:14]


@pytest.mark.parametrize(
    "params",
    [
        {"size": 51},
        {"size": 0},
        {"size": "ten"},
        {"page": 0},
        {"page": "x"},
        {"fromDateTime": "yesterday"},
        {"toDateTime": "2026-13-01"},
    ],
)
def test_bad_list_parameters_are_400_saying_which(http, server, params):
    response = http.get(f"{server.base_url}/conversations/list", params=params, timeout=5)
    assert response.status_code == 400
    assert next(iter(params)) in response.json()["detail"]


def test_date_window_is_inclusive_from_and_exclusive_to(http, server):
    created = [c["attributes"]["createdAt"] for c in all_conversations(http, server)]
    window = list_page(http, server, fromDateTime=created[10], toDateTime=created[20])
    assert [c["attributes"]["createdAt"] for c in window["data"]] == created[10:20]
    assert window["meta"]["totalRecords"] == 10
    offset = list_page(http, server, fromDateTime="2026-11-01T00:00:00+00:00")
    assert all(c["attributes"]["createdAt"] >= "2026-11-01" for c in offset["data"])


def test_owner_and_team_filters(http, server):
    by_email = all_conversations(http, server, **{"filter[owner.email]": REP.email.upper()})
    assert by_email
    assert {c["attributes"]["userUUID"] for c in by_email} == {REP.uuid}
    by_id = all_conversations(http, server, **{"filter[owner.id]": REP.uuid})
    assert [c["id"] for c in by_id] == [c["id"] for c in by_email]
    team = DEMO_TEAMS[1].uuid
    by_team = all_conversations(http, server, **{"filter[team.id]": team})
    assert by_team
    assert {c["attributes"]["teamUUID"] for c in by_team} == {team}
    nobody = list_page(http, server, **{"filter[owner.email]": "nobody@example.com"})
    assert (nobody["data"], nobody["meta"]) == ([], {"totalRecords": 0})


def test_hide_filters_leave_out_internal_and_unanalysed_calls(http, server):
    everything = all_conversations(http, server)
    analysed = all_conversations(http, server, **{"filter[hide_non_analyzed]": "true"})
    assert 50 < len(analysed) < len(everything)
    assert {c["attributes"]["transcriptStatus"] for c in analysed} == {"completed"}
    external = all_conversations(http, server, **{"filter[hide_internal]": "true"})
    assert len(external) < len(everything)
    assert not any(c["attributes"]["isInternal"] for c in external)


def test_crm_sections_only_with_crm_records(http, server):
    plain = list_page(http, server)["data"]
    for conversation in plain:
        attributes = conversation["attributes"]
        assert attributes["extractedIntelligence"] == {}
        assert attributes["confirmedExtractedIntelligence"] == {}
        assert attributes["linkedCrmRecords"] == attributes["externalContacts"] == []
    rich = list_page(http, server, withCrmRecords="true")["data"]
    assert any(c["attributes"]["extractedIntelligence"] for c in rich)
    assert all(c["attributes"]["linkedCrmRecords"] for c in rich)
    assert [c["id"] for c in rich] == [c["id"] for c in plain]


# --- One conversation -------------------------------------------------------------------


def test_one_conversation_has_the_documented_shape(http, server):
    listed = list_page(http, server)["data"][0]
    response = http.get(f"{server.base_url}/conversations/{listed['id']}", timeout=5)
    assert response.status_code == 200
    resource = response.json()
    example = attention_example("confirm-response.json")
    assert resource.keys() == example.keys()
    assert resource["type"] == "conversations"
    assert resource["attributes"]["uuid"] == resource["id"] == listed["id"]
    assert resource["links"] == {"self": f"/v2/conversations/{listed['id']}"}
    assert example["attributes"].keys() <= resource["attributes"].keys()
    codes = {record["code"] for record in resource["attributes"]["linkedCrmRecords"]}
    assert codes == {"Account", "Contact", "Opportunity"}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/conversations/no-such-id", 404),
        ("POST", "/conversations/no-such-id/crm/confirm", 404),
        ("GET", "/nothing/here", 404),
        ("DELETE", "/conversations/list", 405),
        ("GET", "/conversations/x/crm/confirm", 405),
    ],
)
def test_unknown_things_are_json_errors(http, server, method, path, status):
    response = http.request(method, server.base_url + path, json={"intelligence": []}, timeout=5)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["detail"]
    if status == 405:
        assert response.headers["Allow"]


# --- Confirm ----------------------------------------------------------------------------


def test_confirm_updates_only_the_posted_items(http, server):
    conversation = awaiting(server)
    extracted = conversation["attributes"]["extractedIntelligence"]
    first = extracted["next_steps"]
    body = {
        "intelligence": [
            {"id": first["id"], "key": first["key"], "value": "Edited", "title": first["title"]}
        ],
        "opportunity_id": "006TESTOPPORTUNITY",
    }
    response = http.post(confirm_url(server, conversation["id"]), json=body, timeout=5)
    assert response.status_code == 200
    attributes = response.json()["attributes"]
    assert attributes["confirmedExtractedIntelligence"] == {
        first["key"]: {**first, "value": "Edited"}
    }
    assert attributes["crmExportStatus"] == "exported"
    assert attributes["externalIntelligenceOpportunityID"] == "006TESTOPPORTUNITY"

    # A second confirm of another item keeps the first; the stored state is what GET sees.
    amount = extracted["amount"]
    body = {"intelligence": [{**{k: amount[k] for k in ("id", "key", "title")}, "value": 1}]}
    http.post(confirm_url(server, conversation["id"]), json=body, timeout=5)
    fetched = http.get(f"{server.base_url}/conversations/{conversation['id']}", timeout=5).json()
    confirmed = fetched["attributes"]["confirmedExtractedIntelligence"]
    assert set(confirmed) == {"next_steps", "amount"}
    assert confirmed["next_steps"]["value"] == "Edited"
    assert confirmed["amount"]["value"] == 1
    assert server.state.confirm_calls[conversation["id"]] == 2
    assert server.state.applied_confirms[conversation["id"]] == 2
    assert server.state.confirm_bodies[conversation["id"]][1] == body


def test_reposting_the_same_confirm_is_harmless(http, server):
    conversation = awaiting(server)
    item = next(iter(conversation["attributes"]["extractedIntelligence"].values()))
    body = {"intelligence": [{k: item[k] for k in ("id", "key", "value", "title")}]}
    first = http.post(confirm_url(server, conversation["id"]), json=body, timeout=5).json()
    second = http.post(confirm_url(server, conversation["id"]), json=body, timeout=5).json()
    assert first == second


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ([], "JSON object"),
        ({}, "'intelligence'"),
        ({"intelligence": "next_steps"}, "'intelligence'"),
        ({"intelligence": ["x"]}, "intelligence[0] must be an object"),
        ({"intelligence": [{"key": "next_steps", "value": "x"}]}, "missing 'id'"),
        ({"intelligence": [{"id": "intel_x", "value": "x"}]}, "missing 'key'"),
        ({"intelligence": [{"id": "intel_nope", "key": "next_steps", "value": "x"}]}, "intel_nope"),
        ({"intelligence": [], "opportunity_id": 6}, "opportunity_id"),
    ],
)
def test_bad_confirm_bodies_are_400_and_change_nothing(http, server, body, detail):
    conversation = awaiting(server)
    response = http.post(confirm_url(server, conversation["id"]), json=body, timeout=5)
    assert response.status_code == 400
    assert detail in response.json()["detail"]
    assert server.state.confirm_calls[conversation["id"]] == 1
    assert server.state.applied_confirms[conversation["id"]] == 0
    assert server.state.conversation(conversation["id"]) == conversation


def test_a_confirm_body_that_is_not_json_is_400(http, server):
    conversation = awaiting(server)
    response = http.post(confirm_url(server, conversation["id"]), data=b"{not json", timeout=5)
    assert response.status_code == 400
    assert server.state.confirm_bodies[conversation["id"]] == ["{not json"]


def test_reset_restores_the_generated_data(http, server):
    conversation = awaiting(server)
    item = next(iter(conversation["attributes"]["extractedIntelligence"].values()))
    body = {"intelligence": [{k: item[k] for k in ("id", "key", "value", "title")}]}
    http.post(confirm_url(server, conversation["id"]), json=body, timeout=5)
    server.state.add_fault(kind="status", status=500, times=None)
    server.state.reset()
    assert server.state.conversation(conversation["id"]) == conversation
    assert server.state.faults == []
    assert server.state.confirm_calls == {}
    assert server.state.request_count() == 0


# --- Demo data --------------------------------------------------------------------------


def test_same_seed_same_data_other_seed_other_data():
    one, two = SandboxState(), SandboxState()
    other = SandboxState(seed=DEFAULT_SEED + 1)
    assert [o.id for o in one.outlines] == [o.id for o in two.outlines]
    ids = [o.id for o in one.outlines]
    assert [one.conversation(i) for i in ids] == [two.conversation(i) for i in ids]
    assert not set(ids) & {o.id for o in other.outlines}


def test_demo_data_mixes_owners_states_and_item_types():
    state = SandboxState(conversation_count=300)
    resources = [state.conversation(outline.id)["attributes"] for outline in state.outlines]
    owners = {a["userUUID"] for a in resources}
    assert owners == {user.uuid for user in DEMO_ATTENTION_USERS}
    assert all(
        a["teamUUID"] == next(u.team_uuid for u in DEMO_ATTENTION_USERS if u.uuid == owner)
        for a in resources
        for owner in [a["userUUID"]]
    )
    analysed = [a for a in resources if a["extractedIntelligence"]]
    assert all(6 <= len(a["extractedIntelligence"]) <= 12 for a in analysed)
    assert all(isinstance(a["extractedIntelligence"]["amount"]["value"], int) for a in analysed)
    assert all(
        key == item["key"] and item["id"].startswith("intel_")
        for a in analysed
        for key, item in a["extractedIntelligence"].items()
    )
    assert any(a["isInternal"] for a in resources)
    assert any(a["isEmpty"] for a in resources)
    assert any(a["transcriptStatus"] == "processing" for a in resources)
    assert any(item["refreshing"] for a in analysed for item in a["extractedIntelligence"].values())
    fully = [
        a for a in analysed if a["confirmedExtractedIntelligence"] == a["extractedIntelligence"]
    ]
    assert fully
    assert all(a["crmExportStatus"] == "exported" for a in fully)
    partly = [
        a
        for a in analysed
        if a["confirmedExtractedIntelligence"]
        and a["confirmedExtractedIntelligence"] != a["extractedIntelligence"]
    ]
    assert partly
    for a in resources:
        summary_checks = [
            s["summary"]["averageScore"]
            == round(sum(i["numericResult"]["score"] for i in s["items"]) / len(s["items"]), 1)
            for s in a["scorecardResults"]
        ]
        assert all(summary_checks)


def test_one_conversation_of_100k_is_built_on_its_own_and_fast():
    started = time.perf_counter()
    resource = generate_conversation(99_999, count=100_000)
    assert time.perf_counter() - started < 0.2
    assert resource["attributes"]["uuid"] == resource["id"]
    assert resource == generate_conversation(99_999, count=100_000)


def test_the_last_page_of_100k_is_served_quickly():
    state = SandboxState(conversation_count=100_000, api_key=KEY)
    with SandboxServer(state) as big:
        started = time.perf_counter()
        body = requests.get(
            f"{big.base_url}/conversations/list",
            params={"page": 2000, "withCrmRecords": "true"},
            headers=AUTH,
            timeout=10,
        ).json()
        again = requests.get(
            f"{big.base_url}/conversations/list", params={"page": 1999}, headers=AUTH, timeout=10
        )
        assert time.perf_counter() - started < 5
    assert body["meta"]["totalRecords"] == 100_000
    assert len(body["data"]) == 50
    assert len(again.json()["data"]) == 50


# --- Faults -----------------------------------------------------------------------------


def test_latency_delays_then_answers(http, server):
    server.state.add_fault(kind="latency", delay=0.3, path_contains="/list")
    started = time.perf_counter()
    assert list_page(http, server)["data"]
    assert time.perf_counter() - started >= 0.3
    started = time.perf_counter()
    list_page(http, server)
    assert time.perf_counter() - started < 0.3


def test_status_faults_with_and_without_retry_after(http, server):
    server.state.add_fault(kind="status", status=429, retry_after=7, path_contains="/list")
    server.state.add_fault(kind="status", status=503, path_contains="/list")
    url = f"{server.base_url}/conversations/list"
    limited = http.get(url, timeout=5)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"
    assert limited.json()["detail"]
    unavailable = http.get(url, timeout=5)
    assert unavailable.status_code == 503
    assert "Retry-After" not in unavailable.headers
    assert http.get(url, timeout=5).status_code == 200
    assert server.state.request_count("/list") == 3


def test_faults_match_path_and_method_and_last_until_cleared(http, server):
    server.state.add_fault(kind="status", status=500, times=None, method="POST")
    assert http.get(f"{server.base_url}/conversations/list", timeout=5).status_code == 200
    conversation = awaiting(server)
    for _ in range(3):
        response = http.post(confirm_url(server, conversation["id"]), json={}, timeout=5)
        assert response.status_code == 500
    assert server.state.confirm_calls[conversation["id"]] == 3
    server.state.clear_faults()
    response = http.post(confirm_url(server, conversation["id"]), json={}, timeout=5)
    assert response.status_code == 400


def test_drop_closes_the_connection_without_an_answer(http, server):
    server.state.add_fault(kind="drop", path_contains="/conversations/")
    with pytest.raises(requests.ConnectionError):
        http.get(f"{server.base_url}/conversations/list", timeout=5)
    assert list_page(http, server)["data"]


def test_malformed_json_is_a_200_that_does_not_parse(http, server):
    server.state.add_fault(kind="malformed_json")
    response = http.get(f"{server.base_url}/conversations/list", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    with pytest.raises(requests.JSONDecodeError):
        response.json()


def test_contract_faults_break_lists_and_resources(http, server):
    server.state.add_fault(Fault("contract", times=2))
    broken_list = list_page(http, server)
    attributes = broken_list["data"][0]["attributes"]
    assert "uuid" not in attributes
    assert not isinstance(attributes["title"], str)
    conversation_id = broken_list["data"][0]["id"]
    broken_one = http.get(f"{server.base_url}/conversations/{conversation_id}", timeout=5).json()
    assert "uuid" not in broken_one["attributes"]
    empty = list_page(http, server, page=9)
    assert "data" in empty
    server.state.add_fault(kind="contract")
    assert "data" not in list_page(http, server, page=9)


def _post_and_fail(http, url, body, kind):
    """Post a confirm and check the client saw the failure the fault of `kind` makes."""
    if kind == "drop":
        with pytest.raises(requests.ConnectionError):
            http.post(url, json=body, timeout=5)
        return
    response = http.post(url, json=body, timeout=5)
    if kind == "status":
        assert response.status_code == 502
    else:
        with pytest.raises(requests.JSONDecodeError):
            response.json()


@pytest.mark.parametrize(
    "fault",
    [{"kind": "status", "status": 502}, {"kind": "drop"}, {"kind": "malformed_json"}],
)
def test_apply_first_confirms_then_fails(http, server, fault):
    conversation = awaiting(server)
    item = next(iter(conversation["attributes"]["extractedIntelligence"].values()))
    body = {"intelligence": [{k: item[k] for k in ("id", "key", "title")} | {"value": "Done"}]}
    server.state.add_fault(**fault, path_contains="/crm/confirm", apply_first=True)
    _post_and_fail(http, confirm_url(server, conversation["id"]), body, fault["kind"])
    assert server.state.confirm_calls[conversation["id"]] == 1
    assert server.state.applied_confirms[conversation["id"]] == 1
    fetched = http.get(f"{server.base_url}/conversations/{conversation['id']}", timeout=5).json()
    assert fetched["attributes"]["confirmedExtractedIntelligence"][item["key"]]["value"] == "Done"


def test_without_apply_first_a_faulted_confirm_does_nothing(http, server):
    conversation = awaiting(server)
    item = next(iter(conversation["attributes"]["extractedIntelligence"].values()))
    body = {"intelligence": [{k: item[k] for k in ("id", "key", "value", "title")}]}
    server.state.add_fault(kind="drop", path_contains="/crm/confirm")
    with pytest.raises(requests.ConnectionError):
        http.post(confirm_url(server, conversation["id"]), json=body, timeout=5)
    assert server.state.confirm_calls[conversation["id"]] == 1
    assert server.state.applied_confirms[conversation["id"]] == 0


def test_latency_with_apply_first_acts_before_the_slow_answer(http, server):
    conversation = awaiting(server)
    item = next(iter(conversation["attributes"]["extractedIntelligence"].values()))
    body = {"intelligence": [{k: item[k] for k in ("id", "key", "value", "title")}]}
    server.state.add_fault(kind="latency", delay=0.6, apply_first=True)
    with pytest.raises(requests.Timeout):
        http.post(confirm_url(server, conversation["id"]), json=body, timeout=0.2)
    assert server.state.applied_confirms[conversation["id"]] == 1


def test_bad_fault_specs_are_refused():
    with pytest.raises(ValueError, match="kind"):
        Fault("explode")
    with pytest.raises(ValueError, match="times"):
        Fault("drop", times=0)
    assert Fault("status").status == 500


# --- Control API and concurrency --------------------------------------------------------


def test_control_api_switches_faults_and_reports_stats(http, server):
    root = server.root_url
    response = requests.post(
        f"{root}/_sandbox/faults",
        json=[{"kind": "status", "status": 503, "path_contains": "/list", "times": 2}],
        timeout=5,
    )
    assert response.status_code == 201
    assert response.json()["faults"][0]["status"] == 503
    assert http.get(f"{server.base_url}/conversations/list", timeout=5).status_code == 503
    stats = requests.get(f"{root}/_sandbox/stats", timeout=5).json()
    assert stats["requests"] == 1
    assert stats["pending_faults"] == 1
    assert requests.delete(f"{root}/_sandbox/faults", timeout=5).json() == {"faults": []}
    assert http.get(f"{server.base_url}/conversations/list", timeout=5).status_code == 200
    bad = requests.post(f"{root}/_sandbox/faults", json={"kind": "drop", "oops": 1}, timeout=5)
    assert bad.status_code == 400
    assert "oops" in bad.json()["detail"]
    assert requests.post(f"{root}/_sandbox/reset", timeout=5).json()["requests"] == 0


def test_twenty_concurrent_requests(server):
    server.state.add_fault(kind="latency", delay=0.2, times=5)

    def fetch(page: int) -> int:
        response = requests.get(
            f"{server.base_url}/conversations/list",
            params={"page": page % 3 + 1, "size": 20, "withCrmRecords": "true"},
            headers=AUTH,
            timeout=5,
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert list(pool.map(fetch, range(20))) == [200] * 20
    assert server.state.request_count("/list") == 20
