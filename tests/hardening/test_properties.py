"""Property-based tests (hypothesis) on the forms and the API schemas: for any input,
a value is accepted whole or refused with a message, never half-stored, never a crash."""

import json
import math
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from attention_review.attention import schemas
from attention_review.attention.client import _without_nul, parse_retry_after
from attention_review.reviews.forms import (
    MAX_VALUE_LENGTH,
    ConfirmForm,
    ItemValueForm,
)
from attention_review.reviews.models import IntelligenceItem
from attention_review.reviews.values import option_value, same_value
from tests.hardening.helpers import HTMX, client_for, text_item
from tests.hardening.hostile import HOSTILE_TEXTS

# Text as a browser can send it (no lone surrogates), with the hostile samples mixed in.
typed_text = st.one_of(
    st.text(max_size=300),
    st.sampled_from(HOSTILE_TEXTS),
    st.text(alphabet=st.sampled_from("0123456789.,$-eE+ \n\x00Yes No"), max_size=20),
)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)

AI_VALUES = {
    "text": "Follow up with the CFO",
    "number": 48000,
    "big": 9007199254740993,
    "float": 12.5,
    "numeric_string": "168000",
    "boolean": True,
    "date": "2026-03-14",
    "list": ["Ana", "Bo"],
    "int_list": [1, 2, 3],
    "json": {"budget": 1, "notes": ["a"]},
    "objects": [{"name": "Ana Ruiz", "role": "CFO"}],
}


def make_item(kind: str, options=None) -> IntelligenceItem:
    return IntelligenceItem(
        pk=1, item_id="intel-1", key=kind, title=kind, ai_value=AI_VALUES[kind], options=options
    )


def kind_matches(kind: str, value) -> bool:
    """The stored value has the JSON type and shape of the AI's value."""
    ai_value = AI_VALUES[kind]
    if isinstance(ai_value, list):
        entry_types = {type(entry) for entry in ai_value}
        return isinstance(value, list) and all(type(entry) in entry_types for entry in value)
    return type(value) is type(ai_value)


@pytest.mark.parametrize("kind", sorted(AI_VALUES))
@given(text=typed_text)
@settings(max_examples=150, deadline=None)
def test_an_item_value_is_accepted_in_the_ai_type_or_refused_with_a_message(kind, text):
    form = ItemValueForm({"value": text}, item=make_item(kind))
    if not form.is_valid():
        assert form.errors["value"], "a refusal always says why"
        assert all(error.endswith(".") for error in form.errors["value"]), "in a sentence"
        return
    value = form.cleaned_data["value"]
    assert kind_matches(kind, value), value
    assert "\x00" not in json.dumps(value)
    if isinstance(value, float):
        assert math.isfinite(value)
    # Saved, then opened in the editor again and saved unchanged: the same value.
    stored = make_item(kind)
    stored.choice, stored.decision_value = IntelligenceItem.Choice.OWN, value
    shown = ItemValueForm(item=stored)["value"].value()
    again = ItemValueForm({"value": shown}, item=make_item(kind))
    assert again.is_valid(), (shown, again.errors)
    assert again.cleaned_data["value"] == value
    assert type(again.cleaned_data["value"]) is type(value)
    assert same_value(again.cleaned_data["value"], value)


@given(text=typed_text, options=st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=5))
@settings(max_examples=150, deadline=None)
def test_a_picklist_accepts_exactly_its_options(text, options):
    form = ItemValueForm({"value": text}, item=make_item("text", options=options))
    if form.is_valid():
        assert form.cleaned_data["value"] in options
    else:
        assert form.errors["value"]


options_lists = st.lists(
    json_scalars.filter(lambda v: v != "")
    | st.fixed_dictionaries({"label": st.text(max_size=10), "value": json_scalars}),
    min_size=1,
    max_size=5,
)


@given(options=options_lists, data=st.data())
@settings(max_examples=150, deadline=None)
def test_a_chosen_option_sends_that_option_s_value(options, data):
    """Whatever the options look like, the form offers one token per option and maps a
    submitted token back to that option's value, never to the option object itself."""
    position = data.draw(st.integers(min_value=0, max_value=len(options) - 1))
    probe = IntelligenceItem(pk=1, key="k", ai_value=None, options=options)
    tokens = [token for token, _ in ItemValueForm(item=probe).fields["value"].choices][1:]
    assert len(tokens) == len(options)
    form = ItemValueForm({"value": tokens[position]}, item=probe)
    assert form.is_valid(), form.errors
    assert same_value(form.cleaned_data["value"], option_value(options[position]))


@given(raw=st.text(max_size=40) | st.integers().map(str))
@settings(max_examples=200, deadline=None)
def test_the_confirm_form_takes_only_a_positive_review_round(raw):
    form = ConfirmForm({"review_round": raw})
    if form.is_valid():
        assert form.cleaned_data["review_round"] >= 1
        assert Decimal(raw.strip()) == form.cleaned_data["review_round"]
    else:
        assert form.errors["review_round"]


