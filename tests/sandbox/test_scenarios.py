"""The sandbox's scenario switches over real HTTP: re-extraction, confirmations made in
Attention itself, the ways a confirm can be answered and stored, the CRM export's
progress, typed values, and the shapes of error bodies."""

import json
import time
from http import HTTPStatus

import pytest
import requests

from attention_review.sandbox.__main__ import DEMO_EXPORT_DELAY, build_parser
from attention_review.sandbox.app import (
    DEEP_JSON_LEVELS,
    DEFAULT_EXPORT_ERROR,
    EDITED_BY_ATTENTION,
    Fault,
    SandboxState,
)
from attention_review.sandbox.demo_data import LABELLED_EVERY, LABELLED_STAGE_OPTIONS
from tests.fixtures import attention_example


@pytest.fixture
def conversation(server):
    """A conversation with extracted intelligence and nothing confirmed."""
    for outline in server.state.outlines:
        attributes = server.state.conversation(outline.id)["attributes"]
        extracted = attributes["extractedIntelligence"]
        if extracted and not attributes["confirmedExtractedIntelligence"]:
            return server.state.conversation(outline.id)
    raise AssertionError("no conversation awaiting review")


def fetch(http, server, conversation_id):
    response = http.get(f"{server.base_url}/conversations/{conversation_id}", timeout=5)
    assert response.status_code == 200, response.text
    return response.json()["attributes"]


def post_confirm(http, server, conversation, **values):
    """Confirm `values` (key -> value) of `conversation`'s extracted items."""
    extracted = conversation["attributes"]["extractedIntelligence"]
    body = {
        "intelligence": [
            {
                "id": extracted[key]["id"],
                "key": key,
                "value": value,
                "title": extracted[key]["title"],
            }
            for key, value in values.items()
        ]
    }
    url = f"{server.base_url}/conversations/{conversation['id']}/crm/confirm"
    return http.post(url, json=body, timeout=5)


def control(server, path, body=None, method="POST"):
    return requests.request(method, f"{server.root_url}/_sandbox/{path}", json=body, timeout=5)


# --- Re-extraction ----------------------------------------------------------------------


def test_reextract_changes_adds_and_withdraws_items_until_reset(http, server, conversation):
    extracted = conversation["attributes"]["extractedIntelligence"]
    withdrawn = next(key for key in extracted if key not in {"next_steps", "amount"})
    server.state.reextract(
        conversation["id"],
        change={"next_steps": "Send the MSA on Monday"},
        add=[{"key": "renewal_risk", "title": "Renewal Risk", "value": "Low"}],
        withdraw=[withdrawn],
    )
    served = fetch(http, server, conversation["id"])["extractedIntelligence"]
    assert served["next_steps"] == {**extracted["next_steps"], "value": "Send the MSA on Monday"}
    assert withdrawn not in served
    added = served["renewal_risk"]
    assert added["value"] == "Low"
    assert added["title"] == "Renewal Risk"
    assert added["id"].startswith("intel_")
    assert added["id"] not in {item["id"] for item in extracted.values()}
    assert {"category", "refreshing", "options", "source", "scope_insight"} <= added.keys()
    # The list with CRM records serves the same map.
    page = http.get(
        f"{server.base_url}/conversations/list",
        params={"withCrmRecords": "true", "size": 50},
        timeout=5,
    ).json()["data"]
    listed = next(c for c in page if c["id"] == conversation["id"])
    assert listed["attributes"]["extractedIntelligence"] == served
    server.state.reset()
    assert server.state.conversation(conversation["id"]) == conversation


def test_a_reextracted_item_can_be_confirmed_with_its_new_value(http, server, conversation):
    server.state.reextract(conversation["id"], change={"next_steps": "New plan"})
    current = {"id": conversation["id"], "attributes": fetch(http, server, conversation["id"])}
    assert post_confirm(http, server, current, next_steps="New plan").status_code == 200
    confirmed = fetch(http, server, conversation["id"])["confirmedExtractedIntelligence"]
    assert confirmed["next_steps"]["value"] == "New plan"


