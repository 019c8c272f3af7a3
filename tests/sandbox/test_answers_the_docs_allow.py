"""The sandbox's switches for answers Attention's documentation allows but rarely gives:
capped, ignored and empty pages, a wrong or missing `totalRecords`, list records without
intelligence maps, odd and broken records, deleted conversations, errors that echo the
key, the reported users endpoint, an ignored owner filter and a slow API. Over real HTTP."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from attention_review.demo import DEMO_ATTENTION_USERS, DEMO_TEAMS
from attention_review.sandbox.app import (
    CORRUPTIONS,
    FLOAT_DURATION,
    SOURCE_OBJECT,
    Fault,
    SandboxState,
)
from tests.sandbox.conftest import AUTH, KEY

REP = DEMO_ATTENTION_USERS[0]


def control(server, path, body=None, method="POST"):
    return requests.request(method, f"{server.root_url}/_sandbox/{path}", json=body, timeout=5)


def settings(server, **switches):
    response = control(server, "settings", switches)
    assert response.status_code == 200, response.text
    return response.json()


def listed(http, server, **params):
    response = http.get(f"{server.base_url}/conversations/list", params=params, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def ids(body):
    return [conversation["id"] for conversation in body["data"]]


def get_one(http, server, conversation_id):
    return http.get(f"{server.base_url}/conversations/{conversation_id}", timeout=5)


def first_where(server, test):
    """The first conversation (in list order) whose attributes pass `test`."""
    for outline in server.state.outlines:
        resource = server.state.conversation(outline.id)
        if test(resource["attributes"]):
            return resource
    raise AssertionError("no such conversation in the demo data")


@pytest.fixture
def analysed(server):
    """A conversation with extracted intelligence and at least one scorecard item."""
    return first_where(
        server,
        lambda a: (
            len(a["extractedIntelligence"]) >= 2
            and any(card["items"] for card in a["scorecardResults"])
        ),
    )


# --- Paging ------------------------------------------------------------------------------


def test_page_size_cap_serves_at_most_that_many_rows(http, server):
    everything = ids(listed(http, server, size=50)) + ids(listed(http, server, size=50, page=2))
    assert settings(server, page_size_cap=20)["page_size_cap"] == 20
    first = listed(http, server, size=50)
    assert len(first["data"]) == 20
    assert first["meta"] == {"totalRecords": 60}
    assert first["links"]["self"] == "/v2/conversations/list?page=1&size=20"
    assert len(listed(http, server, size=7)["data"]) == 7, "a smaller size is served as asked"
    # Paging by the served size still covers everything once, in order.
    pages = [ids(listed(http, server, size=50, page=page)) for page in (1, 2, 3, 4)]
    assert pages[0] + pages[1] + pages[2] == everything
    assert pages[3] == []


def test_ignore_page_always_serves_the_first_page(http, server):
    first = ids(listed(http, server, size=10))
    server.state.ignore_page = True
    second = listed(http, server, size=10, page=2)
    assert ids(second) == first
    assert second["links"]["self"] == "/v2/conversations/list?page=1&size=10"
    assert ids(listed(http, server, size=10, page=99)) == first


@pytest.mark.parametrize("offset", [-20, 5, -100])
def test_total_records_can_be_off(http, server, offset):
    settings(server, total_records_offset=offset)
    body = listed(http, server)
    assert body["meta"] == {"totalRecords": 60 + offset}
    assert len(body["data"]) == 50, "the rows are the true ones"


def test_total_records_can_be_missing_from_meta_or_meta_missing(http, server):
    settings(server, total_records_missing="field")
    body = listed(http, server)
    assert body["meta"] == {}
    assert len(body["data"]) == 50
    settings(server, total_records_missing="meta")
    body = listed(http, server)
    assert "meta" not in body
    assert set(body) == {"data", "links"}
    settings(server, total_records_missing=False)
    assert listed(http, server)["meta"] == {"totalRecords": 60}


def test_one_page_comes_back_empty_although_later_pages_have_rows(http, server):
    before = [ids(listed(http, server, size=20, page=page)) for page in (1, 2, 3)]
    settings(server, empty_page_at=2)
    after = [listed(http, server, size=20, page=page) for page in (1, 2, 3)]
    assert [ids(body) for body in after] == [before[0], [], before[2]]
    assert all(body["meta"] == {"totalRecords": 60} for body in after)


# --- List records without intelligence maps ----------------------------------------------


def test_omit_maps_in_list_drops_both_maps_even_with_crm_records(http, server, analysed):
    server.state.omit_maps_in_list = True
    for params in ({"withCrmRecords": "true"}, {}):
        for conversation in listed(http, server, **params)["data"]:
            attributes = conversation["attributes"]
            assert "extractedIntelligence" not in attributes
            assert "confirmedExtractedIntelligence" not in attributes
            assert "linkedCrmRecords" in attributes
    rich = listed(http, server, withCrmRecords="true")["data"]
    assert any(c["attributes"]["linkedCrmRecords"] for c in rich)
    one = get_one(http, server, analysed["id"]).json()["attributes"]
    assert one["extractedIntelligence"] == analysed["attributes"]["extractedIntelligence"]
    assert "confirmedExtractedIntelligence" in one


# --- Odd records ------------------------------------------------------------------------


def _check_corruption(kind, original, served):
    """`served` is `original` bent by `kind`, and in no other way."""
    attributes, before = served["attributes"], original["attributes"]
    extracted = before["extractedIntelligence"]
    first_key, last_key = next(iter(extracted)), list(extracted)[-1]
    expected = json.loads(json.dumps(original))
    bent = expected["attributes"]
    if kind == "null_title":
        bent["title"] = None
    elif kind == "null_category":
        bent["extractedIntelligence"][first_key]["category"] = None
    elif kind == "null_email":
        bent["participants"][0]["email"] = None
    elif kind == "null_user":
        bent["userUUID"] = None
    elif kind == "null_team":
        bent["teamUUID"] = None
    elif kind == "source_object":
        bent["extractedIntelligence"][first_key]["source"] = SOURCE_OBJECT
        assert isinstance(attributes["extractedIntelligence"][first_key]["source"], dict)
    elif kind == "refreshing_null":
        bent["extractedIntelligence"][first_key]["refreshing"] = None
    elif kind == "item_without_id":
        del bent["extractedIntelligence"][first_key]["id"]
    elif kind == "item_without_key":
        del bent["extractedIntelligence"][first_key]["key"]
    elif kind == "map_value_string":
        value = extracted[last_key]["value"]
        text = value if isinstance(value, str) else json.dumps(value)
        bent["extractedIntelligence"][last_key] = text
        assert isinstance(attributes["extractedIntelligence"][last_key], str)
    elif kind == "float_duration":
        bent["mediaDuration"] = FLOAT_DURATION
    elif kind == "evidences_null":
        card = next(card for card in bent["scorecardResults"] if card["items"])
        card["items"][0]["evidences"] = None
    elif kind == "missing_created_at":
        del bent["createdAt"]
    elif kind == "id_not_string":
        assert isinstance(served["id"], int)
        assert not isinstance(served["id"], bool)
        expected["id"] = served["id"]
    assert served == expected


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_a_corrupted_conversation_is_served_bent_by_get_and_list(http, server, analysed, kind):
    response = control(server, f"conversations/{analysed['id']}/corrupt", {"kind": kind})
    assert response.status_code == 200, response.text
    _check_corruption(kind, analysed, response.json())
    fetched = get_one(http, server, analysed["id"])
    assert fetched.status_code == 200
    _check_corruption(kind, analysed, fetched.json())
    rows = listed(http, server, withCrmRecords="true")["data"]
    in_list = next(row for row in rows if row["attributes"]["uuid"] == analysed["id"])
    _check_corruption(kind, analysed, in_list)
    # Every other conversation is served as before.
    others = [row for row in rows if row is not in_list]
    assert all(server.state.conversation(row["id"]) == row for row in others)
    server.state.reset()
    assert get_one(http, server, analysed["id"]).json() == analysed


def test_corruptions_add_up_and_survive_a_confirm(http, server, analysed):
    state = server.state
    state.corrupt(analysed["id"], "null_title")
    state.corrupt(analysed["id"], "float_duration")
    state.corrupt(analysed["id"], "null_title")  # once is enough
    item = analysed["attributes"]["extractedIntelligence"]["next_steps"]
    body = {"intelligence": [{k: item[k] for k in ("id", "key", "title")} | {"value": "Done"}]}
    url = f"{server.base_url}/conversations/{analysed['id']}/crm/confirm"
    answer = http.post(url, json=body, timeout=5).json()["attributes"]
    fetched = get_one(http, server, analysed["id"]).json()["attributes"]
    for attributes in (answer, fetched):
        assert attributes["title"] is None
        assert attributes["mediaDuration"] == FLOAT_DURATION
        assert attributes["confirmedExtractedIntelligence"]["next_steps"]["value"] == "Done"


def test_evidences_null_gives_a_call_without_scorecards_one(http, server):
    internal = first_where(
        server,
        lambda a: a["isInternal"] and a["extractedIntelligence"] and not a["scorecardResults"],
    )
    server.state.corrupt(internal["id"], "evidences_null")
    cards = get_one(http, server, internal["id"]).json()["attributes"]["scorecardResults"]
    assert len(cards) == 1
    assert len(cards[0]["items"]) == 1
    assert cards[0]["items"][0]["evidences"] is None
    assert {"uuid", "title", "description", "numericResult"} <= cards[0]["items"][0].keys()


def test_bad_corruptions_are_refused(server):
    unanalysed = first_where(server, lambda a: not a["extractedIntelligence"])
    state = server.state
    with pytest.raises(ValueError, match="Unknown corruption"):
        state.corrupt(unanalysed["id"], "null_everything")
    with pytest.raises(KeyError):
        state.corrupt("no-such-id", "null_title")
    with pytest.raises(ValueError, match="no extracted intelligence"):
        state.corrupt(unanalysed["id"], "item_without_id")
    url = f"conversations/{unanalysed['id']}/corrupt"
    assert control(server, url, {"kind": "nope"}).status_code == 400
    assert control(server, url, {"kind": "null_title", "extra": 1}).status_code == 400
    assert control(server, url, {}).status_code == 400
    unknown = control(server, "conversations/no-such-id/corrupt", {"kind": "null_title"})
    assert unknown.status_code == 404
    assert state.conversation(unanalysed["id"]) == unanalysed


# --- Deleted conversations --------------------------------------------------------------


def test_a_deleted_conversation_is_gone_from_list_get_and_confirm(http, server, analysed):
    response = control(server, f"conversations/{analysed['id']}/delete")
    assert response.json() == {"deleted": analysed["id"]}
    first = listed(http, server)
    served = ids(first) + ids(listed(http, server, page=2))
    assert analysed["id"] not in served
    assert len(served) == 59
    assert first["meta"] == {"totalRecords": 59}
    missing = get_one(http, server, analysed["id"])
    assert (missing.status_code, missing.json()) == (404, {"detail": "Conversation not found"})
    item = analysed["attributes"]["extractedIntelligence"]["next_steps"]
    body = {"intelligence": [{k: item[k] for k in ("id", "key", "value", "title")}]}
    url = f"{server.base_url}/conversations/{analysed['id']}/crm/confirm"
    assert http.post(url, json=body, timeout=5).status_code == 404
    assert server.state.applied_confirms == {}
    assert control(server, f"conversations/{analysed['id']}/delete").status_code == 404
    with pytest.raises(KeyError):
        server.state.reextract(analysed["id"], change={"next_steps": "x"})
    server.state.reset()
    assert get_one(http, server, analysed["id"]).json() == analysed
    assert listed(http, server)["meta"] == {"totalRecords": 60}


# --- Errors that echo the key -----------------------------------------------------------


@pytest.mark.parametrize("header", [f"Bearer {KEY}", KEY])
def test_a_status_fault_can_echo_the_key(server, header):
    server.state.add_fault(kind="status", status=401, echo_key=True)
    response = requests.get(
        f"{server.base_url}/conversations/list", headers={"Authorization": header}, timeout=5
    )
    assert response.status_code == 401
    assert response.json() == {"detail": f"Invalid token {header} for key {KEY}"}


def test_echo_key_in_every_body_shape_and_through_the_control_api(http, server):
    response = control(
        server,
        "faults",
        [
            {"kind": "status", "status": 403, "echo_key": True, "body": "jsonapi"},
            {"kind": "status", "status": 500, "echo_key": True, "body": "text", "detail": "Oops"},
        ],
    )
    assert response.status_code == 201
    jsonapi = http.get(f"{server.base_url}/conversations/list", timeout=5)
    assert jsonapi.json()["errors"][0]["detail"] == f"Invalid token Bearer {KEY} for key {KEY}"
    text = http.get(f"{server.base_url}/conversations/list", timeout=5)
    assert text.text == f"Oops Invalid token Bearer {KEY} for key {KEY}"
    assert KEY not in repr(server.state)


def test_bad_echo_key_specs_are_refused(server):
    with pytest.raises(ValueError, match="echo_key"):
        Fault("drop", echo_key=True)
    with pytest.raises(ValueError, match="echo_key"):
        Fault("status", echo_key="yes")
    assert control(server, "faults", {"kind": "latency", "echo_key": True}).status_code == 400
    assert Fault("status").echo_key is False


# --- GET /v2/organizations/users (reported) ---------------------------------------------


def users(http, server, **params):
    response = http.get(f"{server.base_url}/organizations/users", params=params, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_users_endpoint_lists_the_demo_users(http, server):
    body = users(http, server)
    assert body["meta"] == {"totalRecords": len(DEMO_ATTENTION_USERS)}
    assert body["data"][0] == {
        "uuid": REP.uuid,
        "email": REP.email,
        "firstName": "Riley",
        "lastName": "Park",
        "teamUUID": REP.team_uuid,
    }
    assert [user["uuid"] for user in body["data"]] == [u.uuid for u in DEMO_ATTENTION_USERS]
    assert all(
        f"{user['firstName']} {user['lastName']}" == demo.name
        for user, demo in zip(body["data"], DEMO_ATTENTION_USERS, strict=True)
    )
    team = users(http, server, teamUUID=DEMO_TEAMS[1].uuid)
    assert {user["teamUUID"] for user in team["data"]} == {DEMO_TEAMS[1].uuid}
    assert team["meta"] == {"totalRecords": 2}
    assert users(http, server, teamUUID="no-such-team") == {"data": [], "meta": {"totalRecords": 0}}
    paged = users(http, server, size=3, page=2)
    assert [user["uuid"] for user in paged["data"]] == [DEMO_ATTENTION_USERS[3].uuid]
    assert paged["meta"] == {"totalRecords": 4}


def test_the_users_endpoint_checks_key_parameters_and_method(http, server):
    url = f"{server.base_url}/organizations/users"
    assert requests.get(url, timeout=5).status_code == 401
    assert http.get(url, params={"size": 51}, timeout=5).status_code == 400
    assert http.get(url, params={"page": 0}, timeout=5).status_code == 400
    assert http.post(url, json={}, timeout=5).status_code == 405
    assert http.get(url + "/", timeout=5).status_code == 200


def test_extra_users_share_an_email(http, server):
    twin = server.state.add_user("twin-uuid", REP.email, "Riley", "Park (2)", DEMO_TEAMS[1].uuid)
    assert twin["email"] == REP.email
    response = control(
        server,
        "users",
        {
            "uuid": "teamless",
            "email": "x@example.com",
            "first_name": "X",
            "last_name": "",
            "team_uuid": None,
        },
    )
    assert response.status_code == 201
    assert response.json()["teamUUID"] is None
    body = users(http, server)
    assert body["meta"] == {"totalRecords": 6}
    assert [user["email"] for user in body["data"]].count(REP.email) == 2
    assert body["data"][-2:] == server.state.users_extra
    assert control(server, "users", method="GET").json() == {"users": server.state.users_extra}
    team = users(http, server, teamUUID=DEMO_TEAMS[1].uuid)
    assert "twin-uuid" in [user["uuid"] for user in team["data"]]
    server.state.reset()
    assert server.state.users_extra == []
    assert users(http, server)["meta"] == {"totalRecords": 4}


GOOD_USER = {"uuid": "u", "email": "a@b.c", "first_name": "A", "last_name": "B", "team_uuid": None}


@pytest.mark.parametrize(
    "change",
    [
        {"uuid": REP.uuid},
        {"uuid": ""},
        {"email": 5},
        {"first_name": None},
        {"team_uuid": 1},
        {"x": 1},
    ],
)
def test_bad_extra_users_are_refused(server, change):
    assert control(server, "users", GOOD_USER | change).status_code == 400
    without_team = {k: v for k, v in GOOD_USER.items() if k != "team_uuid"}
    assert control(server, "users", without_team).status_code == 400
    assert control(server, "users", ["not", "an", "object"]).status_code == 400
    assert server.state.users_extra == []


def test_the_users_endpoint_can_be_missing(http, server):
    server.state.users_endpoint_missing = True
    response = http.get(f"{server.base_url}/organizations/users", timeout=5)
    assert (response.status_code, response.json()) == (404, {"detail": "Not found"})
    settings(server, users_endpoint_missing=False)
    assert users(http, server)["data"]


# --- The owner filter, ignored ----------------------------------------------------------


def test_filter_owner_email_ignored_returns_every_owner(http, server):
    params = {"filter[owner.email]": REP.email}
    own = listed(http, server, **params)
    assert {c["attributes"]["userUUID"] for c in own["data"]} == {REP.uuid}
    settings(server, filter_owner_email_ignored=True)
    everyone = listed(http, server, **params)
    assert everyone["meta"] == {"totalRecords": 60}
    assert len({c["attributes"]["userUUID"] for c in everyone["data"]}) > 1
    by_id = listed(http, server, **{"filter[owner.id]": REP.uuid})
    assert by_id["meta"] == own["meta"], "the owner.id filter still applies"


# --- Latency ----------------------------------------------------------------------------


def test_latency_delays_every_api_call_and_calls_overlap(server):
    settings(server, latency_seconds=0.4)
    assert control(server, "stats", method="GET").elapsed.total_seconds() < 0.3

    def call(path: str) -> int:
        return requests.get(f"{server.base_url}{path}", headers=AUTH, timeout=5).status_code

    paths = ["/conversations/list", "/organizations/users", "/conversations/nope", "/x"] * 2
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        statuses = list(pool.map(call, paths))
    elapsed = time.monotonic() - started
    assert statuses == [200, 200, 404, 404] * 2
    assert 0.4 <= elapsed < 1.2, "eight slow calls overlap instead of queueing"
    started = time.monotonic()
    assert requests.get(f"{server.base_url}/conversations/list", timeout=5).status_code == 401
    assert time.monotonic() - started >= 0.4, "even a refused call waits"
    control(server, "reset")
    assert server.state.latency_seconds == 0.0


# --- The switches through the control API -----------------------------------------------


def test_every_new_switch_through_settings_and_back_on_reset(server):
    new = {
        "page_size_cap": 20,
        "ignore_page": True,
        "total_records_offset": -20,
        "total_records_missing": "field",
        "empty_page_at": 3,
        "omit_maps_in_list": True,
        "filter_owner_email_ignored": True,
        "users_endpoint_missing": True,
        "latency_seconds": 0.25,
    }
    defaults = {name: control(server, "settings", method="GET").json()[name] for name in new}
    assert settings(server, **new) | new == settings(server)
    assert {name: getattr(server.state, name) for name in new} == new
    control(server, "reset")
    assert {name: getattr(server.state, name) for name in new} == defaults


@pytest.mark.parametrize(
    "bad",
    [
        {"page_size_cap": 0},
        {"page_size_cap": "20"},
        {"page_size_cap": True},
        {"ignore_page": "yes"},
        {"ignore_page": 1},
        {"total_records_offset": 1.5},
        {"total_records_offset": False},
        {"total_records_missing": True},
        {"total_records_missing": "data"},
        {"total_records_missing": 0},
        {"empty_page_at": 0},
        {"empty_page_at": 2.0},
        {"omit_maps_in_list": None},
        {"filter_owner_email_ignored": "true"},
        {"users_endpoint_missing": 0},
        {"latency_seconds": -1},
        {"latency_seconds": "slow"},
    ],
)
def test_bad_switch_values_are_refused_and_set_nothing(server, bad):
    response = control(server, "settings", {"ignore_page": True, **bad})
    assert response.status_code == 400, bad
    assert next(iter(bad)) in response.json()["detail"]
    assert server.state.ignore_page is False


def test_bad_switch_values_are_refused_in_process():
    state = SandboxState()
    with pytest.raises(ValueError, match="latency_seconds"):
        state.latency_seconds = float("nan")
    with pytest.raises(ValueError, match="page_size_cap"):
        state.page_size_cap = -3
    state.page_size_cap = None
    state.empty_page_at = 1
    assert state.configure(total_records_missing="meta")["total_records_missing"] == "meta"
