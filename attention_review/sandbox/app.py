"""The Attention sandbox: a stdlib-only WSGI app speaking Attention API v2 over real HTTP.

It serves the deterministic demo data of `demo_data` with the behaviour
`docs/attention-api.md` fixes where Attention's documentation is silent, and it
can be told to misbehave (`Fault`) so tests exercise the client's retries, timeouts and
"outcome unknown" handling against real sockets rather than mocks.

`SandboxState` holds everything mutable (confirmations, scenarios, switches, faults,
counters) behind one lock, because the server answers requests on many threads at once.
`SandboxApp` is the HTTP layer. A local control API under `/_sandbox/` switches faults and
scenarios and reads counters when the sandbox runs as its own process
(`python -m attention_review.sandbox`).
"""

from __future__ import annotations

import bisect
import copy
import hashlib
import hmac
import html
import json
import logging
import re
import threading
import time
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from attention_review.demo import DEMO_ATTENTION_USERS, stable_uuid

from .demo_data import (
    DEFAULT_CONVERSATION_COUNT,
    DEFAULT_SEED,
    ConversationOutline,
    ReviewState,
    conversation_outline,
    generate_conversation,
    generate_transcript,
    typed_items,
)

logger = logging.getLogger(__name__)

DEFAULT_API_KEY = "sandbox-demo-key"
MAX_PAGE_SIZE = 50
MAX_BODY_BYTES = 1_000_000
# Detailed transcripts kept built (each a few hundred kilobytes of words at most).
_TRANSCRIPT_CACHE = 64

# Set in the WSGI environ when a `drop` fault fires: the server then closes the socket
# without writing a byte (a WSGI app cannot do that on its own).
DROP_CONNECTION = "attention_review.sandbox.drop_connection"

FAULT_KINDS = frozenset({"latency", "status", "drop", "malformed_json", "contract", "deep_json"})
# How a `status` fault writes its error body (see `Fault.body`).
ERROR_BODIES = frozenset({"detail", "message", "jsonapi", "text", "html", "empty"})

# Scenario switches (see `SandboxState`); the first of each is the default.
CONFIRM_ANSWERS = ("resource", "empty_maps", "no_content", "accepted_no_body", "created_no_body")
CONFIRM_STORES = ("as_sent", "numbers_as_strings", "trimmed", "other_value")
EXPORT_OUTCOMES = ("exported", "failed")
DEFAULT_EXPORT_ERROR = (
    "Salesforce rejected the update: FIELD_CUSTOM_VALIDATION_EXCEPTION, "
    "Close Date cannot be in the past"
)
# Appended by `confirm_stores = "other_value"` to the first posted value.
EDITED_BY_ATTENTION = " (edited by Attention)"
# `total_records_missing`: `False` (present), `field` (`meta` without `totalRecords`) or
# `meta` (no `meta` at all).
TOTAL_RECORDS_MISSING: tuple[bool | str, ...] = (False, "field", "meta")
# What `SandboxState.corrupt` can do to a served conversation (see `_corrupted`).
CORRUPTIONS = (
    "null_title",
    "null_category",
    "null_email",
    "null_user",
    "null_team",
    "source_object",
    "refreshing_null",
    "item_without_id",
    "item_without_key",
    "map_value_string",
    "float_duration",
    "evidences_null",
    "missing_created_at",
    "id_not_string",
)
# The corruptions that bend an extracted item: they need one to bend.
_ITEM_CORRUPTIONS = frozenset(
    {
        "null_category",
        "source_object",
        "refreshing_null",
        "item_without_id",
        "item_without_key",
        "map_value_string",
    }
)
# What `source_object` puts in place of an item's `source`.
SOURCE_OBJECT = {"type": "ai", "model": "sandbox-extractor", "quotes": []}
FLOAT_DURATION = 2700.5
_CONFIRM_ANSWER_STATUS = {
    "no_content": HTTPStatus.NO_CONTENT,
    "accepted_no_body": HTTPStatus.ACCEPTED,
    "created_no_body": HTTPStatus.CREATED,
}

# The sections of a resource `withCrmRecords=true` unlocks in list responses.
_CRM_MAPS = ("extractedIntelligence", "confirmedExtractedIntelligence")
_CRM_LISTS = ("linkedCrmRecords", "externalAccounts", "externalContacts")

# A body cut off mid-string, as a proxy or a crashed upstream might send it.
_MALFORMED_BODY = b'{"data": [{"type": "conversations", "id": "c0ffee", "attributes": {"title'
# Valid JSON nested far deeper than any parser's recursion allows.
DEEP_JSON_LEVELS = 100_000
_DEEP_BODY = b"[" * DEEP_JSON_LEVELS + b"]" * DEEP_JSON_LEVELS