def test_reextract_through_the_control_api(http, server, conversation):
    response = control(
        server,
        f"conversations/{conversation['id']}/reextract",
        {"change": {"amount": 99000}, "add": [{"key": "pilot_size", "value": 12}]},
    )
    assert response.status_code == 200
    served = fetch(http, server, conversation["id"])["extractedIntelligence"]
    assert response.json()["attributes"]["extractedIntelligence"] == served
    assert served["amount"]["value"] == 99000
    assert served["pilot_size"]["value"] == 12
    assert served["pilot_size"]["title"] == "Pilot Size"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"change": {"no_such_key": 1}}, "no_such_key"),
        ({"withdraw": ["no_such_key"]}, "no_such_key"),
        ({"add": [{"key": "next_steps"}]}, "already extracted"),
        ({"add": [{"value": 1}]}, "'key'"),
        ({"add": ["next_steps"]}, "object"),
        ({"change": ["next_steps"]}, "'change'"),
        ({"withdraw": "next_steps"}, "'withdraw'"),
        ({"rename": {}}, "rename"),
    ],
)
def test_a_bad_reextraction_is_400_and_changes_nothing(server, conversation, body, message):
    # A valid change rides along: all or nothing.
    body = {**body, "change": body.get("change", {"next_steps": "Changed"})}
    response = control(server, f"conversations/{conversation['id']}/reextract", body)
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert server.state.conversation(conversation["id"]) == conversation


def test_scenarios_on_an_unknown_conversation_are_404(server):
    for name, body in [
        ("reextract", {"change": {}}),
        ("confirm-outside", {"values": {}}),
        ("typed-items", None),
    ]:
        response = control(server, f"conversations/no-such-id/{name}", body)
        assert response.status_code == 404, name
    with pytest.raises(KeyError):
        server.state.reextract("no-such-id", change={"a": 1})


# --- Confirmed outside the app ----------------------------------------------------------


def test_a_value_confirmed_in_attention_itself(http, server, conversation):
    extracted = conversation["attributes"]["extractedIntelligence"]
    server.state.confirm_outside(conversation["id"], {"next_steps": "Agreed on the phone"})
    attributes = fetch(http, server, conversation["id"])
    assert attributes["confirmedExtractedIntelligence"] == {
        "next_steps": {**extracted["next_steps"], "value": "Agreed on the phone"}
    }
    assert attributes["extractedIntelligence"] == extracted
    assert server.state.confirm_calls == {}
    assert server.state.applied_confirms == {}


def test_confirm_outside_through_the_control_api(http, server, conversation):
    url = f"conversations/{conversation['id']}/confirm-outside"
    response = control(server, url, {"values": {"amount": 50000}})
    assert response.status_code == 200
    confirmed = fetch(http, server, conversation["id"])["confirmedExtractedIntelligence"]
    assert confirmed["amount"]["value"] == 50000
    assert control(server, url, {"values": {"nope": 1}}).status_code == 400
    assert control(server, url, {"amount": 1}).status_code == 400


# --- How a confirm is answered ----------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "status"),
    [("no_content", 204), ("accepted_no_body", 202), ("created_no_body", 201)],
)
def test_confirm_answers_without_a_body_after_applying(http, server, conversation, answer, status):
    server.state.confirm_answer = answer
    response = post_confirm(http, server, conversation, next_steps="Applied")
    assert response.status_code == status
    assert response.content == b""
    assert "Content-Type" not in response.headers
    assert server.state.applied_confirms[conversation["id"]] == 1
    confirmed = fetch(http, server, conversation["id"])["confirmedExtractedIntelligence"]
    assert confirmed["next_steps"]["value"] == "Applied"


def test_empty_maps_answers_like_the_documented_example(http, server, conversation):
    server.state.confirm_answer = "empty_maps"
    response = post_confirm(http, server, conversation, next_steps="Applied")
    assert response.status_code == 200
    attributes = response.json()["attributes"]
    example = attention_example("confirm-response.json")["attributes"]
    assert attributes["extractedIntelligence"] == example["extractedIntelligence"] == {}
    assert attributes["confirmedExtractedIntelligence"] == {}
    assert attributes["crmExportStatus"] == "exported"
    stored = fetch(http, server, conversation["id"])
    assert stored["confirmedExtractedIntelligence"]["next_steps"]["value"] == "Applied"
    assert stored["extractedIntelligence"] == conversation["attributes"]["extractedIntelligence"]


