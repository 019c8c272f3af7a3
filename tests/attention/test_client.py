"""AttentionClient against the sandbox over real HTTP, with the sandbox's faults on."""

import logging
import re
import time

import pytest

from attention_review.attention.client import (
    EXPLANATION_LIMIT,
    MAX_JSON_DEPTH,
    AttentionAuthError,
    AttentionClient,
    AttentionContractError,
    AttentionError,
    AttentionNotFound,
    AttentionOutcomeUnknown,
    AttentionRejected,
    AttentionUnavailable,
    RetryPolicy,
    parse_retry_after,
)
from attention_review.attention.schemas import ConfirmItem, ConfirmRequest
from tests.conftest import TEST_API_KEY


def first_awaiting(sandbox, api):
    """A conversation of the sandbox with unconfirmed intelligence."""
    for conversation in api.list_conversations():
        attributes = conversation.attributes
        if attributes.extracted_intelligence and not attributes.confirmed_extracted_intelligence:
            return conversation
    raise AssertionError("the sandbox has no conversation awaiting review")


def confirm_body(conversation) -> ConfirmRequest:
    item = next(iter(conversation.attributes.extracted_intelligence.values()))
    return ConfirmRequest(
        intelligence=[ConfirmItem(id=item.id, key=item.key, value="Edited value", title=item.title)]
    )


def test_lists_every_conversation_across_pages_without_duplicates(sandbox, api):
    total = 0
    ids = []
    for _, page in api.list_conversation_pages(hide_non_analyzed=False):
        assert len(page.data) <= 50
        total = page.meta.total_records
        ids.extend(conversation.id for conversation in page.data)
    assert total > 50, "the demo data spans more than one page"
    assert len(ids) == total == len(set(ids))


def test_filters_by_owner_email(sandbox, api):
    owners = {
        c.attributes.user_uuid
        for c in api.list_conversations(owner_email="rep@attention-demo.test")
    }
    assert len(owners) == 1


def test_gets_one_conversation(sandbox, api):
    listed = next(api.list_conversations())
    fetched = api.get_conversation(listed.id)
    assert fetched.id == listed.id
    assert fetched.attributes.title == listed.attributes.title


def test_unknown_conversation_is_not_found(sandbox, api):
    with pytest.raises(AttentionNotFound):
        api.get_conversation("no-such-conversation")


def test_a_wrong_key_is_an_auth_error_with_a_safe_message(sandbox):
    client = AttentionClient(base_url=sandbox.base_url, api_key="wrong-key")
    with pytest.raises(AttentionAuthError) as error:
        client.get_conversation("anything")
    assert "API key was not accepted" in error.value.user_message
    assert "wrong-key" not in str(error.value)


def test_raw_auth_scheme_is_accepted(sandbox):
    client = AttentionClient(base_url=sandbox.base_url, api_key=TEST_API_KEY, auth_scheme="raw")
    assert next(client.list_conversations()).id


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_reads_are_retried_after_transient_errors(sandbox, api, status):
    sandbox.state.add_fault(kind="status", status=status, times=2, path_contains="/list")
    page_number, page = next(api.list_conversation_pages())
    assert page_number == 1
    assert page.data


def test_reads_retry_after_a_dropped_connection(sandbox, api):
    sandbox.state.add_fault(kind="drop", times=1, path_contains="/conversations/")
    conversation = next(api.list_conversations())
    assert api.get_conversation(conversation.id).id == conversation.id


def test_reads_give_up_after_the_retry_budget(sandbox, api):
    sandbox.state.add_fault(kind="status", status=503, times=None, path_contains="/list")
    with pytest.raises(AttentionUnavailable) as error:
        next(api.list_conversation_pages())
    assert "not answering" in error.value.user_message
    assert sandbox.state.request_count("/list") == 1 + api.retry.max_retries


def test_retry_after_is_honoured_up_to_the_cap(sandbox):
    slept = []
    client = AttentionClient(
        base_url=sandbox.base_url,
        api_key=TEST_API_KEY,
        retry=RetryPolicy(max_retries=2, backoff_seconds=0.01, retry_after_cap=0.3),
        sleep=lambda seconds: (slept.append(seconds), time.sleep(seconds)),
    )
    sandbox.state.add_fault(
        kind="status", status=429, retry_after=0.2, times=1, path_contains="/list"
    )
    sandbox.state.add_fault(
        kind="status", status=429, retry_after=120, times=1, path_contains="/list"
    )
    assert next(client.list_conversation_pages())[1].data
    assert slept == [pytest.approx(0.2), pytest.approx(0.3)]