@dataclass
class Fault:
    """One way for the sandbox to misbehave, for the next `times` matching requests.

    kind: `latency` (sleep `delay` seconds, then answer normally), `status` (answer
    `status` with an error body shaped by `body` and `Retry-After: retry_after` when
    given), `drop` (close the connection without answering), `malformed_json` (200 with
    invalid JSON), `contract` (200 with valid JSON in the wrong shape), `deep_json` (200
    with a JSON array nested `DEEP_JSON_LEVELS` deep).
    body (status faults): `detail` `{"detail": text}`, `message` `{"message": text}`,
    `jsonapi` `{"errors": [{"status", "title", "detail": text}]}`, `text` (text/plain),
    `html` (a text/html page) or `empty` (no body). `detail` replaces the default text
    `Sandbox fault: <reason phrase>`.
    A request matches when its path with query string contains `path_contains` and its
    method is `method` (either left None matches everything). `times=None` never expires.
    `apply_first` performs the real request (a confirm really is applied) and only then
    answers with the fault: the API acted, but the client cannot tell.
    `echo_key` (status faults only) makes the error text repeat the request's
    `Authorization` value and the bare key in it, as a careless API might.
    """

    kind: str
    times: int | None = 1
    path_contains: str | None = None
    method: str | None = None
    status: int | None = None
    retry_after: float | str | None = None
    delay: float = 0.0
    apply_first: bool = False
    body: str = "detail"
    detail: str | None = None
    echo_key: bool = False

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"Unknown fault kind {self.kind!r}; use one of {sorted(FAULT_KINDS)}")
        if self.body not in ERROR_BODIES:
            raise ValueError(f"Unknown error body {self.body!r}; use one of {sorted(ERROR_BODIES)}")
        if self.detail is not None and not isinstance(self.detail, str):
            raise ValueError("detail must be a string")
        if self.times is not None and (not isinstance(self.times, int) or self.times < 1):
            raise ValueError("times must be a positive integer or None (forever)")
        if self.kind == "status":
            if self.status is None:
                self.status = 500
            if not isinstance(self.status, int) or not 100 <= self.status <= 599:
                raise ValueError("status must be an HTTP status code")
        if not isinstance(self.delay, int | float) or self.delay < 0:
            raise ValueError("delay must be a non-negative number of seconds")
        if not isinstance(self.echo_key, bool):
            raise ValueError("echo_key must be true or false")
        if self.echo_key and self.kind != "status":
            raise ValueError("echo_key only applies to a 'status' fault")
        if self.method is not None:
            self.method = self.method.upper()

    @classmethod
    def from_json(cls, spec: Any) -> Fault:
        """A fault from a control-API body, refusing fields it does not know."""
        if not isinstance(spec, dict):
            raise ValueError("A fault must be a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(spec) - known)
        if unknown:
            raise ValueError(f"Unknown fault fields: {', '.join(unknown)}")
        if "kind" not in spec:
            raise ValueError("A fault needs a 'kind'")
        try:
            return cls(**spec)
        except TypeError as error:
            raise ValueError(str(error)) from None

    def matches(self, method: str, target: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.path_contains is None or self.path_contains in target

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ListQuery:
    """The parsed query of `GET /conversations/list`."""

    page: int = 1
    size: int = MAX_PAGE_SIZE
    from_ts: float | None = None
    to_ts: float | None = None
    owner_email: str | None = None
    owner_id: str | None = None
    team_id: str | None = None
    hide_internal: bool = False
    hide_non_analyzed: bool = False
    with_crm_records: bool = False
    detailed_transcript: bool = False

    def filter_key(self) -> tuple[Any, ...]:
        """Everything that selects conversations (not paging or projection)."""
        return (
            self.from_ts,
            self.to_ts,
            self.owner_email,
            self.owner_id,
            self.team_id,
            self.hide_internal,
            self.hide_non_analyzed,
        )


@dataclass(frozen=True)
class ListPage:
    """One list page as served: its rows, the true number of matches, and the page
    number and size actually used (after `ignore_page` and `page_size_cap`)."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    size: int


class ConfirmRejected(ValueError):
    """The confirm body names something the conversation does not have (answered 400)."""


@dataclass(frozen=True)
class _Export:
    """The CRM export a confirm started: final once `delay` seconds have passed."""

    started: float  # time.monotonic() of the confirm
    delay: float
    outcome: str
    error: str


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return str(value)


def _seconds(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValueError(f"{name} must be a non-negative number of seconds")
    if value == float("inf"):
        raise ValueError(f"{name} must be finite")
    return float(value)


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false; got {value!r}")
    return value


def _integer(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer; got {value!r}")
    return value


def _page_number(name: str, value: Any) -> int | None:
    """None, or an integer of at least 1."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be null or an integer of at least 1; got {value!r}")
    return value


def _text(name: str, value: Any, *, empty: bool = True) -> str:
    if not isinstance(value, str) or (not empty and not value):
        raise ValueError(f"{name} must be a {'' if empty else 'non-empty '}string")
    return value


def _bare_key(header: str | None) -> str:
    """The key in an `Authorization` value: `Bearer <key>` (any case) or the raw key."""
    value = (header or "").strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer" and rest:
        return rest.strip()
    return value


def _split_name(name: str) -> tuple[str, str]:
    """`Dana Whitfield` -> (`Dana`, `Whitfield`): the first word, then the rest."""
    first, _, last = name.strip().partition(" ")
    return first, last.strip()


def _demo_users() -> list[dict[str, Any]]:
    """The demo Attention users in the shape `GET /v2/organizations/users` serves."""
    users = []
    for user in DEMO_ATTENTION_USERS:
        first, last = _split_name(user.name)
        users.append(
            {
                "uuid": user.uuid,
                "email": user.email,
                "firstName": first,
                "lastName": last,
                "teamUUID": user.team_uuid,
            }
        )
    return users


class SandboxState:
    """The sandbox's data, faults and counters; safe to share between request threads.

    Conversations are generated on first use and kept in a bounded cache of pristine
    resources, so 100,000 of them cost memory only for what is being served. A confirm
    never edits a cached resource: it stores an updated copy in `_overrides`, so a thread
    serialising the old one is never disturbed and `reset()` only has to drop overrides.
    The scenario methods (`reextract`, `confirm_outside`, `add_typed_items`) store their
    changes the same way; `corrupt` and `delete_conversation` are applied when a resource
    is served, and `add_user` adds to `GET /v2/organizations/users`. Detailed transcripts
    (`detailedTranscript=true`) are built on demand from the generated data and kept in a
    small cache of their own; nothing a scenario does changes them.

    Scenario switches (`SETTINGS`), each back to its default on `reset()`:

    * `confirm_answer`: how a confirm that was applied is answered (`CONFIRM_ANSWERS`);
    * `confirm_stores`: what a confirm stores of the posted values (`CONFIRM_STORES`);
    * `export_delay`, `export_outcome`, `export_error`: a confirm sets `crmExportStatus`
      to `pending`; once `export_delay` seconds have passed it reads `export_outcome`,
      with `crmExportError` holding `export_error` when that outcome is `failed`;
    * the list's paging and envelope: `page_size_cap`, `ignore_page`,
      `total_records_offset`, `total_records_missing`, `empty_page_at`,
      `omit_maps_in_list`, `filter_owner_email_ignored`;
    * `users_endpoint_missing`: `GET /v2/organizations/users` answers 404;
    * `latency_seconds`: every `/v2` request waits that long before it is answered.
    """

    def __init__(
        self,
        seed: int = DEFAULT_SEED,
        conversation_count: int = DEFAULT_CONVERSATION_COUNT,
        api_key: str = DEFAULT_API_KEY,
        *,
        cache_size: int = 5000,
        export_delay: float = 0.0,
    ) -> None:
        if not api_key:
            raise ValueError("The sandbox needs a non-empty API key")
        if conversation_count < 0:
            raise ValueError("conversation_count cannot be negative")
        self._default_export_delay = _seconds("export_delay", export_delay)
        self.seed = seed
        self.conversation_count = conversation_count
        self._api_key = api_key
        self._cache_size = cache_size
        self._lock = threading.RLock()
        # Outlines are immutable and cheap; built once, on first use.
        self._outlines: list[ConversationOutline] | None = None
        self._created: list[int] = []
        self._index_by_id: dict[str, int] = {}
        self._cache: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._transcripts: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._matches: OrderedDict[tuple[Any, ...], list[int]] = OrderedDict()
        self._overrides: dict[int, dict[str, Any]] = {}
        self._extra_count = 0
        self._faults: list[Fault] = []
        self._requests: Counter[tuple[str, str]] = Counter()
        self.confirm_calls: Counter[str] = Counter()
        self.applied_confirms: Counter[str] = Counter()
        self.confirm_bodies: defaultdict[str, list[Any]] = defaultdict(list)
        self._exports: dict[int, _Export] = {}
        # Served bent (`corrupt`) or gone (`delete_conversation`), by index.
        self._corruptions: dict[int, list[str]] = {}
        self._deleted: set[int] = set()
        self._users_extra: list[dict[str, Any]] = []
        self._confirm_answer = CONFIRM_ANSWERS[0]
        self._confirm_stores = CONFIRM_STORES[0]
        self._export_delay = self._default_export_delay
        self._export_outcome = EXPORT_OUTCOMES[0]
        self._export_error = DEFAULT_EXPORT_ERROR
        self._page_size_cap: int | None = None
        self._ignore_page = False
        self._total_records_offset = 0
        self._total_records_missing: bool | str = False
        self._empty_page_at: int | None = None
        self._omit_maps_in_list = False
        self._filter_owner_email_ignored = False
        self._users_endpoint_missing = False
        self._latency_seconds = 0.0

    def __repr__(self) -> str:
        # Never the key: a repr ends up in tracebacks and test reports.
        return f"<SandboxState seed={self.seed} conversations={self.conversation_count}>"

    # Housekeeping --------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the generated data, with no faults and zeroed counters."""
        with self._lock:
            if self._extra_count:
                # Added conversations live only in the outlines: rebuild without them.
                self._outlines = None
                self._matches.clear()
                self._extra_count = 0
            self._overrides.clear()
            self._exports.clear()
            self._faults.clear()
            self._requests.clear()
            self.confirm_calls.clear()
            self.applied_confirms.clear()
            self.confirm_bodies.clear()
            self._corruptions.clear()
            self._deleted.clear()
            self._users_extra.clear()
            self._confirm_answer = CONFIRM_ANSWERS[0]
            self._confirm_stores = CONFIRM_STORES[0]
            self._export_delay = self._default_export_delay
            self._export_outcome = EXPORT_OUTCOMES[0]
            self._export_error = DEFAULT_EXPORT_ERROR
            self._page_size_cap = None
            self._ignore_page = False
            self._total_records_offset = 0
            self._total_records_missing = False
            self._empty_page_at = None
            self._omit_maps_in_list = False
            self._filter_owner_email_ignored = False
            self._users_endpoint_missing = False
            self._latency_seconds = 0.0

    def is_authorized(self, header: str | None) -> bool:
        """`Bearer <key>` or the raw key, compared in constant time."""
        if not header:
            return False
        return hmac.compare_digest(_bare_key(header).encode(), self._api_key.encode())

    # Scenario switches ---------------------------------------------------------------

    @property
    def confirm_answer(self) -> str:
        """`resource` (200 with the resource), `empty_maps` (200 with both intelligence
        maps `{}`, like the documented example), `no_content` (204), `accepted_no_body`
        (202, empty) or `created_no_body` (201, empty). The confirm is applied in each."""
        return self._confirm_answer

    @confirm_answer.setter
    def confirm_answer(self, value: str) -> None:
        self._confirm_answer = _choice("confirm_answer", value, CONFIRM_ANSWERS)

    @property
    def confirm_stores(self) -> str:
        """`as_sent`, `numbers_as_strings` (a posted number is stored as its text),
        `trimmed` (a posted string is stored without surrounding whitespace) or
        `other_value` (the first posted item stores another value: its text with
        `EDITED_BY_ATTENTION` appended)."""
        return self._confirm_stores

    @confirm_stores.setter
    def confirm_stores(self, value: str) -> None:
        self._confirm_stores = _choice("confirm_stores", value, CONFIRM_STORES)

    @property
    def export_delay(self) -> float:
        """Seconds from a confirm until its export is final; 0 means at once."""
        return self._export_delay

    @export_delay.setter
    def export_delay(self, value: float) -> None:
        self._export_delay = _seconds("export_delay", value)

    @property
    def export_outcome(self) -> str:
        """What `crmExportStatus` becomes when an export is final: `exported` or `failed`."""
        return self._export_outcome

    @export_outcome.setter
    def export_outcome(self, value: str) -> None:
        self._export_outcome = _choice("export_outcome", value, EXPORT_OUTCOMES)

    @property
    def export_error(self) -> str:
        """The reason a failed export gives, served as `crmExportError`."""
        return self._export_error

    @export_error.setter
    def export_error(self, value: str) -> None:
        if not isinstance(value, str):
            raise ValueError("export_error must be a string")
        self._export_error = value

    @property
    def page_size_cap(self) -> int | None:
        """The most rows a list page carries, whatever `size` asks; None: no cap."""
        return self._page_size_cap

    @page_size_cap.setter
    def page_size_cap(self, value: int | None) -> None:
        self._page_size_cap = _page_number("page_size_cap", value)

    @property
    def ignore_page(self) -> bool:
        """The list ignores `page` and always serves the first page."""
        return self._ignore_page

    @ignore_page.setter
    def ignore_page(self, value: bool) -> None:
        self._ignore_page = _flag("ignore_page", value)

    @property
    def total_records_offset(self) -> int:
        """Added to the list's `meta.totalRecords` (negative: an undercount)."""
        return self._total_records_offset

    @total_records_offset.setter
    def total_records_offset(self, value: int) -> None:
        self._total_records_offset = _integer("total_records_offset", value)

    @property
    def total_records_missing(self) -> bool | str:
        """`False` (sent), `field` (`meta` is `{}`) or `meta` (no `meta` at all)."""
        return self._total_records_missing

    @total_records_missing.setter
    def total_records_missing(self, value: bool | str) -> None:
        if not (value is False or (isinstance(value, str) and value in TOTAL_RECORDS_MISSING)):
            raise ValueError(f"total_records_missing must be false, field or meta; got {value!r}")
        self._total_records_missing = value

    @property
    def empty_page_at(self) -> int | None:
        """The list page number answered with `data: []` although later pages have rows."""
        return self._empty_page_at

    @empty_page_at.setter
    def empty_page_at(self, value: int | None) -> None:
        self._empty_page_at = _page_number("empty_page_at", value)

    @property
    def omit_maps_in_list(self) -> bool:
        """List records carry neither intelligence map, even with `withCrmRecords=true`."""
        return self._omit_maps_in_list

    @omit_maps_in_list.setter
    def omit_maps_in_list(self, value: bool) -> None:
        self._omit_maps_in_list = _flag("omit_maps_in_list", value)

    @property
    def filter_owner_email_ignored(self) -> bool:
        """The list ignores `filter[owner.email]`: every owner's calls come back."""
        return self._filter_owner_email_ignored

    @filter_owner_email_ignored.setter
    def filter_owner_email_ignored(self, value: bool) -> None:
        self._filter_owner_email_ignored = _flag("filter_owner_email_ignored", value)

    @property
    def users_endpoint_missing(self) -> bool:
        """`GET /v2/organizations/users` answers 404, as an Attention without it would."""
        return self._users_endpoint_missing

    @users_endpoint_missing.setter
    def users_endpoint_missing(self, value: bool) -> None:
        self._users_endpoint_missing = _flag("users_endpoint_missing", value)

    @property
    def latency_seconds(self) -> float:
        """How long every `/v2` request waits before it is answered; 0: no wait."""
        return self._latency_seconds

    @latency_seconds.setter
    def latency_seconds(self, value: float) -> None:
        self._latency_seconds = _seconds("latency_seconds", value)

    SETTINGS = (
        "confirm_answer",
        "confirm_stores",
        "export_delay",
        "export_outcome",
        "export_error",
        "page_size_cap",
        "ignore_page",
        "total_records_offset",
        "total_records_missing",
        "empty_page_at",
        "omit_maps_in_list",
        "filter_owner_email_ignored",
        "users_endpoint_missing",
        "latency_seconds",
    )

    def settings(self) -> dict[str, Any]:
        """The scenario switches, as the control API shows them."""
        with self._lock:
            return {name: getattr(self, name) for name in self.SETTINGS}

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Set several switches at once, all or none (ValueError names the bad one)."""
        unknown = sorted(set(changes) - set(self.SETTINGS))
        if unknown:
            raise ValueError(f"Unknown settings: {', '.join(unknown)}")
        with self._lock:
            before = self.settings()
            try:
                for name, value in changes.items():
                    setattr(self, name, value)
            except ValueError:
                for name, value in before.items():
                    setattr(self, name, value)
                raise
            return self.settings()

    # Faults --------------------------------------------------------------------------

    @property
    def faults(self) -> list[Fault]:
        """A snapshot of the pending faults, in the order they are consumed."""
        with self._lock:
            return list(self._faults)

    def add_fault(self, fault: Fault | None = None, /, **spec: Any) -> Fault:
        """Queue a fault: `add_fault(Fault(...))` or `add_fault(kind="status", status=503)`."""
        if fault is None:
            fault = Fault(**spec)
        elif spec:
            raise TypeError("Pass either a Fault or its fields, not both")
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def take_fault(self, method: str, target: str) -> Fault | None:
        """The first pending fault matching this request, counting one use of it."""
        with self._lock:
            for position, fault in enumerate(self._faults):
                if not fault.matches(method, target):
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times == 0:
                        del self._faults[position]
                return fault
        return None

    # Counters ------------------------------------------------------------------------

    def record_request(self, method: str, target: str) -> None:
        with self._lock:
            self._requests[(method, target)] += 1

    def request_count(self, path_contains: str | None = None, method: str | None = None) -> int:
        """How many API requests (path with query string) contained `path_contains`."""
        with self._lock:
            return sum(
                number
                for (seen_method, target), number in self._requests.items()
                if (method is None or seen_method == method.upper())
                and (path_contains is None or path_contains in target)
            )

    def record_confirm_call(self, conversation_id: str, body: Any) -> None:
        with self._lock:
            self.confirm_calls[conversation_id] += 1
            self.confirm_bodies[conversation_id].append(body)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.request_count(),
                "confirm_calls": dict(self.confirm_calls),
                "applied_confirms": dict(self.applied_confirms),
                "pending_faults": len(self._faults),
            }

    # Data ----------------------------------------------------------------------------

    @property
    def outlines(self) -> list[ConversationOutline]:
        """Every conversation's outline, ordered by `(createdAt, id)`."""
        return self._ensure_outlines()

    def _ensure_outlines(self) -> list[ConversationOutline]:
        if self._outlines is None:
            with self._lock:
                if self._outlines is None:
                    outlines = [
                        conversation_outline(index, self.seed, self.conversation_count)
                        for index in range(self.conversation_count)
                    ]
                    self._created = [outline.created_ts for outline in outlines]
                    self._index_by_id = {outline.id: outline.index for outline in outlines}
                    self._outlines = outlines
        return self._outlines

    def conversation(
        self, conversation_id: str, *, detailed_transcript: bool = False
    ) -> dict[str, Any] | None:
        """The current resource (with any confirmation applied), or None if unknown. With
        `detailed_transcript`, its `transcript` is the detailed one (`detailedTranscript=true`).

        The returned dict is shared: treat it as read-only.
        """
        index = self._index_of(conversation_id)
        if index is None:
            return None
        return self._served(index, detailed_transcript=detailed_transcript)

    def transcript(self, conversation_id: str) -> Any:
        """What `detailedTranscript=true` serves as the conversation's `transcript`, or
        None if the conversation is unknown (or is an added one without a `transcript`).
        A demo conversation's is `{"segments": [...]}` (`demo_data.generate_transcript`),
        whatever scenarios did to it since; an added one's is its own, as given.

        The returned dict is shared: treat it as read-only.
        """
        index = self._index_of(conversation_id)
        if index is None:
            return None
        if index >= self.conversation_count:
            return self._resource(index)["attributes"].get("transcript")
        return self._transcript(index)

    def _transcript(self, index: int) -> dict[str, Any]:
        """The detailed transcript of demo conversation `index`, built or cached."""
        with self._lock:
            cached = self._transcripts.get(index)
            if cached is not None:
                self._transcripts.move_to_end(index)
                return cached
        # Built outside the lock, like a resource: a transcript is far dearer to build.
        transcript = generate_transcript(index, self.seed, self.conversation_count)
        with self._lock:
            self._transcripts[index] = transcript
            while len(self._transcripts) > _TRANSCRIPT_CACHE:
                self._transcripts.popitem(last=False)
        return transcript

    def _served(self, index: int, *, detailed_transcript: bool = False) -> dict[str, Any]:
        """The resource as served now: with the export status of its latest confirm, bent
        by any `corrupt` of it, and with the detailed transcript when asked for."""
        resource = self._resource(index)
        with self._lock:
            export = self._exports.get(index)
            corruptions = list(self._corruptions.get(index, ()))
        if export is not None:
            final = time.monotonic() - export.started >= export.delay
            status = export.outcome if final else "pending"
            attributes = dict(resource["attributes"])
            attributes["crmExportStatus"] = status
            attributes["crmExportError"] = export.error if status == "failed" else ""
            resource = {**resource, "attributes": attributes}
        if corruptions:
            resource = _corrupted(resource, corruptions)
        if detailed_transcript and index < self.conversation_count:
            # An added conversation keeps its own `transcript`, as given. After
            # `_corrupted`, which deep-copies: the transcript is shared, not copied.
            attributes = {**resource["attributes"], "transcript": self._transcript(index)}
            resource = {**resource, "attributes": attributes}
        return resource

    def add_conversation(self, resource: dict[str, Any]) -> None:
        """Serve one more conversation, given whole (a documented example, say), until
        `reset()`. Its owner is the demo user whose uuid is its `userUUID`."""
        outlines = self._ensure_outlines()
        attributes = resource["attributes"]
        owner = next(
            (
                position
                for position, user in enumerate(DEMO_ATTENTION_USERS)
                if user.uuid == attributes.get("userUUID")
            ),
            0,
        )
        created = datetime.fromisoformat(attributes["createdAt"].replace("Z", "+00:00"))
        with self._lock:
            index = self.conversation_count + self._extra_count
            self._extra_count += 1
            outline = ConversationOutline(
                index=index,
                id=resource["id"],
                created_ts=int(created.timestamp()),
                owner=owner,
                state=ReviewState.INTERNAL
                if attributes.get("isInternal")
                else ReviewState.AWAITING,
            )
            position = bisect.bisect_right(self._created, outline.created_ts)
            outlines.insert(position, outline)
            self._created.insert(position, outline.created_ts)
            self._index_by_id[outline.id] = index
            self._overrides[index] = copy.deepcopy(resource)
            self._matches.clear()

    def _index_of(self, conversation_id: str) -> int | None:
        """The conversation's index; None when it is unknown or deleted."""
        self._ensure_outlines()  # builds the id index too
        index = self._index_by_id.get(conversation_id)
        return None if index is None or index in self._deleted else index

    def _resource(self, index: int) -> dict[str, Any]:
        with self._lock:
            override = self._overrides.get(index)
            if override is not None:
                return override
            cached = self._cache.get(index)
            if cached is not None:
                self._cache.move_to_end(index)
                return cached
        # Built outside the lock so concurrent pages are not serialised behind it.
        resource = generate_conversation(index, self.seed, self.conversation_count)
        with self._lock:
            self._cache[index] = resource
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return resource

    def list_conversations(self, query: ListQuery) -> tuple[list[dict[str, Any]], int]:
        """`(the page's resources, total matching)` in `(createdAt, id)` order."""
        page = self.list_page(query)
        return page.rows, page.total

    def list_page(self, query: ListQuery) -> ListPage:
        """The page the list serves for `query`, bent by the list switches: `page_size_cap`
        and `ignore_page` pick the rows, `empty_page_at` empties one page,
        `omit_maps_in_list` drops the intelligence maps. `total` is the true count."""
        with self._lock:
            cap, ignore_page = self._page_size_cap, self._ignore_page
            empty_page_at, omit_maps = self._empty_page_at, self._omit_maps_in_list
            deleted = set(self._deleted)
            if self._filter_owner_email_ignored:
                query = replace(query, owner_email=None)
        matching = self._matching(query)
        if deleted:
            matching = [index for index in matching if index not in deleted]
        number = 1 if ignore_page else query.page
        size = query.size if cap is None else min(query.size, cap)
        if number == empty_page_at:
            rows: list[dict[str, Any]] = []
        else:
            start = (number - 1) * size
            rows = [
                self._served(index, detailed_transcript=query.detailed_transcript)
                for index in matching[start : start + size]
            ]
        if not query.with_crm_records:
            rows = [_without_crm_records(resource) for resource in rows]
        if omit_maps:
            rows = [_without_maps(resource) for resource in rows]
        return ListPage(rows=rows, total=len(matching), page=number, size=size)

    def list_envelope(self, query: ListQuery) -> dict[str, Any]:
        """The list's whole answer: `data`, `links` and `meta.totalRecords`, with
        `total_records_offset` and `total_records_missing` applied."""
        page = self.list_page(query)
        with self._lock:
            offset, missing = self._total_records_offset, self._total_records_missing
        base = "/v2/conversations/list"
        envelope: dict[str, Any] = {
            "data": page.rows,
            "links": {
                "self": f"{base}?page={page.page}&size={page.size}",
                "related": f"{base}?page={page.page + 1}&size={page.size}",
            },
        }
        if missing == "field":
            envelope["meta"] = {}
        elif missing != "meta":
            envelope["meta"] = {"totalRecords": page.total + offset}
        return envelope

    def _matching(self, query: ListQuery) -> list[int]:
        """Indexes of the conversations the filters select, cached per filter set.

        A sync asks the same filters for page after page: without the cache each page
        would rescan every outline (100,000 of them in the benchmark). Nothing a filter
        reads changes after generation, so cached answers never go stale.
        """
        outlines = self.outlines
        key = query.filter_key()
        with self._lock:
            cached = self._matches.get(key)
            if cached is not None:
                self._matches.move_to_end(key)
                return cached
        # createdAt increases with the index, so the time window is one slice.
        low = 0 if query.from_ts is None else bisect.bisect_left(self._created, query.from_ts)
        high = len(outlines)
        if query.to_ts is not None:
            high = bisect.bisect_left(self._created, query.to_ts)
        owners = _owners(query)
        selected = [
            outline.index
            for outline in outlines[low:high]
            if (owners is None or outline.owner in owners)
            and not (query.hide_internal and outline.internal)
            and not (query.hide_non_analyzed and not outline.analyzed)
        ]
        with self._lock:
            self._matches[key] = selected
            while len(self._matches) > 32:
                self._matches.popitem(last=False)
        return selected

    def confirm(
        self, conversation_id: str, items: list[dict[str, Any]], opportunity_id: str | None
    ) -> dict[str, Any]:
        """Apply a confirmation and return the updated resource.

        Posted items replace the confirmed entry of the same extracted item (matched by
        `id`, stored under that item's `key`); items not posted keep their confirmed state.
        All or nothing: one unknown id rejects the whole body.
        Raises KeyError for an unknown conversation, ConfirmRejected for a bad item.
        """
        index = self._index_of(conversation_id)
        if index is None:
            raise KeyError(conversation_id)
        with self._lock:
            resource = copy.deepcopy(self._resource(index))
            attributes = resource["attributes"]
            extracted_by_id = {
                entry.get("id"): entry for entry in attributes["extractedIntelligence"].values()
            }
            for position, item in enumerate(items):
                if item["id"] not in extracted_by_id:
                    raise ConfirmRejected(
                        f"intelligence[{position}]: this conversation has no extracted "
                        f"intelligence item with id {item['id']!r}"
                    )
            confirmed = attributes["confirmedExtractedIntelligence"]
            for position, item in enumerate(items):
                entry = copy.deepcopy(extracted_by_id[item["id"]])
                if "value" in item:
                    entry["value"] = self._stored_value(item["value"], first=position == 0)
                if isinstance(item.get("title"), str):
                    entry["title"] = item["title"]
                confirmed[entry["key"]] = entry
            # Final only when read after `export_delay` (see `_served`).
            attributes["crmExportStatus"] = "pending"
            attributes["crmExportError"] = ""
            if opportunity_id is not None:
                attributes["externalIntelligenceOpportunityID"] = opportunity_id
            self._overrides[index] = resource
            self._exports[index] = _Export(
                started=time.monotonic(),
                delay=self._export_delay,
                outcome=self._export_outcome,
                error=self._export_error,
            )
            self.applied_confirms[conversation_id] += 1
        return self._served(index)

    def _stored_value(self, value: Any, *, first: bool) -> Any:
        """What the confirm stores of a posted value, by `confirm_stores`."""
        mode = self._confirm_stores
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if mode == "numbers_as_strings" and number:
            return json.dumps(value)
        if mode == "trimmed" and isinstance(value, str):
            return value.strip()
        if mode == "other_value" and first:
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            return text + EDITED_BY_ATTENTION
        return copy.deepcopy(value)

    # Scenarios -----------------------------------------------------------------------

    def reextract(
        self,
        conversation_id: str,
        *,
        change: Mapping[str, Any] | None = None,
        add: Iterable[Mapping[str, Any]] | None = None,
        withdraw: Iterable[str] | None = None,
    ) -> dict[str, Any]:
        """The AI extracts the conversation again: `change` gives extracted items new
        values (by key), `add` adds items, `withdraw` removes items (by key). Served until
        `reset()`; the confirmed map is left as it is. All or nothing: raises KeyError for
        an unknown conversation, ValueError for a key that is missing or already there.

        A changed item keeps its id and its `evidence` and is no longer `refreshing`. An
        added item needs a `key`; the other fields default to a `CRM` item with a new id,
        a title made from the key, `value` null, no options and no evidence
        (`evidence: []`; an `evidence` given must be a list and is served as given, not
        checked against the transcript). Withdrawals apply first, then changes, then
        additions (so one call can replace an item, with new evidence, by withdrawing
        and adding it).
        """
        changes = dict(change or {})
        additions = list(add or [])
        if not all(isinstance(item, Mapping) for item in additions):
            raise ValueError("add: every item must be an object")
        withdrawals = list(withdraw or [])
        index = self._require(conversation_id)
        with self._lock:
            resource = copy.deepcopy(self._resource(index))
            extracted: dict[str, Any] = resource["attributes"]["extractedIntelligence"]
            for key in withdrawals:
                if key not in extracted:
                    raise ValueError(f"withdraw: no extracted item with key {key!r}")
                del extracted[key]
            for key, value in changes.items():
                if key not in extracted:
                    raise ValueError(f"change: no extracted item with key {key!r}")
                extracted[key]["value"] = copy.deepcopy(value)
                extracted[key]["refreshing"] = False
            for item in additions:
                entry = self._new_item(conversation_id, item, extracted)
                extracted[entry["key"]] = entry
            self._overrides[index] = resource
        return self._served(index)

    def confirm_outside(self, conversation_id: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """A person confirms values in Attention itself, not through the API:
        `confirmedExtractedIntelligence[key]` becomes a copy of the extracted item with
        `value`. Not counted as a confirm call; the export status is left as it is.
        Raises KeyError for an unknown conversation, ValueError for an unknown key."""
        index = self._require(conversation_id)
        with self._lock:
            resource = copy.deepcopy(self._resource(index))
            attributes = resource["attributes"]
            extracted = attributes["extractedIntelligence"]
            unknown = [key for key in values if key not in extracted]
            if unknown:
                raise ValueError(f"no extracted item with key {unknown[0]!r}")
            for key, value in values.items():
                attributes["confirmedExtractedIntelligence"][key] = {
                    **copy.deepcopy(extracted[key]),
                    "value": copy.deepcopy(value),
                }
            self._overrides[index] = resource
        return self._served(index)

    def add_typed_items(self, conversation_id: str) -> dict[str, Any]:
        """Extract the items of `demo_data.typed_items()` (lists, objects, a big integer,
        a float, an amount, a date, `{label, value}` and list-valued picklists), without
        evidence. An item already extracted under the same key is replaced in place,
        keeping its id (not its evidence)."""
        index = self._require(conversation_id)
        with self._lock:
            resource = copy.deepcopy(self._resource(index))
            extracted: dict[str, Any] = resource["attributes"]["extractedIntelligence"]
            for item in typed_items():
                current = extracted.get(item["key"])
                if current is not None:
                    item["id"] = current["id"]
                extracted[item["key"]] = self._new_item(
                    conversation_id, item, extracted, replace=True
                )
            self._overrides[index] = resource
        return self._served(index)

    def corrupt(self, conversation_id: str, kind: str) -> dict[str, Any]:
        """Serve this conversation (GET, list and a confirm's answer) bent in one way,
        `kind` (one of `CORRUPTIONS`), until `reset()`; kinds add up. Returns the resource
        as now served. Raises KeyError for an unknown conversation, ValueError for an
        unknown kind, or for one that needs what the conversation lacks (an extracted
        item, a participant)."""
        if kind not in CORRUPTIONS:
            raise ValueError(f"Unknown corruption {kind!r}; use one of {', '.join(CORRUPTIONS)}")
        index = self._require(conversation_id)
        with self._lock:
            attributes = self._resource(index)["attributes"]
            if kind in _ITEM_CORRUPTIONS and not attributes.get("extractedIntelligence"):
                raise ValueError(f"{kind}: this conversation has no extracted intelligence")
            if kind == "null_email" and not attributes.get("participants"):
                raise ValueError("null_email: this conversation has no participants")
            kinds = self._corruptions.setdefault(index, [])
            if kind not in kinds:
                kinds.append(kind)
        return self._served(index)

    def delete_conversation(self, conversation_id: str) -> None:
        """The conversation is deleted in Attention until `reset()`: the list leaves it out
        (and counts it no more), GET and confirm answer 404, scenarios raise KeyError.
        Raises KeyError for an unknown (or already deleted) conversation."""
        index = self._require(conversation_id)
        with self._lock:
            self._deleted.add(index)

    def add_user(
        self,
        uuid: str,
        email: str,
        first_name: str,
        last_name: str,
        team_uuid: str | None,
    ) -> dict[str, Any]:
        """Serve one more user from `GET /v2/organizations/users`, after the demo users,
        until `reset()`; returns it as served. Another user's email is allowed (that is
        the point: two users with one email); another user's uuid is a ValueError."""
        user = {
            "uuid": _text("uuid", uuid, empty=False),
            "email": _text("email", email),
            "firstName": _text("first_name", first_name),
            "lastName": _text("last_name", last_name),
            "teamUUID": None if team_uuid is None else _text("team_uuid", team_uuid),
        }
        with self._lock:
            if any(other["uuid"] == uuid for other in _demo_users() + self._users_extra):
                raise ValueError(f"uuid: a user with uuid {uuid!r} is already served")
            self._users_extra.append(user)
        return dict(user)

    @property
    def users_extra(self) -> list[dict[str, Any]]:
        """A copy of the users `add_user` added, as served."""
        with self._lock:
            return [dict(user) for user in self._users_extra]

    def users(self, team_uuid: str | None = None) -> list[dict[str, Any]]:
        """Every user `GET /v2/organizations/users` serves (the demo users, then
        `users_extra`), narrowed to one team when `team_uuid` is given."""
        with self._lock:
            everyone = _demo_users() + [dict(user) for user in self._users_extra]
        if team_uuid is None:
            return everyone
        return [user for user in everyone if user["teamUUID"] == team_uuid]

    def _require(self, conversation_id: str) -> int:
        index = self._index_of(conversation_id)
        if index is None:
            raise KeyError(conversation_id)
        return index

    @staticmethod
    def _new_item(
        conversation_id: str,
        item: Mapping[str, Any],
        extracted: Mapping[str, Any],
        *,
        replace: bool = False,
    ) -> dict[str, Any]:
        """A complete extracted item from a partial one (see `reextract`)."""
        key = item.get("key")
        if not isinstance(key, str) or not key:
            raise ValueError("add: every item needs a non-empty string 'key'")
        if key in extracted and not replace:
            raise ValueError(f"add: an item with key {key!r} is already extracted")
        if "evidence" in item and not isinstance(item["evidence"], list):
            raise ValueError("add: an item's 'evidence' must be a list")
        taken = {entry.get("id") for other, entry in extracted.items() if other != key}
        stem = hashlib.sha256(conversation_id.encode()).hexdigest()[:12]
        new_id = item.get("id") or f"intel_{stem}_{key}"[:200]
        if new_id in taken:
            raise ValueError(f"add: the id {new_id!r} is already used by another item")
        return {
            "id": new_id,
            "key": key,
            "value": None,
            "title": key.replace("_", " ").title(),
            "category": "CRM",
            "refreshing": False,
            "options": None,
            "source": "ai",
            "scope_insight": "conversation",
            "evidence": [],
            **copy.deepcopy(dict(item)),
        } | {"id": new_id}


def _owners(query: ListQuery) -> set[int] | None:
    """Owner positions allowed by the owner/team filters; None when there is no filter."""
    if query.owner_email is None and query.owner_id is None and query.team_id is None:
        return None
    return {
        position
        for position, user in enumerate(DEMO_ATTENTION_USERS)
        if (query.owner_email is None or user.email.lower() == query.owner_email.lower())
        and (query.owner_id is None or user.uuid == query.owner_id)
        and (query.team_id is None or user.team_uuid == query.team_id)
    }


def _without_crm_records(resource: dict[str, Any]) -> dict[str, Any]:
    """A list entry without `withCrmRecords`: the CRM sections present but empty."""
    attributes = dict(resource["attributes"])
    attributes.update({name: {} for name in _CRM_MAPS})
    attributes.update({name: [] for name in _CRM_LISTS})
    return {**resource, "attributes": attributes}


def _without_maps(resource: dict[str, Any]) -> dict[str, Any]:
    """A list entry under `omit_maps_in_list`: neither intelligence map at all."""
    attributes = {k: v for k, v in resource["attributes"].items() if k not in _CRM_MAPS}
    return {**resource, "attributes": attributes}


def _evidence_scorecard(conversation_id: str) -> dict[str, Any]:
    """A one-item scorecard for `evidences_null` on a call that has none."""
    return {
        "uuid": stable_uuid("sandbox-scorecard", conversation_id),
        "title": "Sandbox Scorecard",
        "items": [
            {
                "uuid": stable_uuid("sandbox-scorecard-item", conversation_id),
                "title": "Next step agreed",
                "description": "The rep agreed a dated next step with the customer.",
                "evidences": [],
                "numericResult": {"score": 3, "min": 0, "max": 5},
            }
        ],
        "summary": {"averageScore": 3.0, "min": 0, "max": 5, "summaryText": "One item."},
    }


def _corrupted(resource: dict[str, Any], kinds: Iterable[str]) -> dict[str, Any]:
    """A copy of `resource` bent by each of `kinds` (see `SandboxState.corrupt`). An item
    corruption bends the first extracted item (`map_value_string` replaces the last, so
    it combines with the others); one that finds nothing to bend does nothing."""
    # Bent parts are replaced by new dicts, never edited in place: the demo data shares
    # dicts between sections (an attendee is the participant), and only one may bend.
    bent = copy.deepcopy(resource)
    attributes: dict[str, Any] = bent["attributes"]
    found = attributes.get("extractedIntelligence")
    extracted: dict[str, Any] = found if isinstance(found, dict) else {}
    items = list(extracted.items())
    first: dict[str, Any] | None = None
    if items and isinstance(items[0][1], dict):
        first = extracted[items[0][0]] = dict(items[0][1])
    for kind in kinds:
        if kind == "null_title":
            attributes["title"] = None
        elif kind == "null_user":
            attributes["userUUID"] = None
        elif kind == "null_team":
            attributes["teamUUID"] = None
        elif kind == "float_duration":
            attributes["mediaDuration"] = FLOAT_DURATION
        elif kind == "missing_created_at":
            attributes.pop("createdAt", None)
        elif kind == "id_not_string":
            text = str(bent.get("id"))
            bent["id"] = int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)
        elif kind == "null_email":
            participants = attributes.get("participants")
            if participants and isinstance(participants[0], dict):
                participants[0] = {**participants[0], "email": None}
        elif kind == "evidences_null":
            cards = attributes.get("scorecardResults")
            if not isinstance(cards, list):
                cards = attributes["scorecardResults"] = []
            card_item = next(
                (
                    item
                    for card in cards
                    if isinstance(card, dict) and isinstance(card.get("items"), list)
                    for item in card["items"]
                    if isinstance(item, dict)
                ),
                None,
            )
            if card_item is None:
                card = _evidence_scorecard(str(attributes.get("uuid", bent.get("id"))))
                cards.append(card)
                card_item = card["items"][0]
            card_item["evidences"] = None  # scorecard items are not shared
        elif kind == "map_value_string" and items:
            key, last = items[-1]
            value = last.get("value") if isinstance(last, dict) else last
            extracted[key] = value if isinstance(value, str) else json.dumps(value)
        elif first is not None:
            if kind == "null_category":
                first["category"] = None
            elif kind == "source_object":
                first["source"] = copy.deepcopy(SOURCE_OBJECT)
            elif kind == "refreshing_null":
                first["refreshing"] = None
            elif kind == "item_without_id":
                first.pop("id", None)
            elif kind == "item_without_key":
                first.pop("key", None)
    return bent


def _break_resource(resource: dict[str, Any]) -> dict[str, Any]:
    attributes = {key: value for key, value in resource["attributes"].items() if key != "uuid"}
    attributes["title"] = 404
    attributes["createdAt"] = "last Tuesday"
    return {**resource, "attributes": attributes}


def _break_contract(payload: Any) -> Any:
    """Valid JSON in the wrong shape: required attributes missing or mistyped."""
    if isinstance(payload, dict) and isinstance(payload.get("data"), list):
        if not payload["data"]:
            return {key: value for key, value in payload.items() if key != "data"}
        return {**payload, "data": [_break_resource(item) for item in payload["data"]]}
    if isinstance(payload, dict) and isinstance(payload.get("attributes"), dict):
        return _break_resource(payload)
    return {"meta": {"totalRecords": "plenty"}}


# --- HTTP ---------------------------------------------------------------------------------


@dataclass
class _Request:
    method: str
    path: str
    target: str  # path with query string: what faults and counters match on
    query: dict[str, list[str]]
    authorization: str | None
    body: bytes
    json: Any = None
    json_error: bool = False

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> _Request:
        query_string = environ.get("QUERY_STRING", "")
        # WSGI hands the path over as latin-1; the API's paths are UTF-8 (ids included).
        path = (environ.get("PATH_INFO", "") or "/").encode("latin-1").decode("utf-8", "replace")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(min(length, MAX_BODY_BYTES + 1)) if length > 0 else b""
        request = cls(
            method=environ.get("REQUEST_METHOD", "GET").upper(),
            path=path,
            target=f"{path}?{query_string}" if query_string else path,
            query=parse_qs(query_string, keep_blank_values=True),
            authorization=environ.get("HTTP_AUTHORIZATION"),
            body=body,
        )
        if body:
            try:
                request.json = json.loads(body)
            except (ValueError, RecursionError):  # RecursionError: nested too deep
                request.json_error = True
        return request

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def flag(self, name: str) -> bool:
        return (self.param(name) or "").strip().lower() in {"true", "1", "yes"}


@dataclass
class _Response:
    status: int
    payload: Any = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    raw: bytes | None = None  # sent as is instead of `payload`
    drop: bool = False
    content_type: str | None = "application/json"  # None: no Content-Type header


def _empty(status: int) -> _Response:
    return _Response(status, raw=b"", content_type=None)


def _error(status: int, detail: str, **headers: str) -> _Response:
    return _Response(status, {"detail": detail}, list(headers.items()))


class _BadRequest(Exception):
    pass


def _parse_datetime(request: _Request, name: str) -> float | None:
    value = request.param(name)
    if value is None or not value.strip():
        return None
    # A literal `+` in a query string decodes to a space: accept `...T10:00:00 00:00` too.
    text = value.strip().replace(" ", "+")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _BadRequest(f"{name} must be an ISO-8601 date-time, got {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _parse_int(request: _Request, name: str, default: int, low: int, high: int | None) -> int:
    value = request.param(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = low - 1
    if number < low or (high is not None and number > high):
        limits = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise _BadRequest(f"{name} must be an integer {limits}, got {value!r}")
    return number


def _list_query(request: _Request) -> ListQuery:
    return ListQuery(
        page=_parse_int(request, "page", 1, 1, None),
        size=_parse_int(request, "size", MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE),
        from_ts=_parse_datetime(request, "fromDateTime"),
        to_ts=_parse_datetime(request, "toDateTime"),
        owner_email=request.param("filter[owner.email]") or None,
        owner_id=request.param("filter[owner.id]") or None,
        team_id=request.param("filter[team.id]") or None,
        hide_internal=request.flag("filter[hide_internal]"),
        hide_non_analyzed=request.flag("filter[hide_non_analyzed]"),
        with_crm_records=request.flag("withCrmRecords"),
        detailed_transcript=request.flag("detailedTranscript"),
    )


def _confirm_body(payload: Any) -> tuple[list[dict[str, Any]], str | None]:
    """The items and opportunity of a confirm body, or `_BadRequest` saying what is wrong."""
    if not isinstance(payload, dict):
        raise _BadRequest("The request body must be a JSON object")
    items = payload.get("intelligence")
    if not isinstance(items, list):
        raise _BadRequest("'intelligence' is required and must be a list of items")
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise _BadRequest(f"intelligence[{position}] must be an object")
        for name in ("id", "key"):
            if not isinstance(item.get(name), str) or not item[name]:
                raise _BadRequest(f"intelligence[{position}] is missing {name!r}")
    opportunity_id = payload.get("opportunity_id")
    if opportunity_id is not None and not isinstance(opportunity_id, str):
        raise _BadRequest("'opportunity_id' must be a string")
    return items, opportunity_id


_LIST = re.compile(r"^/v2/conversations/list/?$")
_USERS = re.compile(r"^/v2/organizations/users/?$")
_ONE = re.compile(r"^/v2/conversations/(?P<id>[^/]+)/?$")
_CONFIRM = re.compile(r"^/v2/conversations/(?P<id>[^/]+)/crm/confirm/?$")
_SCENARIO = re.compile(
    r"^/_sandbox/conversations/(?P<id>[^/]+)/"
    r"(?P<name>reextract|confirm-outside|typed-items|corrupt|delete)/?$"
)
_USER_FIELDS = ("uuid", "email", "first_name", "last_name", "team_uuid")


class SandboxApp:
    """The WSGI application. Faults are applied before authentication, as a gateway or
    rate limiter in front of the real API would."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        try:
            request = _Request.from_environ(environ)
            response = self.handle(request)
        except Exception:
            logger.exception("Attention sandbox failed on %s", environ.get("PATH_INFO"))
            response = _error(500, "The sandbox failed unexpectedly")
        if response.drop:
            environ[DROP_CONNECTION] = True
            return []
        if response.raw is not None:
            body = response.raw
        else:
            body = json.dumps(response.payload, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            phrase = HTTPStatus(response.status).phrase
        except ValueError:
            phrase = "Unknown"
        headers = [("Cache-Control", "no-store"), *response.headers]
        if response.status != HTTPStatus.NO_CONTENT:
            headers.insert(0, ("Content-Length", str(len(body))))
        if response.content_type is not None:
            headers.insert(0, ("Content-Type", response.content_type))
        start_response(f"{response.status} {phrase}", headers)
        return [body]

    def handle(self, request: _Request) -> _Response:
        if request.path.startswith("/_sandbox/"):
            return self._control(request)
        if not (request.path == "/v2" or request.path.startswith("/v2/")):
            return _error(404, "Not found")
        if len(request.body) > MAX_BODY_BYTES:
            return _error(413, "The request body is too large")

        state = self.state
        state.record_request(request.method, request.target)
        confirm = _CONFIRM.match(request.path)
        if confirm and request.method == "POST":
            # Counted before faults and validation: tests assert how many confirm calls
            # reached the API, whatever became of them.
            recorded = request.json if not request.json_error else request.body.decode("latin-1")
            state.record_confirm_call(confirm["id"], recorded)

        latency = state.latency_seconds
        if latency:
            # Outside any lock: the server is threaded, so slow answers overlap.
            time.sleep(latency)

        fault = state.take_fault(request.method, request.target)
        if fault is None:
            return self._dispatch(request)
        if fault.kind == "latency":
            if fault.apply_first:
                # Acted at once, answered late: a client that times out meanwhile and
                # reads back already sees the confirmation.
                response = self._dispatch(request)
                time.sleep(fault.delay)
                return response
            time.sleep(fault.delay)
            return self._dispatch(request)
        if fault.apply_first:
            self._dispatch(request)
        return self._fault_response(fault, request)

    def _fault_response(self, fault: Fault, request: _Request) -> _Response:
        if fault.kind == "drop":
            return _Response(0, drop=True)
        if fault.kind == "malformed_json":
            return _Response(200, raw=_MALFORMED_BODY)
        if fault.kind == "deep_json":
            return _Response(200, raw=_DEEP_BODY)
        if fault.kind == "contract":
            # What the request would have returned, read-only, bent out of shape.
            real = self._dispatch(request, apply=False)
            return _Response(200, _break_contract(real.payload if real.status == 200 else None))
        status = fault.status or 500
        response = _fault_error(status, fault, request)
        if fault.retry_after is not None:
            retry_after = fault.retry_after
            if isinstance(retry_after, float) and retry_after.is_integer():
                retry_after = int(retry_after)
            response.headers.append(("Retry-After", str(retry_after)))
        return response

    def _dispatch(self, request: _Request, *, apply: bool = True) -> _Response:
        """The API proper. With `apply=False` a confirm only reads (for `contract`)."""
        if not self.state.is_authorized(request.authorization):
            return _error(401, "Invalid or missing API key")
        if _LIST.match(request.path):
            if request.method != "GET":
                return _method_not_allowed("GET")
            return self._list(request)
        confirm = _CONFIRM.match(request.path)
        if confirm:
            if request.method != "POST":
                return _method_not_allowed("POST")
            if not apply:
                return self._get(confirm["id"])
            return self._confirm(confirm["id"], request)
        one = _ONE.match(request.path)
        if one:
            if request.method != "GET":
                return _method_not_allowed("GET")
            return self._get(one["id"], detailed_transcript=request.flag("detailedTranscript"))
        if _USERS.match(request.path) and not self.state.users_endpoint_missing:
            if request.method != "GET":
                return _method_not_allowed("GET")
            return self._users(request)
        return _error(404, "Not found")

    def _list(self, request: _Request) -> _Response:
        try:
            query = _list_query(request)
        except _BadRequest as error:
            return _error(400, str(error))
        return _Response(200, self.state.list_envelope(query))

    def _users(self, request: _Request) -> _Response:
        """`GET /v2/organizations/users`: paged like the list, `teamUUID` narrows it."""
        try:
            page = _parse_int(request, "page", 1, 1, None)
            size = _parse_int(request, "size", MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        except _BadRequest as error:
            return _error(400, str(error))
        users = self.state.users(request.param("teamUUID") or None)
        start = (page - 1) * size
        return _Response(
            200, {"data": users[start : start + size], "meta": {"totalRecords": len(users)}}
        )

    def _get(self, conversation_id: str, *, detailed_transcript: bool = False) -> _Response:
        resource = self.state.conversation(conversation_id, detailed_transcript=detailed_transcript)
        if resource is None:
            return _error(404, "Conversation not found")
        return _Response(200, resource)

    def _confirm(self, conversation_id: str, request: _Request) -> _Response:
        if self.state.conversation(conversation_id) is None:
            return _error(404, "Conversation not found")
        if request.json_error or not request.body:
            return _error(400, "The request body must be a JSON object")
        answer = self.state.confirm_answer
        try:
            items, opportunity_id = _confirm_body(request.json)
            resource = self.state.confirm(conversation_id, items, opportunity_id)
        except (_BadRequest, ConfirmRejected) as error:
            return _error(400, str(error))
        if answer in _CONFIRM_ANSWER_STATUS:
            return _empty(_CONFIRM_ANSWER_STATUS[answer])
        if answer == "empty_maps":
            # As in Attention's documented example response.
            attributes = {**resource["attributes"], **{name: {} for name in _CRM_MAPS}}
            return _Response(200, {**resource, "attributes": attributes})
        return _Response(200, resource)

    # Control API (local tests and demos only; never faulted, never counted) ---------

    def _control(self, request: _Request) -> _Response:
        state = self.state
        if request.path == "/_sandbox/faults":
            if request.method == "GET":
                return _Response(200, {"faults": [fault.to_json() for fault in state.faults]})
            if request.method == "DELETE":
                state.clear_faults()
                return _Response(200, {"faults": []})
            if request.method == "POST":
                specs = request.json if isinstance(request.json, list) else [request.json]
                try:
                    faults = [Fault.from_json(spec) for spec in specs]
                except ValueError as error:
                    return _error(400, str(error))
                for fault in faults:
                    state.add_fault(fault)
                return _Response(201, {"faults": [fault.to_json() for fault in state.faults]})
            return _method_not_allowed("GET, POST, DELETE")
        if request.path == "/_sandbox/stats":
            if request.method != "GET":
                return _method_not_allowed("GET")
            return _Response(200, state.stats())
        if request.path == "/_sandbox/reset":
            if request.method != "POST":
                return _method_not_allowed("POST")
            state.reset()
            return _Response(200, state.stats())
        if request.path == "/_sandbox/settings":
            if request.method == "GET":
                return _Response(200, state.settings())
            if request.method != "POST":
                return _method_not_allowed("GET, POST")
            if not isinstance(request.json, dict):
                return _error(400, "The settings must be a JSON object")
            try:
                return _Response(200, state.configure(**request.json))
            except ValueError as error:
                return _error(400, str(error))
        if request.path == "/_sandbox/users":
            if request.method == "GET":
                return _Response(200, {"users": state.users_extra})
            if request.method != "POST":
                return _method_not_allowed("GET, POST")
            return self._add_user(request)
        scenario = _SCENARIO.match(request.path)
        if scenario:
            if request.method != "POST":
                return _method_not_allowed("POST")
            return self._scenario(scenario["id"], scenario["name"], request)
        return _error(404, "Not found")

    def _scenario(self, conversation_id: str, name: str, request: _Request) -> _Response:
        """`POST /_sandbox/conversations/{id}/{reextract|confirm-outside|typed-items}`."""
        body = request.json if request.body else {}
        if not isinstance(body, dict):
            return _error(400, "The body must be a JSON object")
        state = self.state
        try:
            if name == "reextract":
                unknown = sorted(set(body) - {"change", "add", "withdraw"})
                if unknown:
                    raise ValueError(f"Unknown fields: {', '.join(unknown)}")
                change, add, withdraw = body.get("change"), body.get("add"), body.get("withdraw")
                if change is not None and not isinstance(change, dict):
                    raise ValueError("'change' must be an object of key: value")
                if add is not None and not isinstance(add, list):
                    raise ValueError("'add' must be a list of items")
                if withdraw is not None and not (
                    isinstance(withdraw, list) and all(isinstance(key, str) for key in withdraw)
                ):
                    raise ValueError("'withdraw' must be a list of keys")
                resource = state.reextract(
                    conversation_id, change=change, add=add, withdraw=withdraw
                )
            elif name == "confirm-outside":
                values = body.get("values")
                if set(body) != {"values"} or not isinstance(values, dict):
                    raise ValueError('The body must be {"values": {key: value, ...}}')
                resource = state.confirm_outside(conversation_id, values)
            elif name == "corrupt":
                kind = body.get("kind")
                if set(body) != {"kind"} or not isinstance(kind, str):
                    raise ValueError('The body must be {"kind": "<corruption>"}')
                resource = state.corrupt(conversation_id, kind)
            elif name == "delete":
                if body:
                    raise ValueError("The body must be empty")
                state.delete_conversation(conversation_id)
                return _Response(200, {"deleted": conversation_id})
            else:
                resource = state.add_typed_items(conversation_id)
        except KeyError:
            return _error(404, "Conversation not found")
        except ValueError as error:
            return _error(400, str(error))
        return _Response(200, resource)

    def _add_user(self, request: _Request) -> _Response:
        """`POST /_sandbox/users` with the arguments of `SandboxState.add_user`."""
        body = request.json
        if not isinstance(body, dict):
            return _error(400, "The body must be a JSON object")
        unknown = sorted(set(body) - set(_USER_FIELDS))
        if unknown:
            return _error(400, f"Unknown fields: {', '.join(unknown)}")
        missing = [name for name in _USER_FIELDS if name not in body]
        if missing:
            return _error(400, f"Missing fields: {', '.join(missing)}")
        try:
            user = self.state.add_user(**body)
        except ValueError as error:
            return _error(400, str(error))
        return _Response(201, user)


def _fault_error(status: int, fault: Fault, request: _Request) -> _Response:
    """The error answer of a `status` fault, with its body in the shape `fault.body` names.
    With `echo_key`, the text repeats the request's key (after `detail`, when set)."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = f"status {status}"
    if fault.echo_key:
        header = (request.authorization or "").strip()
        echo = f"Invalid token {header} for key {_bare_key(header)}"
        text = echo if fault.detail is None else f"{fault.detail} {echo}"
    else:
        text = fault.detail if fault.detail is not None else f"Sandbox fault: {phrase}"
    if fault.body == "message":
        return _Response(status, {"message": text})
    if fault.body == "jsonapi":
        return _Response(
            status, {"errors": [{"status": str(status), "title": phrase, "detail": text}]}
        )
    if fault.body == "text":
        return _Response(status, raw=text.encode(), content_type="text/plain; charset=utf-8")
    if fault.body == "html":
        page = (
            f"<!DOCTYPE html><html><head><title>{status} {html.escape(phrase)}</title></head>"
            f"<body><h1>{status} {html.escape(phrase)}</h1><p>{html.escape(text)}</p>"
            "</body></html>"
        )
        return _Response(status, raw=page.encode(), content_type="text/html; charset=utf-8")
    if fault.body == "empty":
        return _empty(status)
    return _Response(status, {"detail": text})


def _method_not_allowed(allow: str) -> _Response:
    return _error(405, "Method not allowed", Allow=allow)
