"""Evidence on items and the detailed transcript, read leniently: Attention documents
neither (docs/attention-api.md, "Transcript"), so every plausible shape is read, junk
entries are dropped one by one, and nothing here ever fails an item or a conversation."""

import pytest

from attention_review.attention import schemas
from attention_review.attention.client import AttentionContractError, AttentionNotFound
from tests.fixtures import attention_example


def item_with(evidence):
    return schemas.IntelligenceItem.model_validate(
        {"id": "i-1", "key": "budget", "evidence": evidence}
    )


def stored(evidence, participants=()):
    return [quote.stored(participants) for quote in item_with(evidence).evidence]


def test_the_sandbox_shape_is_stored_normalised():
    assert stored(
        [
            {
                "quote": "Let me be upfront about budget.  $177k annual.",
                "speaker": {"name": "Sofia Tanaka", "email": "sofia@humongous.example"},
                "startTimestamp": 1125.25,
                "endTimestamp": 1130.48,
            }
        ]
    ) == [
        {
            "quote": "Let me be upfront about budget. $177k annual.",
            "speaker_name": "Sofia Tanaka",
            "speaker_email": "sofia@humongous.example",
            "start": 1125.25,
            "end": 1130.48,
        }
    ]


@pytest.mark.parametrize("evidence", [None, "a quote", 3, {"quote": "x"}, [], True])
def test_anything_but_a_list_is_no_evidence(evidence):
    assert item_with(evidence).evidence == ()


def test_an_item_without_evidence_has_none():
    body = attention_example("confirm-request.json")["intelligence"][0]
    assert schemas.IntelligenceItem.model_validate(body).evidence == ()


def test_junk_entries_are_dropped_and_the_rest_kept():
    quotes = stored(
        [
            1,
            "just text",
            None,
            {"quote": "   "},
            {"quote": 42},
            {"speaker": {"name": "No quote"}},
            {"quote": "Kept", "speaker": {"name": "Ann", "email": "ann@p.example"}},
        ]
    )
    assert [quote["quote"] for quote in quotes] == ["Kept"]


@pytest.mark.parametrize(
    ("speaker", "name", "email"),
    [
        ({"name": "Ann Lee", "email": "ann@p.example"}, "Ann Lee", "ann@p.example"),
        ({"name": None, "email": "ann@p.example"}, "", "ann@p.example"),
        ("ann@p.example", "", "ann@p.example"),
        ("Ann Lee", "Ann Lee", ""),
        (None, "", ""),
        (12, "", ""),
        (["Ann"], "", ""),
    ],
)
def test_a_speaker_is_an_object_a_string_or_nothing(speaker, name, email):
    (quote,) = stored([{"quote": "We can sign by March.", "speaker": speaker}])
    assert (quote["speaker_name"], quote["speaker_email"]) == (name, email)


def test_a_missing_speaker_half_is_completed_from_the_participants():
    people = [
        schemas.Person(id="p-1", name="Ann Lee", email="ann@p.example"),
        schemas.Person(id="p-2", name="Raj Patel", email="raj@us.example"),
    ]
    quotes = stored(
        [
            {"quote": "One", "speaker": "ann lee"},
            {"quote": "Two", "speaker": "raj@us.example"},
            {"quote": "Three", "speaker": "p-2"},
            {"quote": "Four", "speaker": "Someone Else"},
        ],
        people,
    )
    assert [(q["speaker_name"], q["speaker_email"]) for q in quotes] == [
        ("Ann Lee", "ann@p.example"),
        ("Raj Patel", "raj@us.example"),
        ("Raj Patel", "raj@us.example"),
        ("Someone Else", ""),
    ]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (12.5, 14, (12.5, 14.0)),
        ("12.5", "14", (12.5, 14.0)),
        (12, None, (12.0, 12.0)),
        (14, 12, (14.0, 14.0)),  # an end before the start reads as the start
        (None, 14, (None, None)),  # an end alone places nothing
        (-3, 5, (None, None)),
        ("soon", 5, (None, None)),
        ([1], 5, (None, None)),
        (float("nan"), 5, (None, None)),
        (float("inf"), None, (None, None)),
    ],
)
def test_times_are_numbers_or_numeric_text_else_missing(start, end, expected):
    (quote,) = stored([{"quote": "Q", "startTimestamp": start, "endTimestamp": end}])
    assert (quote["start"], quote["end"]) == expected


def test_long_quotes_are_cut_and_quotes_per_item_are_bounded():
    many = [{"quote": f"Quote {n}"} for n in range(schemas.QUOTES_PER_ITEM + 10)]
    assert len(item_with(many).evidence) == schemas.QUOTES_PER_ITEM
    (quote,) = stored([{"quote": "word " * 2000}])
    assert len(quote["quote"]) == schemas.QUOTE_LIMIT