def test_backoff_grows_exponentially_without_retry_after(sandbox):
    slept = []
    client = AttentionClient(
        base_url=sandbox.base_url,
        api_key=TEST_API_KEY,
        retry=RetryPolicy(max_retries=3, backoff_seconds=0.01, retry_after_cap=5),
        sleep=slept.append,
    )
    sandbox.state.add_fault(kind="status", status=429, times=3, path_contains="/list")
    assert next(client.list_conversation_pages())[1].data
    assert slept == [pytest.approx(0.01), pytest.approx(0.02), pytest.approx(0.04)]


def test_parse_retry_after_reads_seconds_and_dates():
    assert parse_retry_after("3") == 3
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0


def test_a_slow_answer_times_out_and_is_retried(sandbox):
    client = AttentionClient(
        base_url=sandbox.base_url,
        api_key=TEST_API_KEY,
        read_timeout=0.2,
        retry=RetryPolicy(max_retries=1, backoff_seconds=0.01),
    )
    sandbox.state.add_fault(kind="latency", delay=0.6, times=1, path_contains="/list")
    assert next(client.list_conversation_pages())[1].data


def test_malformed_json_is_a_contract_error(sandbox, api):
    sandbox.state.add_fault(kind="malformed_json", times=1, path_contains="/list")
    with pytest.raises(AttentionContractError):
        next(api.list_conversation_pages())


def test_a_response_that_breaks_the_contract_names_the_field(sandbox, api):
    sandbox.state.add_fault(kind="contract", times=1, path_contains="/list")
    with pytest.raises(AttentionContractError) as error:
        next(api.list_conversation_pages())
    assert "contract at" in error.value.detail


def test_confirm_returns_the_updated_conversation(sandbox, api):
    conversation = first_awaiting(sandbox, api)
    result = api.confirm_intelligence(conversation.id, confirm_body(conversation))
    confirmed = result.attributes.confirmed_extracted_intelligence
    assert [item.value for item in confirmed.values()] == ["Edited value"]
    assert result.attributes.crm_export_status == "exported"
    assert sandbox.state.confirm_calls[conversation.id] == 1


def test_confirm_with_an_unknown_item_is_rejected_with_the_apis_message(sandbox, api):
    conversation = first_awaiting(sandbox, api)
    body = ConfirmRequest(intelligence=[ConfirmItem(id="nope", key="nope", value="x", title="x")])
    with pytest.raises(AttentionRejected) as error:
        api.confirm_intelligence(conversation.id, body)
    assert error.value.status == 400
    assert error.value.detail in error.value.user_message


def test_confirm_is_retried_after_429_because_the_api_did_not_act(sandbox, api):
    conversation = first_awaiting(sandbox, api)
    sandbox.state.add_fault(kind="status", status=429, times=2, path_contains="/crm/confirm")
    api.confirm_intelligence(conversation.id, confirm_body(conversation))
    assert sandbox.state.confirm_calls[conversation.id] == 3
    assert sandbox.state.applied_confirms[conversation.id] == 1


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "status", "status": 500},
        {"kind": "status", "status": 502},
        {"kind": "status", "status": 503},
        {"kind": "drop"},
        {"kind": "malformed_json"},
    ],
)
def test_confirm_is_not_retried_when_the_api_may_have_acted(sandbox, api, fault):
    conversation = first_awaiting(sandbox, api)
    sandbox.state.add_fault(**fault, times=1, path_contains="/crm/confirm")
    with pytest.raises(AttentionOutcomeUnknown):
        api.confirm_intelligence(conversation.id, confirm_body(conversation))
    assert sandbox.state.confirm_calls[conversation.id] == 1


def test_confirm_is_retried_when_the_connection_was_never_made():
    client = AttentionClient(
        base_url="http://127.0.0.1:9/v2",
        api_key=TEST_API_KEY,
        connect_timeout=0.5,
        retry=RetryPolicy(max_retries=2, backoff_seconds=0.01),
    )
    with pytest.raises(AttentionUnavailable) as error:
        client.confirm_intelligence("c1", ConfirmRequest(intelligence=[]))
    assert not isinstance(error.value, AttentionOutcomeUnknown)


