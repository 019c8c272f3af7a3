"""Pydantic models of every Attention payload that crosses the wire.

The models follow `docs/attention-api.md`: unknown fields are ignored (the API
adds fields over time), fields the dashboard relies on are required and typed, and
everything else has a harmless default so a sparse but valid payload still parses.
"""

import math
from collections.abc import Sequence
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


def _null_is_empty_text(value: Any) -> Any:
    """A null where text is expected reads as empty text."""
    return "" if value is None else value


def _null_is_false(value: Any) -> Any:
    return False if value is None else value


class Person(_Payload):
    """A participant or attendee of a call."""

    id: str = ""
    email: str = ""
    name: str = ""
    organizer: bool = False
    status: str = ""

    _texts = field_validator("id", "email", "name", "status", mode="before")(_null_is_empty_text)
    _flags = field_validator("organizer", mode="before")(_null_is_false)


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

    _texts = field_validator("uuid", "title", "description", mode="before")(_null_is_empty_text)

    @field_validator("evidences", mode="before")
    @classmethod
    def _evidences(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, list):
            return [entry for entry in value if isinstance(entry, str)]
        return value


class ScorecardSummary(_Payload):
    average_score: float | None = Field(default=None, alias="averageScore")
    min: float | None = None
    max: float | None = None
    summary_text: str = Field(default="", alias="summaryText")

    _texts = field_validator("summary_text", mode="before")(_null_is_empty_text)


class ScorecardResult(_Payload):
    uuid: str = ""
    title: str = ""
    items: list[ScorecardItem] = Field(default_factory=list)
    summary: ScorecardSummary | None = None

    _texts = field_validator("uuid", "title", mode="before")(_null_is_empty_text)

    @field_validator("items", mode="before")
    @classmethod
    def _null_items(cls, value: Any) -> Any:
        return [] if value is None else value


class CrmRecord(_Payload):
    """A CRM record linked to the conversation; `code` names the CRM object type."""

    id: str
    code: str = ""


class ExternalOpportunity(_Payload):
    uuid: str = ""
    title: str = ""

    _texts = field_validator("uuid", "title", mode="before")(_null_is_empty_text)


# Evidence and transcripts ---------------------------------------------------------------
# Attention documents neither evidence on items nor the detailed transcript's shape
# (docs/attention-api.md, "Transcript"): both are read leniently. An entry that cannot be
# used is dropped on its own; nothing here ever fails the item or the conversation.

# A quote longer than this is cut (no real quote comes close; a hostile one could).
QUOTE_LIMIT = 2000
# The most quotes read for one item, and segments and words for one transcript.
QUOTES_PER_ITEM = 20
TRANSCRIPT_SEGMENT_LIMIT = 5000
TRANSCRIPT_WORD_LIMIT = 100_000