def test_evidence_on_a_conversation_never_sets_a_record_aside():
    body = attention_example("confirm-response.json")
    body["attributes"]["extractedIntelligence"] = {
        "budget": {"id": "i-1", "key": "budget", "value": "$10k", "evidence": {"odd": True}},
        "stage": {
            "id": "i-2",
            "key": "stage",
            "value": "Proposal",
            "evidence": [None, {"quote": 1}],
        },
    }
    attributes = schemas.Conversation.model_validate(body).attributes
    assert attributes.skipped_items == ()
    assert [item.evidence for item in attributes.extracted_intelligence.values()] == [(), ()]


# --- The detailed transcript --------------------------------------------------------------

WORDS = [
    {"text": "We", "startTimestamp": 10.0, "endTimestamp": 10.28},
    {"text": "can", "startTimestamp": 10.32, "endTimestamp": 10.65},
    {"text": "sign.", "startTimestamp": 10.69, "endTimestamp": 11.12},
]


def transcript(value, participants=()):
    return schemas.ConversationTranscript.model_validate(
        {"id": "c-1", "attributes": {"participants": list(participants), "transcript": value}}
    ).segments


def test_segments_inside_an_object_or_as_a_bare_list_read_the_same():
    segment = {"speaker": {"name": "Ann Lee", "email": "ann@p.example"}, "words": WORDS}
    (wrapped,) = transcript({"segments": [segment]})
    (bare,) = transcript([segment])
    assert wrapped == bare
    assert wrapped.stored() == {
        "speaker_name": "Ann Lee",
        "speaker_email": "ann@p.example",
        "start": 10.0,
        "end": 11.12,
        "text": "We can sign.",
        "words": [
            {"text": "We", "start": 10.0, "end": 10.28},
            {"text": "can", "start": 10.32, "end": 10.65},
            {"text": "sign.", "start": 10.69, "end": 11.12},
        ],
    }


@pytest.mark.parametrize("value", [{}, None, "text", 5, {"segments": None}, {"segments": "x"}, []])
def test_anything_else_is_an_empty_transcript(value):
    assert transcript(value) == []


def test_broken_segments_and_words_are_skipped():
    segments = transcript(
        [
            "junk",
            {"speaker": "Ann Lee", "words": []},
            {"speaker": "Ann Lee", "words": [None, {"text": ""}, {"startTimestamp": 1}, *WORDS]},
            {"speaker": {"name": 5}, "text": "Text without words.", "startTimestamp": "20"},
        ]
    )
    assert [segment.text for segment in segments] == ["We can sign.", "Text without words."]
    assert (segments[1].start, segments[1].end, segments[1].words) == (20.0, 20.0, ())
    assert (segments[1].speaker_name, segments[1].speaker_email) == ("", "")


def test_a_speaker_named_or_given_by_id_gets_the_participants_email():
    people = [
        {"id": "p-1", "name": "Ann Lee", "email": "ann@p.example"},
        "not a person",
        {"id": "p-2", "name": "Raj Patel", "email": "raj@us.example"},
    ]
    segments = transcript(
        [{"speaker": "Ann Lee", "words": WORDS}, {"speaker": "p-2", "words": WORDS}], people
    )
    assert [(s.speaker_name, s.speaker_email) for s in segments] == [
        ("Ann Lee", "ann@p.example"),
        ("Raj Patel", "raj@us.example"),
    ]


def test_a_resource_without_attributes_has_no_transcript():
    assert schemas.ConversationTranscript.model_validate({"id": "c-1"}).segments == []


# --- The client, over HTTP ----------------------------------------------------------------


def test_the_client_reads_the_sandbox_transcript_with_its_quotes(api, sandbox):
    outline = next(o for o in sandbox.state.outlines if o.state == "awaiting")
    served = sandbox.state.transcript(outline.id)["segments"]
    segments = api.get_transcript(outline.id).segments
    assert len(segments) == len(served)
    assert [s.text for s in segments] == [
        " ".join(word["text"] for word in segment["words"]) for segment in served
    ]
    assert [s.speaker_email for s in segments] == [
        segment["speaker"]["email"] for segment in served
    ]
    assert sandbox.state.request_count("detailedTranscript=true", "GET") == 1


def test_the_client_names_a_missing_conversation(api, sandbox):
    with pytest.raises(AttentionNotFound):
        api.get_transcript("no-such-conversation")


def test_a_body_that_is_not_json_breaks_the_contract(api, sandbox):
    outline = sandbox.state.outlines[0]
    sandbox.state.add_fault(kind="malformed_json", path_contains=outline.id)
    with pytest.raises(AttentionContractError):
        api.get_transcript(outline.id)


@pytest.mark.parametrize("value", [[{"speaker": "Ann", "words": []}], None, "text", 5])
def test_no_shape_of_the_transcript_sets_a_conversation_aside(value):
    body = attention_example("confirm-response.json")
    body["attributes"]["transcript"] = value
    attributes = schemas.Conversation.model_validate(body).attributes
    assert attributes.transcript == (value if isinstance(value, list) else {})