def test_the_key_never_appears_in_reprs_errors_or_logs(sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    client = AttentionClient(
        base_url=sandbox.base_url,
        api_key=TEST_API_KEY,
        retry=RetryPolicy(max_retries=1, backoff_seconds=0.01),
    )
    sandbox.state.add_fault(kind="status", status=500, times=None, path_contains="/list")
    with pytest.raises(AttentionUnavailable) as error:
        next(client.list_conversation_pages())
    sandbox.state.clear_faults()
    with pytest.raises(AttentionNotFound) as not_found:
        client.get_conversation("missing")
    outputs = [repr(client), str(error.value), repr(error.value), str(not_found.value), caplog.text]
    assert caplog.text, "the failures were logged"
    for output in outputs:
        assert TEST_API_KEY not in output


# --- Confirm answers that do not say what Attention holds -------------------------------


@pytest.mark.parametrize("answer", ["no_content", "accepted_no_body", "created_no_body"])
def test_a_confirm_answered_without_the_conversation_is_outcome_unknown(sandbox, api, answer):
    conversation = first_awaiting(sandbox, api)
    sandbox.state.confirm_answer = answer
    with pytest.raises(AttentionOutcomeUnknown) as error:
        api.confirm_intelligence(conversation.id, confirm_body(conversation))
    assert error.value.status in {201, 202, 204}
    assert "without the conversation" in error.value.detail
    assert error.value.user_message == AttentionOutcomeUnknown.user_message
    assert sandbox.state.confirm_calls[conversation.id] == 1, "never retried"
    assert sandbox.state.applied_confirms[conversation.id] == 1
    # What settles it: the conversation read back.
    read_back = api.get_conversation(conversation.id)
    confirmed = read_back.attributes.confirmed_extracted_intelligence
    assert [item.value for item in confirmed.values()] == ["Edited value"]


def test_the_documented_answer_with_empty_maps_is_returned_as_it_is(sandbox, api):
    conversation = first_awaiting(sandbox, api)
    sandbox.state.confirm_answer = "empty_maps"
    result = api.confirm_intelligence(conversation.id, confirm_body(conversation))
    assert result.id == conversation.id
    assert result.attributes.extracted_intelligence == {}
    assert result.attributes.confirmed_extracted_intelligence == {}


@pytest.mark.parametrize("apply_first", [False, True])
def test_a_409_is_outcome_unknown_and_never_retried(sandbox, api, apply_first):
    conversation = first_awaiting(sandbox, api)
    sandbox.state.add_fault(
        kind="status",
        status=409,
        detail="A confirmation of this conversation is in progress",
        times=None,
        path_contains="/crm/confirm",
        apply_first=apply_first,
    )
    with pytest.raises(AttentionOutcomeUnknown) as error:
        api.confirm_intelligence(conversation.id, confirm_body(conversation))
    assert error.value.status == 409
    assert "in progress" in error.value.explanation
    assert sandbox.state.request_count("/crm/confirm", "POST") == 1
    assert sandbox.state.confirm_calls[conversation.id] == 1


@pytest.mark.parametrize("kind", ["malformed_json", "deep_json", "contract"])
def test_an_unreadable_confirm_answer_is_outcome_unknown(sandbox, api, kind):
    conversation = first_awaiting(sandbox, api)
    sandbox.state.add_fault(kind=kind, path_contains="/crm/confirm", apply_first=True)
    with pytest.raises(AttentionOutcomeUnknown) as error:
        api.confirm_intelligence(conversation.id, confirm_body(conversation))
    assert sandbox.state.confirm_calls[conversation.id] == 1
    if kind == "deep_json":
        assert "deeper than" in error.value.detail


def test_deep_json_on_a_read_is_a_contract_error_not_a_recursion_error(sandbox, api):
    conversation = next(api.list_conversations())
    sandbox.state.reset()
    sandbox.state.add_fault(kind="deep_json", times=1, path_contains="/list")
    with pytest.raises(AttentionContractError) as listed:
        next(api.list_conversation_pages())
    sandbox.state.add_fault(kind="deep_json", times=1, path_contains=conversation.id)
    with pytest.raises(AttentionContractError) as fetched:
        api.get_conversation(conversation.id)
    for error in (listed, fetched):
        assert "deeper than" in error.value.detail
        assert error.value.user_message == AttentionContractError.user_message
    assert sandbox.state.request_count("/list") == 1, "a bad body is not retried"


def test_a_value_nested_deeper_than_the_limit_is_a_contract_error(sandbox, api):
    conversation = next(c for c in api.list_conversations() if c.attributes.extracted_intelligence)
    value: list = []
    for _ in range(MAX_JSON_DEPTH + 10):
        value = [value]
    sandbox.state.reextract(conversation.id, change={"next_steps": value})
    with pytest.raises(AttentionContractError, match="deeper than"):
        api.get_conversation(conversation.id)


# --- Refusals explained in one sentence --------------------------------------------------


@pytest.mark.parametrize("body", ["detail", "message", "jsonapi", "text"])
def test_a_refusal_quotes_the_apis_explanation_whatever_the_body_shape(sandbox, api, body):
    conversation = first_awaiting(sandbox, api)
    sandbox.state.add_fault(
        kind="status",
        status=400,
        body=body,
        detail="intelligence[0] is missing 'key'",
        path_contains="/crm/confirm",
    )
    with pytest.raises(AttentionRejected) as error:
        api.confirm_intelligence(conversation.id, confirm_body(conversation))
    assert error.value.user_message == (
        "Attention rejected the request: intelligence[0] is missing 'key'."
    )
    assert error.value.detail == error.value.explanation == "intelligence[0] is missing 'key'"
    assert sandbox.state.applied_confirms.get(conversation.id, 0) == 0


def test_the_apis_own_400_is_quoted(sandbox, api):
    conversation = first_awaiting(sandbox, api)
    body = ConfirmRequest(intelligence=[ConfirmItem(id="nope", key="k", value="x", title="x")])
    with pytest.raises(AttentionRejected) as error:
        api.confirm_intelligence(conversation.id, body)
    assert error.value.user_message == (
        "Attention rejected the request: intelligence[0]: this conversation has no extracted "
        "intelligence item with id 'nope'."
    )


def test_jsonapi_errors_are_joined_and_a_long_explanation_is_cut(sandbox, api):
    sandbox.state.add_fault(
        kind="status", status=422, body="jsonapi", detail="word " * 200, path_contains="/list"
    )
    with pytest.raises(AttentionRejected) as error:
        next(api.list_conversation_pages())
    message = error.value.user_message
    assert message.startswith("Attention rejected the request: word word")
    assert message.endswith("\u2026")
    assert len(error.value.explanation) <= EXPLANATION_LIMIT
    assert "\n" not in message
    assert "{" not in message


@pytest.mark.parametrize("body", ["html", "empty"])
def test_a_refusal_without_an_explanation_says_so_without_markup(sandbox, api, body):
    sandbox.state.add_fault(
        kind="status", status=400, body=body, detail="<script>x</script>", path_contains="/list"
    )
    with pytest.raises(AttentionRejected) as error:
        next(api.list_conversation_pages())
    assert error.value.user_message == (
        "Attention rejected the request (400 Bad Request) without saying why."
    )
    assert "<" not in error.value.detail


def test_401_and_404_keep_their_messages_and_carry_the_explanation(sandbox, api):
    sandbox.state.add_fault(kind="status", status=401, body="message", detail="Key revoked")
    with pytest.raises(AttentionAuthError) as refused:
        api.get_conversation("anything")
    assert refused.value.user_message == AttentionAuthError.user_message
    assert refused.value.detail == "Key revoked"
    with pytest.raises(AttentionNotFound) as missing:
        api.get_conversation("no-such-conversation")
    assert missing.value.user_message == AttentionNotFound.user_message
    assert missing.value.detail == "Conversation not found"


@pytest.mark.parametrize("body", ["detail", "message", "jsonapi", "text"])
@pytest.mark.parametrize("status", [400, 401, 409, 500])
def test_a_body_that_echoes_the_key_never_puts_it_in_a_message(sandbox, api, caplog, body, status):
    caplog.set_level(logging.DEBUG)
    conversation = first_awaiting(sandbox, api)
    sandbox.state.add_fault(
        kind="status",
        status=status,
        body=body,
        detail=(
            f"Key {TEST_API_KEY} is not valid here (sent as 'Authorization: Bearer "
            f"{TEST_API_KEY}'); also refused: Bearer someone.elses-token"
        ),
        path_contains="/crm/confirm",
    )
    with pytest.raises(AttentionError) as error:
        api.confirm_intelligence(conversation.id, confirm_body(conversation))
    texts = [
        error.value.user_message,
        error.value.detail,
        error.value.explanation,
        str(error.value),
        repr(error.value),
        caplog.text,
    ]
    assert caplog.text, "the failure was logged"
    for text in texts:
        assert TEST_API_KEY not in text
        assert "elses-token" not in text
    if status == 400:
        assert "is not valid here" in error.value.user_message


def test_a_key_in_a_field_name_stays_out_of_a_skipped_items_reason(sandbox, api, caplog):
    conversation = next(c for c in api.list_conversations() if c.attributes.extracted_intelligence)
    sandbox.state.reextract(conversation.id, add=[{"key": TEST_API_KEY, "id": "x" * 500}])
    read = api.get_conversation(conversation.id)
    # The broken item is skipped with a reason; the rest of the call is read.
    (reason,) = read.attributes.skipped_items
    assert "[redacted]" in reason
    assert read.attributes.extracted_intelligence
    for text in (reason, caplog.text):
        assert TEST_API_KEY not in text


def test_every_call_is_logged_by_path_template_status_latency_and_retry(sandbox, api, caplog):
    conversation = next(api.list_conversations())
    sandbox.state.add_fault(kind="status", status=503, times=1, path_contains=conversation.id)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="attention_review.attention.client"):
        api.get_conversation(conversation.id)
    messages = [record.getMessage() for record in caplog.records]
    calls = [message for message in messages if message.startswith("Attention call")]
    line = r"Attention call GET /conversations/\{id\} -> %s in \d+ ms \(retry %s\)"
    assert re.fullmatch(line % ("503", "0"), calls[0]), calls
    assert re.fullmatch(line % ("200", "1"), calls[1]), calls
    assert conversation.id not in " ".join(calls), "the template, never the id"
    assert TEST_API_KEY not in caplog.text