def read_seconds(value: Any) -> float | None:
    """A moment of the call as sent: a number, or a number written as text. None for
    anything else (missing, a boolean, negative, not finite). The unit is open: what the
    number means is for the reader (`selectors.evidence`) to decide."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, int | float):
        return None
    seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def read_speaker(value: Any) -> tuple[str, str]:
    """(name, email) of a speaker sent as an object `{name, email}`, as one string (an
    email when it holds an @, else a name or an id), or not at all."""
    if isinstance(value, dict):
        name, email = value.get("name"), value.get("email")
        return (
            name.strip() if isinstance(name, str) else "",
            email.strip() if isinstance(email, str) else "",
        )
    if isinstance(value, str):
        text = value.strip()
        return ("", text) if "@" in text else (text, "")
    return "", ""


def resolve_speaker(name: str, email: str, participants: Sequence[Person]) -> tuple[str, str]:
    """The speaker completed from the call's participants: a name (or a participant's id)
    without an email gets the participant's email, an email without a name their name.
    Unmatched, or matched more than once, it stays as it was."""
    if name and email:
        return name, email
    if email:
        matches = [p for p in participants if p.email and p.email.lower() == email.lower()]
        return (matches[0].name or name, email) if len(matches) == 1 else (name, email)
    if not name:
        return name, email
    wanted = name.lower()
    matches = [
        p for p in participants if (p.name and p.name.lower() == wanted) or (p.id and p.id == name)
    ]
    if len(matches) != 1:
        return name, email
    return matches[0].name or name, matches[0].email


class EvidenceSpeaker(_Payload):
    name: str = ""
    email: str = ""

    _texts = field_validator("name", "email", mode="before")(_null_is_empty_text)


class EvidenceQuote(_Payload):
    """One quote an extracted value rests on: the sandbox's own `evidence` entries,
    `{quote, speaker: {name, email}, startTimestamp, endTimestamp}`. Read leniently: a
    speaker as an object, as one string or not at all; times as numbers or numeric text.

    Validated in one pass by pydantic's core (the sync reads every item of every call);
    the tidying (speaker split, times in order, long quotes cut) happens in `stored`,
    once per quote the sync keeps."""

    model_config = ConfigDict(str_strip_whitespace=True)

    quote: str = Field(min_length=1)
    speaker: EvidenceSpeaker | str | None = None
    start: float | None = Field(default=None, alias="startTimestamp", ge=0, allow_inf_nan=False)
    end: float | None = Field(default=None, alias="endTimestamp", ge=0, allow_inf_nan=False)

    @property
    def speaker_name_and_email(self) -> tuple[str, str]:
        speaker = self.speaker
        if isinstance(speaker, EvidenceSpeaker):
            return speaker.name.strip(), speaker.email.strip()
        return read_speaker(speaker)

    def stored(self, participants: Sequence[Person] = ()) -> dict[str, Any]:
        """The quote as `IntelligenceItem.evidence` keeps it, its speaker completed from
        the participants when it came half-named."""
        name, email = self.speaker_name_and_email
        if participants and not (name and email):
            name, email = resolve_speaker(name, email, participants)
        start = self.start
        end = None if start is None else max(self.end if self.end is not None else start, start)
        return {
            "quote": " ".join(self.quote.split())[:QUOTE_LIMIT],
            "speaker_name": name[:200],
            "speaker_email": email[:254],
            "start": start,
            "end": end,
        }


def _quote_or_none(entry: Any) -> EvidenceQuote | None:
    """One entry on its own: a quote; its text alone (speaker or times read as missing)
    when only they are unreadable; None when it has no quote text."""
    try:
        return EvidenceQuote.model_validate(entry)
    except ValidationError:
        pass
    if not isinstance(entry, dict):
        return None
    name, email = read_speaker(entry.get("speaker"))
    tidied = {
        "quote": entry.get("quote"),
        "speaker": {"name": name, "email": email},
        "startTimestamp": read_seconds(entry.get("startTimestamp")),
        "endTimestamp": read_seconds(entry.get("endTimestamp")),
    }
    try:
        return EvidenceQuote.model_validate(tidied)
    except ValidationError:
        return None


class IntelligenceItem(_RawPayload):
    """One piece of CRM intelligence, as extracted by the AI or as confirmed by a person."""

    id: str = Field(min_length=1, max_length=200)
    key: str = Field(min_length=1, max_length=200)
    title: str = ""
    value: JsonValue = None
    category: str = ""
    refreshing: bool = False
    options: list[JsonValue] | None = None
    # Undocumented in meaning and shape (a string in the examples, an object elsewhere):
    # kept raw, never relied on.
    source: JsonValue = None
    scope_insight: JsonValue = None
    # Not documented by Attention: the sandbox's quotes behind the value (see
    # `EvidenceQuote`). Junk entries are dropped; anything but a list reads as none.
    evidence: tuple[EvidenceQuote, ...] = ()

    _texts = field_validator("title", "category", mode="before")(_null_is_empty_text)
    _flags = field_validator("refreshing", mode="before")(_null_is_false)

    @field_validator("evidence", mode="wrap")
    @classmethod
    def _evidence(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """Every quote that can be read: a clean list in one pass, a list with junk
        entry by entry (the junk dropped); anything but a list reads as none."""
        if not isinstance(value, list):
            return ()
        value = value[:QUOTES_PER_ITEM]
        try:
            return handler(value)
        except ValidationError:
            quotes = (_quote_or_none(entry) for entry in value)
            return tuple(quote for quote in quotes if quote is not None)


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
    # Documented as an object; the detailed form may come as a bare list of segments. The
    # sync never reads it (the panel asks for it through `ConversationTranscript`), so no
    # shape of it sets a record aside: anything but an object or a list reads as empty.
    transcript: dict[str, Any] | list[Any] = Field(default_factory=dict)

    _texts = field_validator(
        "title",
        "user_uuid",
        "team_uuid",
        "crm_export_status",
        "transcript_status",
        "video_status",
        "import_status",
        mode="before",
    )(_null_is_empty_text)
    _flags = field_validator("archived", "private", "is_internal", "is_empty", mode="before")(
        _null_is_false
    )

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

    @field_validator("transcript", mode="before")
    @classmethod
    def _any_transcript(cls, value: Any) -> Any:
        return value if isinstance(value, dict | list) else {}

    @field_validator("external_intelligence_opportunity_id", mode="before")
    @classmethod
    def _null_id_is_empty(cls, value: Any) -> Any:
        return "" if value is None else value

    @field_validator("media_duration", mode="before")
    @classmethod
    def _whole_seconds(cls, value: Any) -> Any:
        """Seconds may come with a fraction (2700.5): stored to the second."""
        if isinstance(value, float) and math.isfinite(value):
            return round(value)
        return value

    # Entries of the intelligence maps are read one by one: an entry that is not an
    # item (a plain string, no id or key) is skipped with a reason, not the whole call.
    _extracted_reported: bool = PrivateAttr(default=True)
    _skipped_items: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _read_maps(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if not isinstance(data, dict):
            return handler(data)
        # Left out or null is "not reported"; an object, even empty, is what the AI says.
        reported = isinstance(data.get("extractedIntelligence"), dict)
        data = dict(data)
        skipped: list[str] = []
        for name in ("extractedIntelligence", "confirmedExtractedIntelligence"):
            data[name] = _readable_entries(name, data.get(name), skipped)
        model = handler(data)
        model._extracted_reported = reported
        model._skipped_items = tuple(skipped)
        return model

    @property
    def extracted_reported(self) -> bool:
        """False when the resource left `extractedIntelligence` out (or sent null): the
        list answer may omit the maps; that is "not reported", never "none"."""
        return self._extracted_reported

    @property
    def skipped_items(self) -> tuple[str, ...]:
        """Why entries of the maps were left out, one sentence each."""
        return self._skipped_items

    @field_validator("crm_export_error", mode="before")
    @classmethod
    def _export_error_text(cls, value: Any) -> Any:
        return value if isinstance(value, str) else ""


def _readable_entries(name: str, value: Any, skipped: list[str]) -> Any:
    """The map's entries that parse as items; the others are named in `skipped`."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        return value  # not a map at all: the contract is broken, the record set aside
    readable = {}
    for key, entry in value.items():
        try:
            IntelligenceItem.model_validate(entry)
        except ValidationError as error:
            skipped.append(f"{name}[{key!r}] skipped: {describe_validation_error(error)}")
            continue
        readable[key] = entry
    return readable