def test_a_refused_confirm_is_answered_400_whatever_the_answer_mode(http, server, conversation):
    server.state.confirm_answer = "no_content"
    url = f"{server.base_url}/conversations/{conversation['id']}/crm/confirm"
    response = http.post(url, json={"intelligence": [{"id": "x"}]}, timeout=5)
    assert response.status_code == 400
    assert response.json()["detail"] == "intelligence[0] is missing 'key'"


@pytest.mark.parametrize(
    ("stores", "sent", "stored"),
    [
        ("as_sent", {"amount": 50000, "next_steps": " Call "}, {"amount": 50000}),
        ("numbers_as_strings", {"amount": 50000}, {"amount": "50000"}),
        ("numbers_as_strings", {"amount": 12.5, "next_steps": "x"}, {"amount": "12.5"}),
        ("trimmed", {"next_steps": "  Call Priya \n"}, {"next_steps": "Call Priya"}),
        (
            "other_value",
            {"next_steps": "Call Priya", "amount": 7},
            {"next_steps": "Call Priya" + EDITED_BY_ATTENTION, "amount": 7},
        ),
        ("other_value", {"amount": 7}, {"amount": "7" + EDITED_BY_ATTENTION}),
    ],
)
def test_what_a_confirm_stores(http, server, conversation, stores, sent, stored):
    server.state.confirm_stores = stores
    response = post_confirm(http, server, conversation, **sent)
    assert response.status_code == 200
    answered = response.json()["attributes"]["confirmedExtractedIntelligence"]
    fetched = fetch(http, server, conversation["id"])["confirmedExtractedIntelligence"]
    for key, value in stored.items():
        assert answered[key]["value"] == fetched[key]["value"] == value
    if "next_steps" in sent and "next_steps" not in stored:
        assert fetched["next_steps"]["value"] == sent["next_steps"]


def test_settings_through_the_control_api_and_reset(server):
    assert control(server, "settings", method="GET").json() == {
        "confirm_answer": "resource",
        "confirm_stores": "as_sent",
        "export_delay": 0.0,
        "export_outcome": "exported",
        "export_error": DEFAULT_EXPORT_ERROR,
        "page_size_cap": None,
        "ignore_page": False,
        "total_records_offset": 0,
        "total_records_missing": False,
        "empty_page_at": None,
        "omit_maps_in_list": False,
        "filter_owner_email_ignored": False,
        "users_endpoint_missing": False,
        "latency_seconds": 0.0,
    }
    changed = control(server, "settings", {"confirm_answer": "no_content", "export_delay": 2})
    assert changed.status_code == 200
    assert changed.json()["confirm_answer"] == "no_content"
    assert server.state.export_delay == 2.0
    for bad in [
        {"confirm_answer": "maybe"},
        {"confirm_stores": "rounded"},
        {"export_delay": -1},
        {"export_delay": "soon"},
        {"export_outcome": "lost"},
        {"export_error": 3},
        {"colour": "red"},
    ]:
        response = control(server, "settings", {"confirm_stores": "trimmed", **bad})
        assert response.status_code == 400, bad
    assert server.state.confirm_stores == "as_sent", "a refused change sets nothing"
    control(server, "reset")
    assert server.state.confirm_answer == "resource"
    assert server.state.export_delay == 0.0


def test_bad_settings_are_refused_in_process():
    state = SandboxState()
    with pytest.raises(ValueError, match="confirm_answer"):
        state.confirm_answer = "sometimes"
    with pytest.raises(ValueError, match="export_delay"):
        state.export_delay = float("nan")
    with pytest.raises(ValueError, match="export_delay"):
        SandboxState(export_delay=-0.5)


# --- The CRM export ---------------------------------------------------------------------


def test_by_default_the_export_is_final_at_once(http, server, conversation):
    response = post_confirm(http, server, conversation, next_steps="Now")
    assert response.json()["attributes"]["crmExportStatus"] == "exported"
    assert response.json()["attributes"]["crmExportError"] == ""
    assert fetch(http, server, conversation["id"])["crmExportStatus"] == "exported"