@pytest.mark.django_db
@given(text=typed_text)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_a_save_through_the_view_stores_the_whole_value_or_nothing(rep, conversation, text):
    client = client_for(rep)
    item = text_item(conversation)
    before = IntelligenceItem.objects.values("choice", "decision_value").get(pk=item.pk)
    response = client.post(
        reverse("reviews:item", args=[conversation.pk, item.pk]), {"value": text}, headers=HTMX
    )
    assert response.status_code in {200, 400}
    after = IntelligenceItem.objects.values("choice", "decision_value").get(pk=item.pk)
    form = ItemValueForm({"value": text}, item=item)
    if response.status_code == 200 and form.is_valid():
        expected = form.cleaned_data["value"]
        if same_value(expected, item.ai_value):
            # The AI's proposal typed again is accepting it, not an edit.
            assert after == {"choice": "accept", "decision_value": item.ai_value}
        else:
            assert after == {"choice": "own", "decision_value": expected}
    else:
        assert after == before, "a refused value leaves the stored decision as it was"
    assert len(json.dumps(after["decision_value"])) <= MAX_VALUE_LENGTH * 6 + 2


@pytest.mark.django_db
@given(
    params=st.dictionaries(
        st.sampled_from(
            ["rep", "team", "date_from", "date_to", "field", "only_edited", "outcome", "page"]
        ),
        st.text(max_size=30) | st.integers(min_value=-(10**20), max_value=10**20).map(str),
        max_size=6,
    )
)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_any_audit_filter_answers_a_page_or_a_400_never_a_500(manager, synced, params):
    client = client_for(manager)
    clean = {key: value.replace("\x00", "") for key, value in params.items()}
    assert client.get(reverse("reviews:audit"), clean).status_code == 200
    assert client.get(reverse("reviews:audit-export"), clean).status_code in {200, 400}


# The API schemas -------------------------------------------------------------------


@pytest.mark.parametrize(
    "schema",
    [
        schemas.Conversation,
        schemas.ConversationList,
        schemas.IntelligenceItem,
        schemas.ConversationAttributes,
        schemas.ConfirmRequest,
    ],
)
@given(payload=json_values)
@settings(max_examples=200, deadline=None)
def test_any_json_parses_or_is_a_named_contract_error(schema, payload):
    try:
        schema.model_validate(payload)
    except ValidationError as error:
        description = schemas.describe_validation_error(error)
    else:
        return
    assert ": " in description


hostile_strings = st.one_of(st.text(max_size=40), st.sampled_from(HOSTILE_TEXTS))
ids = st.text(min_size=1, max_size=64)
people = st.fixed_dictionaries(
    {"id": hostile_strings, "email": hostile_strings, "name": hostile_strings},
    optional={"organizer": st.booleans(), "status": hostile_strings},
)
items = st.fixed_dictionaries(
    {"id": ids, "key": st.text(min_size=1, max_size=40), "value": json_values},
    optional={
        "title": hostile_strings,
        "category": st.sampled_from(["CRM", "Indicators", "BuiltInInsight", "CustomInsight"]),
        "refreshing": st.booleans(),
        "options": st.none() | st.lists(json_scalars, max_size=3),
        "unknownField": json_values,
    },
)
conversations = st.builds(
    lambda conversation_id, title, created, people, extracted, records, extra: {
        "type": "conversations",
        "id": conversation_id,
        "attributes": {
            "uuid": conversation_id,
            "title": title,
            "createdAt": created.isoformat(),
            "participants": people,
            "extractedIntelligence": {item["key"]: item for item in extracted},
            "confirmedExtractedIntelligence": None,
            "linkedCrmRecords": records,
            "labels": None,
            "someFutureField": extra,
        },
    },
    ids,
    hostile_strings,
    st.datetimes(timezones=st.just(UTC), min_value=datetime(2000, 1, 1)),
    st.lists(people, max_size=3),
    st.lists(items, max_size=4),
    st.lists(st.fixed_dictionaries({"id": hostile_strings, "code": hostile_strings}), max_size=3),
    json_values,
)


@given(resource=conversations)
@settings(max_examples=150, deadline=None)
def test_a_conversation_in_the_documented_shape_parses_and_round_trips(resource):
    parsed = schemas.Conversation.model_validate(resource)
    assert parsed.id == resource["id"]
    assert parsed.attributes.confirmed_extracted_intelligence == {}
    dumped = parsed.model_dump(mode="json", by_alias=True)
    assert schemas.Conversation.model_validate(dumped).model_dump(mode="json", by_alias=True) == (
        dumped
    )
    for key, item in parsed.attributes.extracted_intelligence.items():
        assert item.value == resource["attributes"]["extractedIntelligence"][key]["value"]


@given(value=st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_any_retry_after_header_is_a_finite_wait_or_none(value):
    seconds = parse_retry_after(value)
    assert seconds is None or (math.isfinite(seconds) and seconds >= 0)


@given(payload=json_values)
@settings(max_examples=200, deadline=None)
def test_nul_is_gone_from_every_string_and_nothing_else_changes(payload):
    cleaned = _without_nul(payload)
    assert "\\u0000" not in json.dumps(cleaned)
    assert _without_nul(cleaned) == cleaned
    if "\\u0000" not in json.dumps(payload):
        assert cleaned == payload
