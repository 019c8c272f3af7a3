"""The sandbox's detailed transcripts and the evidence on its extracted items, over real
HTTP: `detailedTranscript=true` adds the transcript and changes nothing else, every quote
is in the transcript at its own times, and some items have no evidence on purpose."""

from collections import Counter

import pytest
import requests

from attention_review.demo import DEMO_DOMAIN
from attention_review.sandbox.app import SandboxState
from attention_review.sandbox.demo_data import DEFAULT_SEED
from attention_review.sandbox.server import SandboxServer
from attention_review.sandbox.transcript import MAX_SEGMENTS, MIN_SEGMENTS
from tests.fixtures import attention_example
from tests.sandbox.conftest import AUTH, KEY

OUR_SIDE = "@" + DEMO_DOMAIN


def get_one(http, server, conversation_id, **params):
    response = http.get(
        f"{server.base_url}/conversations/{conversation_id}", params=params, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


def listed(http, base_url, **params):
    """Every conversation of the list, page by page, as served."""
    conversations, page = [], 1
    while True:
        response = http.get(
            f"{base_url}/conversations/list", params={"page": page, **params}, timeout=30
        )
        assert response.status_code == 200, response.text
        body = response.json()
        conversations.extend(body["data"])
        if page * 50 >= body["meta"]["totalRecords"]:
            return conversations
        page += 1


@pytest.fixture
def detailed(http, server):
    """Every demo conversation, with CRM records and the detailed transcript."""
    return listed(http, server.base_url, withCrmRecords="true", detailedTranscript="true")


def items_of(attributes):
    return list(attributes["extractedIntelligence"].values())


def spoken_words(transcript):
    """Every word of the transcript, in order, with the speaker of its segment."""
    return [
        (segment["speaker"], word)
        for segment in transcript["segments"]
        for word in segment["words"]
    ]


def stated(item):
    """Whether one of the item's quotes says its value as written (`$168,000` for an
    amount)."""
    value = item["value"]
    text = f"${value:,}" if isinstance(value, int) else str(value)
    return any(text in quote["quote"] for quote in item["evidence"])


# --- The flag ---------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["true", "1", "yes", "TRUE"])
def test_the_flag_puts_the_detailed_transcript_in_get_one(http, server, flag):
    conversation_id = next(
        outline.id for outline in server.state.outlines if outline.state == "awaiting"
    )
    transcript = get_one(http, server, conversation_id, detailedTranscript=flag)["attributes"][
        "transcript"
    ]
    assert list(transcript) == ["segments"]
    assert MIN_SEGMENTS <= len(transcript["segments"]) <= MAX_SEGMENTS
    for segment in transcript["segments"]:
        assert list(segment) == ["speaker", "words"]
        assert list(segment["speaker"]) == ["name", "email"]
        assert segment["words"]
        for word in segment["words"]:
            assert list(word) == ["text", "startTimestamp", "endTimestamp"]
            assert word["text"]
            assert " " not in word["text"]
            assert isinstance(word["startTimestamp"], int | float)
            assert isinstance(word["endTimestamp"], int | float)


@pytest.mark.parametrize(
    "params", [{}, {"detailedTranscript": "false"}, {"detailedTranscript": ""}]
)
def test_without_the_flag_get_one_is_unchanged(http, server, params):
    for outline in server.state.outlines[:10]:
        served = get_one(http, server, outline.id, **params)
        assert served["attributes"]["transcript"] == {}
        assert served == server.state.conversation(outline.id)
        detailed = get_one(http, server, outline.id, detailedTranscript="true")
        assert detailed["attributes"].pop("transcript") != {}
        served["attributes"].pop("transcript")
        assert detailed == served


def test_the_list_serves_the_same_transcripts_and_nothing_else_changes(http, server, detailed):
    plain = listed(http, server.base_url, withCrmRecords="true")
    bare = listed(http, server.base_url, detailedTranscript="true")
    assert [c["id"] for c in detailed] == [c["id"] for c in plain] == [c["id"] for c in bare]
    assert all(c["attributes"]["transcript"] == {} for c in plain)
    for with_flag, without, only_flag in zip(detailed, plain, bare, strict=True):
        transcript = with_flag["attributes"]["transcript"]
        assert transcript == server.state.transcript(with_flag["id"])
        assert (
            transcript
            == get_one(http, server, with_flag["id"], detailedTranscript="true")["attributes"][
                "transcript"
            ]
        )
        # Without `withCrmRecords` the CRM sections are empty as ever; the transcript is there.
        assert only_flag["attributes"]["transcript"] == transcript
        assert only_flag["attributes"]["extractedIntelligence"] == {}
        assert {**with_flag["attributes"], "transcript": {}} == without["attributes"]


def test_calls_nobody_spoke_on_or_still_transcribing_have_no_segments(detailed):
    by_state = Counter()
    for conversation in detailed:
        attributes = conversation["attributes"]
        segments = attributes["transcript"]["segments"]
        if attributes["isEmpty"] or attributes["transcriptStatus"] == "processing":
            assert segments == []
            by_state["silent"] += 1
        else:
            assert MIN_SEGMENTS <= len(segments) <= MAX_SEGMENTS
            by_state["spoken"] += 1
    assert by_state["silent"]
    assert by_state["spoken"]


def test_an_added_conversation_is_served_with_its_own_transcript(http, server):
    example = attention_example("confirm-response.json")
    server.state.add_conversation(example)
    served = get_one(http, server, example["id"], detailedTranscript="true")
    assert served["attributes"]["transcript"] == example["attributes"]["transcript"] == {}


def test_a_bent_conversation_still_gets_its_transcript(http, server):
    conversation_id = next(
        outline.id for outline in server.state.outlines if outline.state == "awaiting"
    )
    expected = server.state.transcript(conversation_id)
    server.state.corrupt(conversation_id, "null_title")
    served = get_one(http, server, conversation_id, detailedTranscript="true")
    assert served["attributes"]["title"] is None
    assert served["attributes"]["transcript"] == expected


# --- The transcript and the evidence agree ----------------------------------------------


def test_words_are_in_order_within_the_call_and_said_by_participants(detailed):
    for conversation in detailed:
        attributes = conversation["attributes"]
        people = {(p["name"], p["email"]) for p in attributes["participants"]}
        previous_end = 0
        for speaker, word in spoken_words(attributes["transcript"]):
            assert (speaker["name"], speaker["email"]) in people
            assert previous_end <= word["startTimestamp"] < word["endTimestamp"]
            previous_end = word["endTimestamp"]
        assert previous_end <= attributes["mediaDuration"]


def test_every_quote_is_in_the_transcript_between_its_timestamps(detailed):
    quotes = 0
    for conversation in detailed:
        attributes = conversation["attributes"]
        words = spoken_words(attributes["transcript"])
        people = {(p["name"], p["email"]) for p in attributes["participants"]}
        for item in items_of(attributes):
            for quote in item["evidence"]:
                assert list(quote) == ["quote", "speaker", "startTimestamp", "endTimestamp"]
                assert (quote["speaker"]["name"], quote["speaker"]["email"]) in people
                assert 0 <= quote["startTimestamp"] < quote["endTimestamp"]
                assert quote["endTimestamp"] <= attributes["mediaDuration"]
                said = [
                    word
                    for speaker, word in words
                    if speaker == quote["speaker"]
                    and word["startTimestamp"] >= quote["startTimestamp"]
                    and word["endTimestamp"] <= quote["endTimestamp"]
                ]
                assert " ".join(word["text"] for word in said) == quote["quote"]
                assert said[0]["startTimestamp"] == quote["startTimestamp"]
                assert said[-1]["endTimestamp"] == quote["endTimestamp"]
                quotes += 1
    assert quotes > 300


def test_confirmed_copies_carry_the_extracted_evidence(detailed):
    confirmed = [
        (entry, conversation["attributes"]["extractedIntelligence"][key])
        for conversation in detailed
        for key, entry in conversation["attributes"]["confirmedExtractedIntelligence"].items()
    ]
    assert confirmed
    assert all(entry["evidence"] == extracted["evidence"] for entry, extracted in confirmed)


# --- Shares -----------------------------------------------------------------------------


def test_most_items_have_one_quote_some_two_and_some_none(detailed):
    items = [item for conversation in detailed for item in items_of(conversation["attributes"])]
    counts = Counter(len(item["evidence"]) for item in items)
    assert set(counts) == {0, 1, 2}
    assert 0.08 <= counts[0] / len(items) <= 0.18  # about one in eight, on purpose
    assert 0.15 <= counts[2] / len(items) <= 0.35  # about one in four
    assert counts[1] > counts[2] + counts[0]
    assert all(not item["evidence"] for item in items if item["refreshing"])


def test_two_quotes_come_one_from_each_side_on_a_customer_call(detailed):
    pairs = 0
    for conversation in detailed:
        attributes = conversation["attributes"]
        for item in items_of(attributes):
            if len(item["evidence"]) != 2:
                continue
            first, second = item["evidence"]
            assert first["endTimestamp"] < second["startTimestamp"]
            ours = [quote["speaker"]["email"].endswith(OUR_SIDE) for quote in item["evidence"]]
            if attributes["isInternal"]:
                assert ours == [True, True]
                assert first["speaker"] != second["speaker"]
            else:
                assert sorted(ours) == [False, True]
                pairs += 1
    assert pairs


def test_prospects_are_told_apart_by_their_company_domain(detailed):
    for conversation in detailed:
        attributes = conversation["attributes"]
        speakers = {
            quote["speaker"]["email"] for item in items_of(attributes) for quote in item["evidence"]
        }
        if attributes["isInternal"]:
            assert all(email.endswith(OUR_SIDE) for email in speakers)
        theirs = {email.split("@")[1] for email in speakers if not email.endswith(OUR_SIDE)}
        assert len(theirs) <= 1  # the customer's one domain
        assert not any(domain.endswith(DEMO_DOMAIN) for domain in theirs)


def test_some_quotes_state_the_value_and_some_are_inferred(detailed):
    with_evidence = [
        item
        for conversation in detailed
        for item in items_of(conversation["attributes"])
        if item["evidence"]
    ]
    by_key = {}
    for item in with_evidence:
        by_key.setdefault(item["key"], []).append(stated(item))
    # Free text (and the amount, written `$168,000`) is stated word for word...
    assert all(by_key["next_steps"])
    assert all(by_key["amount"])
    # ...while a date is said in words and a stage is read from what was said.
    assert not any(by_key["close_date"])
    assert not all(by_key["stage"])
    shares = Counter(stated(item) for item in with_evidence)
    assert shares[True]
    assert shares[False]


# --- Scenarios ----------------------------------------------------------------------------


def control(server, path, body):
    return requests.post(f"{server.root_url}/_sandbox/{path}", json=body, timeout=5)


def with_evidence(server):
    """An awaiting conversation whose `next_steps` has evidence, and that evidence."""
    for outline in server.state.outlines:
        if outline.state != "awaiting":
            continue
        resource = server.state.conversation(outline.id)
        evidence = resource["attributes"]["extractedIntelligence"]["next_steps"]["evidence"]
        if evidence:
            return resource
    raise AssertionError("no awaiting conversation with evidence for next_steps")


def test_reextract_keeps_the_evidence_of_a_changed_item(http, server):
    conversation = with_evidence(server)
    before = conversation["attributes"]["extractedIntelligence"]["next_steps"]
    response = control(
        server,
        f"conversations/{conversation['id']}/reextract",
        {"change": {"next_steps": "Send the MSA on Monday"}},
    )
    assert response.status_code == 200, response.text
    served = get_one(http, server, conversation["id"])["attributes"]["extractedIntelligence"]
    assert served["next_steps"]["value"] == "Send the MSA on Monday"
    assert served["next_steps"]["evidence"] == before["evidence"]


def test_reextract_gives_new_evidence_only_when_an_added_item_brings_it(http, server):
    conversation = with_evidence(server)
    speaker = conversation["attributes"]["participants"][0]
    evidence = [
        {
            "quote": "Send the MSA on Monday.",
            "speaker": {"name": speaker["name"], "email": speaker["email"]},
            "startTimestamp": 12.5,
            "endTimestamp": 14.0,
        }
    ]
    response = control(
        server,
        f"conversations/{conversation['id']}/reextract",
        {
            "withdraw": ["next_steps"],
            "add": [
                {"key": "next_steps", "value": "Send the MSA on Monday", "evidence": evidence},
                {"key": "pilot_size", "value": 12},
            ],
        },
    )
    assert response.status_code == 200, response.text
    served = get_one(http, server, conversation["id"])["attributes"]["extractedIntelligence"]
    assert served["next_steps"]["evidence"] == evidence
    assert served["pilot_size"]["evidence"] == []


def test_added_evidence_must_be_a_list(server):
    conversation = with_evidence(server)
    response = control(
        server,
        f"conversations/{conversation['id']}/reextract",
        {"add": [{"key": "pilot_size", "value": 12, "evidence": "said so"}]},
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "add: an item's 'evidence' must be a list"}
    assert server.state.conversation(conversation["id"]) == conversation


def test_typed_items_come_without_evidence(http, server):
    conversation = with_evidence(server)
    server.state.add_typed_items(conversation["id"])
    served = get_one(http, server, conversation["id"])["attributes"]["extractedIntelligence"]
    assert (
        served["stage"]["id"] == conversation["attributes"]["extractedIntelligence"]["stage"]["id"]
    )
    assert all(served[key]["evidence"] == [] for key in ("stage", "amount", "products"))


def test_a_confirm_copies_the_evidence_into_the_confirmed_map(http, server):
    conversation = with_evidence(server)
    extracted = conversation["attributes"]["extractedIntelligence"]["next_steps"]
    body = {"intelligence": [{"id": extracted["id"], "key": "next_steps", "value": "Edited"}]}
    url = f"{server.base_url}/conversations/{conversation['id']}/crm/confirm"
    assert http.post(url, json=body, timeout=5).status_code == 200
    confirmed = get_one(http, server, conversation["id"])["attributes"][
        "confirmedExtractedIntelligence"
    ]["next_steps"]
    assert confirmed["value"] == "Edited"
    assert confirmed["evidence"] == extracted["evidence"]


def test_the_transcript_outlives_scenarios(http, server):
    conversation = with_evidence(server)
    before = get_one(http, server, conversation["id"], detailedTranscript="true")
    server.state.reextract(conversation["id"], withdraw=["next_steps"])
    after = get_one(http, server, conversation["id"], detailedTranscript="true")
    assert after["attributes"]["transcript"] == before["attributes"]["transcript"]


# --- Determinism --------------------------------------------------------------------------


def test_two_sandboxes_with_the_same_seed_serve_the_same_transcripts_and_evidence():
    params = {"withCrmRecords": "true", "detailedTranscript": "true"}
    bodies = []
    for seed in (DEFAULT_SEED, DEFAULT_SEED, DEFAULT_SEED + 1):
        with SandboxServer(SandboxState(seed=seed, api_key=KEY)) as sandbox:
            pages = [
                requests.get(
                    f"{sandbox.base_url}/conversations/list",
                    params={**params, "page": page},
                    headers=AUTH,
                    timeout=30,
                ).content
                for page in (1, 2)
            ]
            bodies.append(pages)
    assert bodies[0] == bodies[1]
    assert bodies[0] != bodies[2]


def test_one_transcript_of_100k_is_built_on_its_own():
    state = SandboxState(conversation_count=100_000, api_key=KEY)
    last = state.outlines[-1].id
    transcript = state.transcript(last)
    assert transcript == SandboxState(conversation_count=100_000).transcript(last)
    attributes = state.conversation(last)["attributes"]
    if attributes["transcriptStatus"] == "completed" and not attributes["isEmpty"]:
        assert MIN_SEGMENTS <= len(transcript["segments"]) <= MAX_SEGMENTS


def test_quotes_and_transcripts_agree_across_a_sample_of_100k():
    state = SandboxState(conversation_count=100_000, api_key=KEY)
    for outline in state.outlines[::500]:
        attributes = state.conversation(outline.id, detailed_transcript=True)["attributes"]
        words = spoken_words(attributes["transcript"])
        assert all(word["endTimestamp"] <= attributes["mediaDuration"] for _, word in words)
        for item in items_of(attributes):
            for quote in item["evidence"]:
                said = [
                    word["text"]
                    for speaker, word in words
                    if speaker == quote["speaker"]
                    and word["startTimestamp"] >= quote["startTimestamp"]
                    and word["endTimestamp"] <= quote["endTimestamp"]
                ]
                assert " ".join(said) == quote["quote"]