class Conversation(_RawPayload):
    """The conversation resource, as returned bare by GET and by confirm."""

    type: str = "conversations"
    # Ids are stored whole (a cut id would name another conversation), so one longer
    # than the column breaks the contract instead of the database write.
    id: str = Field(max_length=64)
    attributes: ConversationAttributes
    links: dict[str, Any] = Field(default_factory=dict)


class ListMeta(_Payload):
    total_records: int | None = Field(default=None, alias="totalRecords", ge=0)


class ListPage(_Payload):
    """One page of `GET /conversations/list`, its records left unparsed: each record is
    read on its own, so one that breaks the contract never costs the rest of its page."""

    data: list[Any] = Field(default_factory=list)
    meta: ListMeta | None = None

    @field_validator("data", mode="before")
    @classmethod
    def _null_data(cls, value: Any) -> Any:
        return [] if value is None else value

    @property
    def total_records(self) -> int | None:
        """The total the API reports, if it reports one (it may be wrong: a hint only)."""
        return self.meta.total_records if self.meta else None


class OrganizationUser(_Payload):
    """A user of the organisation (`GET /organizations/users`, reported, not documented):
    the API's own statement of which Attention user has which email."""

    uuid: str = Field(min_length=1, max_length=64)
    email: str = ""
    first_name: str = Field(default="", alias="firstName")
    last_name: str = Field(default="", alias="lastName")
    team_uuid: str = Field(default="", alias="teamUUID")

    _texts = field_validator("email", "first_name", "last_name", "team_uuid", mode="before")(
        _null_is_empty_text
    )


class UsersPage(ListPage):
    """One page of `GET /organizations/users`, read the same way: records unparsed."""


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


class TranscriptWord(_Payload):
    text: str
    start: float | None = None
    end: float | None = None


class TranscriptSegment(_Payload):
    """One turn of the detailed transcript: who spoke, when, and the words said."""

    speaker_name: str = ""
    speaker_email: str = ""
    start: float | None = None
    end: float | None = None
    text: str
    words: tuple[TranscriptWord, ...] = ()

    def stored(self) -> dict[str, Any]:
        """The segment as `Transcript.segments` keeps it."""
        return {
            "speaker_name": self.speaker_name,
            "speaker_email": self.speaker_email,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "words": [{"text": w.text, "start": w.start, "end": w.end} for w in self.words],
        }