def test_the_export_is_pending_until_the_delay_has_passed(http, server, conversation):
    server.state.export_delay = 0.4
    response = post_confirm(http, server, conversation, next_steps="Soon")
    assert response.json()["attributes"]["crmExportStatus"] == "pending"
    assert fetch(http, server, conversation["id"])["crmExportStatus"] == "pending"
    time.sleep(0.45)
    attributes = fetch(http, server, conversation["id"])
    assert attributes["crmExportStatus"] == "exported"
    assert attributes["crmExportError"] == ""


def test_a_failed_export_says_why(http, server, conversation):
    server.state.configure(export_delay=0.2, export_outcome="failed")
    post_confirm(http, server, conversation, next_steps="Soon")
    pending = fetch(http, server, conversation["id"])
    assert (pending["crmExportStatus"], pending["crmExportError"]) == ("pending", "")
    time.sleep(0.25)
    failed = fetch(http, server, conversation["id"])
    assert failed["crmExportStatus"] == "failed"
    assert failed["crmExportError"] == DEFAULT_EXPORT_ERROR
    # A later confirm starts a new export, with the settings of its own moment.
    server.state.configure(export_delay=0, export_outcome="exported")
    post_confirm(http, server, conversation, next_steps="Again")
    again = fetch(http, server, conversation["id"])
    assert (again["crmExportStatus"], again["crmExportError"]) == ("exported", "")


def test_a_custom_export_error(http, server, conversation):
    server.state.configure(export_outcome="failed", export_error="HubSpot is read-only today")
    response = post_confirm(http, server, conversation, next_steps="x")
    assert response.json()["attributes"]["crmExportError"] == "HubSpot is read-only today"


def test_the_export_delay_is_kept_across_reset_and_the_demo_waits_five_seconds():
    state = SandboxState(export_delay=3)
    state.export_delay = 0
    state.reset()
    assert state.export_delay == 3.0
    assert build_parser().parse_args([]).export_delay == DEMO_EXPORT_DELAY == 5.0
    assert build_parser().parse_args(["--export-delay", "0"]).export_delay == 0.0


# --- Typed values -----------------------------------------------------------------------


def test_typed_items_come_over_the_wire_exactly(http, server, conversation):
    before = conversation["attributes"]["extractedIntelligence"]
    response = control(server, f"conversations/{conversation['id']}/typed-items")
    assert response.status_code == 200
    raw = http.get(f"{server.base_url}/conversations/{conversation['id']}", timeout=5).content
    assert b'"value":9007199254740993' in raw
    items = json.loads(raw)["attributes"]["extractedIntelligence"]
    values = {key: items[key]["value"] for key in items}
    assert values["competitors_list"] == ["Gong", "Chorus"]
    assert all(set(person) == {"name", "role"} for person in values["stakeholders"])
    assert values["deal_id_number"] == 2**53 + 1
    assert values["discount_rate"] == 12.5
    assert values["amount"] == 168000
    assert values["close_date"] == "2026-12-15"
    assert values["stage"] == "negotiation"
    assert {"label": "Negotiation/Review", "value": "negotiation"} in items["stage"]["options"]
    assert values["products"] == ["Recorder", "CRM Sync"]
    assert items["products"]["options"] == ["Recorder", "CRM Sync", "Coaching", "Analytics"]
    assert items["stakeholders"]["title"] == "Stakeholders"
    # Items that were there keep their ids and their place.
    for key in ("stage", "amount"):
        assert items[key]["id"] == before[key]["id"]
    assert list(items)[: len(before)] == [key for key in before if key in items]
    assert len({item["id"] for item in items.values()}) == len(items)


def test_typed_values_are_confirmed_as_sent(http, server, conversation):
    server.state.add_typed_items(conversation["id"])
    current = {"id": conversation["id"], "attributes": fetch(http, server, conversation["id"])}
    values = {
        "deal_id_number": 2**53 + 1,
        "stakeholders": [{"name": "Ana", "role": "CTO"}],
        "products": ["Coaching"],
        "discount_rate": 7.5,
    }
    assert post_confirm(http, server, current, **values).status_code == 200
    confirmed = fetch(http, server, conversation["id"])["confirmedExtractedIntelligence"]
    assert {key: confirmed[key]["value"] for key in values} == values


