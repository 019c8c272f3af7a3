"""Pydantic models of every Attention payload that crosses the wire.

The models follow `docs/attention-api.md`: unknown fields are ignored (the API
adds fields over time), fields the dashboard relies on are required and typed, and
everything else has a harmless default so a sparse but valid payload still parses.
"""

from datetime import datetime
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

# A JSON value as Attention may send it for an intelligence item: usually a string, but
# numbers, booleans, lists and null must be shown faithfully and sent back unchanged.
type JsonValue = str | int | float | bool | list[Any] | dict[str, Any] | None


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class _RawPayload(_Payload):
    """A payload that keeps the JSON it was parsed from, to be stored as received
    (cheaper than dumping the model again, and faithful to fields we do not model)."""

    _raw: dict[str, Any] | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_raw(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        model = handler(data)
        if isinstance(data, dict):
            model._raw = data
        return model

    @property
    def raw(self) -> dict[str, Any]:
        if self._raw is None:
            return self.model_dump(mode="json", by_alias=True)
        return self._raw


class Person(_Payload):
    """A participant or attendee of a call."""

    id: str = ""
    email: str = ""
    name: str = ""
    organizer: bool = False
    status: str = ""


class NumericResult(_Payload):
    score: float | None = None
    min: float | None = None
    max: float | None = None


class ScorecardItem(_Payload):
    uuid: str = ""
    title: str = ""
    description: str = ""
    evidences: list[str] = Field(default_factory=list)
    numeric_result: NumericResult | None = Field(default=None, alias="numericResult")


class ScorecardSummary(_Payload):
    average_score: float | None = Field(default=None, alias="averageScore")
    min: float | None = None
    max: float | None = None
    summary_text: str = Field(default="", alias="summaryText")


class ScorecardResult(_Payload):
    uuid: str = ""
    title: str = ""
    items: list[ScorecardItem] = Field(default_factory=list)
    summary: ScorecardSummary | None = None


class CrmRecord(_Payload):
    """A CRM record linked to the conversation; `code` names the CRM object type."""

    id: str
    code: str = ""


class ExternalOpportunity(_Payload):
    uuid: str = ""
    title: str = ""


class IntelligenceItem(_RawPayload):
    """One piece of CRM intelligence, as extracted by the AI or as confirmed by a person."""

    id: str = Field(max_length=200)
    key: str = Field(max_length=200)
    title: str = ""
    value: JsonValue = None
    category: str = ""
    refreshing: bool = False
    options: list[JsonValue] | None = None
    source: str | None = None
    scope_insight: JsonValue = None


def _nulls_to_empty_lists(value: Any) -> Any:
    return [] if value is None else value


class ConversationAttributes(_Payload):
    uuid: str
    title: str
    created_at: datetime = Field(alias="createdAt")
    finished_at: datetime | None = Field(default=None, alias="finishedAt")
    media_duration: int | None = Field(default=None, alias="mediaDuration")
    user_uuid: str = Field(default="", alias="userUUID", max_length=64)
    team_uuid: str = Field(default="", alias="teamUUID")
    archived: bool = False
    private: bool = False
    is_internal: bool = Field(default=False, alias="isInternal")
    is_empty: bool = Field(default=False, alias="isEmpty")
    crm_export_status: str = Field(default="", alias="crmExportStatus")
    # Not documented by Attention: the sandbox's own field for why an export failed
    # (docs/attention-api.md). Read when present; anything but text reads as absent.
    crm_export_error: str = Field(default="", alias="crmExportError")
    transcript_status: str = Field(default="", alias="transcriptStatus")
    video_status: str = Field(default="", alias="videoStatus")
    import_status: str = Field(default="", alias="importStatus")
    participants: list[Person] = Field(default_factory=list)
    attendees: list[Person] = Field(default_factory=list)
    scorecard_results: list[ScorecardResult] = Field(default_factory=list, alias="scorecardResults")
    linked_crm_records: list[CrmRecord] = Field(default_factory=list, alias="linkedCrmRecords")
    external_accounts: list[CrmRecord] = Field(default_factory=list, alias="externalAccounts")
    external_contacts: list[CrmRecord] = Field(default_factory=list, alias="externalContacts")
    external_opportunity: ExternalOpportunity | None = Field(
        default=None, alias="externalOpportunity"
    )
    external_intelligence_opportunity_id: str = Field(
        default="", alias="externalIntelligenceOpportunityID"
    )
    extracted_intelligence: dict[str, IntelligenceItem] = Field(
        default_factory=dict, alias="extractedIntelligence"
    )
    confirmed_extracted_intelligence: dict[str, IntelligenceItem] = Field(
        default_factory=dict, alias="confirmedExtractedIntelligence"
    )
    labels: dict[str, Any] = Field(default_factory=dict)
    transcript: dict[str, Any] = Field(default_factory=dict)

    _empty_lists = field_validator(
        "participants",
        "attendees",
        "scorecard_results",
        "linked_crm_records",
        "external_accounts",
        "external_contacts",
        mode="before",
    )(_nulls_to_empty_lists)

    @field_validator(
        "extracted_intelligence", "confirmed_extracted_intelligence", "labels", mode="before"
    )
    @classmethod
    def _null_maps_are_empty(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("external_intelligence_opportunity_id", mode="before")
    @classmethod
    def _null_id_is_empty(cls, value: Any) -> Any:
        return "" if value is None else value

    @field_validator("crm_export_error", mode="before")
    @classmethod
    def _export_error_text(cls, value: Any) -> Any:
        return value if isinstance(value, str) else ""


class Conversation(_RawPayload):
    """The conversation resource, as returned bare by GET and by confirm."""

    type: str = "conversations"
    # Ids are stored whole (a cut id would name another conversation), so one longer
    # than the column breaks the contract instead of the database write.
    id: str = Field(max_length=64)
    attributes: ConversationAttributes
    links: dict[str, Any] = Field(default_factory=dict)


class ListMeta(_Payload):
    total_records: int = Field(alias="totalRecords", ge=0)


class ConversationList(_Payload):
    """One page of `GET /conversations/list`."""

    data: list[Conversation]
    links: dict[str, Any] = Field(default_factory=dict)
    meta: ListMeta


class ConfirmItem(_Payload):
    id: str
    key: str
    value: JsonValue
    title: str


class ConfirmRequest(_Payload):
    intelligence: list[ConfirmItem]
    opportunity_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The request body, leaving `opportunity_id` out when there is none."""
        return self.model_dump(mode="json", exclude_none=True)


class FieldConfigurationItem(_Payload):
    """A field definition (`GET /field-configurations/{id}/items`)."""

    uuid: str
    field_configuration_uuid: str = Field(default="", alias="fieldConfigurationUUID")
    title: str = ""
    category: str = ""
    contents: str = ""
    prompt_type: str = Field(default="", alias="promptType")
    content_type: str = Field(default="", alias="contentType")
    analysis_level: str = Field(default="", alias="analysisLevel")
    options: list[JsonValue] | None = None


def describe_validation_error(error: ValidationError) -> str:
    """Name the first field that broke the contract, for logs and the contract error."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(body)"
    return f"{where}: {first['msg']}"