def _read_word(entry: Any) -> TranscriptWord | None:
    """A word `{text, startTimestamp, endTimestamp}`, or a bare string (a word without
    times); None when it has no text."""
    if isinstance(entry, str):
        return TranscriptWord(text=" ".join(entry.split())) if entry.strip() else None
    if not isinstance(entry, dict):
        return None
    text = entry.get("text", entry.get("word"))
    if not isinstance(text, str) or not text.strip():
        return None
    start = read_seconds(entry.get("startTimestamp", entry.get("start")))
    end = read_seconds(entry.get("endTimestamp", entry.get("end")))
    if start is not None and (end is None or end < start):
        end = start
    return TranscriptWord(text=" ".join(text.split()), start=start, end=end)


def _read_segment(entry: Any, budget: list[int]) -> TranscriptSegment | None:
    """One segment, `{speaker, words: [{text, startTimestamp, endTimestamp}]}`, or a
    segment of text alone with its own times; None when it says nothing."""
    if not isinstance(entry, dict):
        return None
    raw_words = entry.get("words")
    words: list[TranscriptWord] = []
    if isinstance(raw_words, list):
        for raw in raw_words[: budget[0]]:
            word = _read_word(raw)
            if word is not None:
                words.append(word)
        budget[0] -= len(words)
    if words:
        text = " ".join(word.text for word in words)
    else:
        own_text = entry.get("text")
        text = " ".join(own_text.split()) if isinstance(own_text, str) else ""
    if not text:
        return None
    name, email = read_speaker(entry.get("speaker"))
    starts = [word.start for word in words if word.start is not None]
    ends = [word.end for word in words if word.end is not None]
    start = read_seconds(entry.get("startTimestamp"))
    end = read_seconds(entry.get("endTimestamp"))
    start = start if start is not None else (min(starts) if starts else None)
    end = end if end is not None else (max(ends) if ends else None)
    if start is not None and (end is None or end < start):
        end = start
    return TranscriptSegment(
        speaker_name=name[:200],
        speaker_email=email[:254],
        start=start,
        end=end,
        text=text,
        words=tuple(words),
    )


def read_transcript(value: Any) -> tuple[TranscriptSegment, ...]:
    """The segments of a detailed transcript, as a bare list or inside an object under
    `segments`; a segment that cannot be read is skipped, anything else reads as none."""
    if isinstance(value, dict):
        value = value.get("segments")
    if not isinstance(value, list):
        return ()
    budget = [TRANSCRIPT_WORD_LIMIT]
    segments = []
    for entry in value[:TRANSCRIPT_SEGMENT_LIMIT]:
        segment = _read_segment(entry, budget)
        if segment is not None:
            segments.append(segment)
    return tuple(segments)


def _readable_people(value: Any) -> tuple[Person, ...]:
    if not isinstance(value, list):
        return ()
    people = []
    for entry in value:
        try:
            people.append(Person.model_validate(entry))
        except ValidationError:
            continue
    return tuple(people)


class _TranscriptAttributes(_Payload):
    participants: tuple[Person, ...] = ()
    transcript: tuple[TranscriptSegment, ...] = ()

    @field_validator("participants", mode="wrap")
    @classmethod
    def _people(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        return _readable_people(value)

    @field_validator("transcript", mode="wrap")
    @classmethod
    def _segments(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        return read_transcript(value)


class ConversationTranscript(_Payload):
    """`GET /conversations/{id}?detailedTranscript=true`, read for its transcript only:
    the rest of the resource is the sync's business, so nothing else here can fail it."""

    id: str = Field(max_length=64)
    attributes: _TranscriptAttributes = Field(default_factory=_TranscriptAttributes)

    @property
    def segments(self) -> list[TranscriptSegment]:
        """The segments in the order sent, each speaker completed from the participants
        (a name or a participant's id gets its email, which tells the sides apart)."""
        people = self.attributes.participants
        segments = []
        for segment in self.attributes.transcript:
            name, email = segment.speaker_name, segment.speaker_email
            if not (name and email):
                name, email = resolve_speaker(name, email, people)
                segment = segment.model_copy(update={"speaker_name": name, "speaker_email": email})
            segments.append(segment)
        return segments


def describe_validation_error(error: ValidationError) -> str:
    """Name the first field that broke the contract, for logs and the contract error."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(body)"
    return f"{where}: {first['msg']}"