def test_one_analysed_demo_call_in_five_has_a_labelled_stage_picklist():
    state = SandboxState(conversation_count=200)
    analysed, labelled = 0, []
    for outline in state.outlines:
        attributes = state.conversation(outline.id)["attributes"]
        extracted = attributes["extractedIntelligence"]
        if not extracted:
            continue
        analysed += 1
        assert 6 <= len(extracted) <= 12
        assert isinstance(extracted["amount"]["value"], int)
        labelled_stage = isinstance(extracted["stage"]["options"][0], dict)
        assert labelled_stage == (outline.index % LABELLED_EVERY == LABELLED_EVERY - 1)
        if labelled_stage:
            labelled.append(attributes)
    assert analysed // (LABELLED_EVERY + 1) < len(labelled) < analysed // (LABELLED_EVERY - 1)
    for attributes in labelled:
        stage = attributes["extractedIntelligence"]["stage"]
        assert stage["options"] == list(LABELLED_STAGE_OPTIONS)
        option_values = {option["value"] for option in stage["options"]}
        assert stage["value"] in option_values
        assert attributes["extractedIntelligence"]["close_date"]["value"] >= "2026-"
        confirmed = attributes["confirmedExtractedIntelligence"].get("stage")
        if confirmed is not None:  # confirmed earlier, perhaps with another option
            assert confirmed["value"] in option_values


# --- Error bodies and deep JSON ---------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "read"),
    [
        ("detail", "application/json", lambda r: r.json()["detail"]),
        ("message", "application/json", lambda r: r.json()["message"]),
        ("jsonapi", "application/json", lambda r: r.json()["errors"][0]["detail"]),
        ("text", "text/plain; charset=utf-8", lambda r: r.text),
        ("html", "text/html; charset=utf-8", lambda r: r.text),
    ],
)
def test_status_faults_write_each_error_body_shape(http, server, body, content_type, read):
    server.state.add_fault(kind="status", status=422, body=body, detail="Close Date is required")
    response = http.get(f"{server.base_url}/conversations/list", timeout=5)
    assert response.status_code == 422
    assert response.headers["Content-Type"] == content_type
    assert "Close Date is required" in read(response)
    if body == "jsonapi":
        assert response.json()["errors"] == [
            {
                "status": "422",
                "title": HTTPStatus(422).phrase,
                "detail": "Close Date is required",
            }
        ]


def test_an_empty_error_body_and_the_default_text(http, server):
    server.state.add_fault(kind="status", status=400, body="empty")
    server.state.add_fault(kind="status", status=400, body="message")
    empty = http.get(f"{server.base_url}/conversations/list", timeout=5)
    assert (empty.status_code, empty.content) == (400, b"")
    assert "Content-Type" not in empty.headers
    default = http.get(f"{server.base_url}/conversations/list", timeout=5)
    assert default.json() == {"message": "Sandbox fault: Bad Request"}


def test_bad_error_body_specs_are_refused(server):
    with pytest.raises(ValueError, match="error body"):
        Fault("status", body="xml")
    with pytest.raises(ValueError, match="detail"):
        Fault("status", detail=5)
    response = control(server, "faults", {"kind": "status", "body": "yaml"})
    assert response.status_code == 400


def test_deep_json_is_valid_json_nested_beyond_any_parser(http, server):
    server.state.add_fault(kind="deep_json", path_contains="/list")
    response = http.get(f"{server.base_url}/conversations/list", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.content == b"[" * DEEP_JSON_LEVELS + b"]" * DEEP_JSON_LEVELS


def test_deep_json_with_apply_first_confirms_then_answers_deep(http, server, conversation):
    server.state.add_fault(kind="deep_json", path_contains="/crm/confirm", apply_first=True)
    response = post_confirm(http, server, conversation, next_steps="Deep")
    assert response.content.startswith(b"[[[[")
    assert server.state.applied_confirms[conversation["id"]] == 1


def test_a_request_body_nested_too_deep_is_400(http, server, conversation):
    url = f"{server.base_url}/conversations/{conversation['id']}/crm/confirm"
    response = http.post(url, data=b"[" * 200_000 + b"]" * 200_000, timeout=5)
    assert response.status_code == 400
