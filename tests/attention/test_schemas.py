"""Every documented example payload parses, and contract breaks name the field."""

import pytest
from pydantic import ValidationError

from attention_review.attention import schemas
from tests.fixtures import attention_example


def load(name: str):
    return attention_example(name)


def test_confirm_response_example_parses_into_a_conversation():
    conversation = schemas.Conversation.model_validate(load("confirm-response.json"))
    attributes = conversation.attributes
    assert conversation.id == attributes.uuid == "conv-uuid-123"
    assert attributes.title == "Q1 Deal Review - Acme Corp"
    assert attributes.media_duration == 2700
    assert [p.name for p in attributes.participants] == ["Jane Smith", "John Doe"]
    assert attributes.participants[0].organizer is True
    assert attributes.attendees[0].email == "jane@example.com"
    scorecard = attributes.scorecard_results[0]
    assert scorecard.title == "Sales Discovery Scorecard"
    assert scorecard.summary.average_score == 85
    assert (scorecard.summary.min, scorecard.summary.max) == (0, 100)
    assert attributes.linked_crm_records[0].id == "001ABC123"
    assert attributes.external_contacts[0].code == "Contact"
    assert attributes.external_opportunity.title == "Enterprise Deal - Acme Corp"
    assert attributes.external_intelligence_opportunity_id == "opp-ext-123"
    assert attributes.crm_export_status == "exported"


def test_list_envelope_example_parses():
    page = schemas.ConversationList.model_validate(load("list-conversations-envelope.json"))
    assert page.data == []
    assert page.meta.total_records == 150


def test_confirm_request_example_round_trips():
    body = load("confirm-request.json")
    request = schemas.ConfirmRequest.model_validate(body)
    assert request.intelligence[0].key == "next_steps"
    assert request.to_json() == body


def test_field_configuration_item_example_parses():
    item = schemas.FieldConfigurationItem.model_validate(load("field-configuration-item.json"))
    assert item.title == "Budget Range"
    assert item.category == "CRM"
    assert item.content_type == "text"


def test_unknown_fields_are_ignored():
    body = load("confirm-response.json")
    body["attributes"]["aBrandNewField"] = {"nested": [1, 2, 3]}
    body["somethingElse"] = True
    conversation = schemas.Conversation.model_validate(body)
    assert conversation.attributes.title == "Q1 Deal Review - Acme Corp"


def test_intelligence_values_keep_their_type():
    item = schemas.IntelligenceItem.model_validate(
        {"id": "i1", "key": "amount", "value": 48000, "title": "Amount"}
    )
    assert item.value == 48000
    assert isinstance(item.value, int)
    listed = schemas.IntelligenceItem.model_validate(
        {"id": "i2", "key": "competitors", "value": ["Gong", "Chorus"]}
    )
    assert listed.value == ["Gong", "Chorus"]


def test_a_missing_required_field_is_named():
    body = load("confirm-response.json")
    del body["attributes"]["createdAt"]
    with pytest.raises(ValidationError) as error:
        schemas.Conversation.model_validate(body)
    assert "attributes.createdAt" in schemas.describe_validation_error(error.value)
