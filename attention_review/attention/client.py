"""AttentionClient: the only code that talks to Attention's REST API.

One `requests.Session`, the key in the `Authorization` header, a timeout on every call,
no redirects followed (a redirect would carry the key to wherever it points), bounded
retries with exponential backoff for reads, and every failure mapped to one of a few
named errors whose `user_message` is safe to show on a page.

Confirm is not idempotent as far as the documentation says, so it is retried only where
the API cannot have acted on it: the connection was never made, or the API answered 429.
Any other failure after the body may have been sent raises `AttentionOutcomeUnknown`,
and the caller reads the conversation back before deciding anything. That includes a 409,
a redirect, a 2xx without the conversation (201/202/204, an empty or foreign body) and a
body that cannot be read (not JSON, nested too deep, or not the documented shape).

Text taken from an answer (an error's explanation, a contract error's location, a logged
body) has the API key and anything shaped like `Bearer <token>` replaced before it goes
into an exception or a log line.
"""

import codecs
import copy
import email.utils
import json
import logging
import math
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests
import urllib3.exceptions
from pydantic import BaseModel, ValidationError

from .schemas import (
    ConfirmRequest,
    Conversation,
    ConversationList,
    ConversationTranscript,
    ListMeta,
    ListPage,
    UsersPage,
    describe_validation_error,
)

logger = logging.getLogger(__name__)

MAX_PAGE_SIZE = 50
_RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
_BODY_LOG_LIMIT = 500
# JSON nested deeper than this is refused: no resource comes close (about eight levels),
# and deeper data could break recursion in the parser, the schemas or a later dump.
MAX_JSON_DEPTH = 64
# The most of an API's own explanation that goes into a message for a person.
EXPLANATION_LIMIT = 300
# Only so much of an explanation (once scrubbed) is tidied into one line.
_EXPLANATION_SOURCE_LIMIT = 5000
_REDACTED = "[redacted]"
_BEARER = re.compile(r"(?i)\b(bearer\s+)[^\s\"',;]+")
# An HTML tag (`<b>`, `</p>`, `<br/>`), not a comparison such as `< 5 and > 2`.
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|<!--.*?-->", re.DOTALL)
_AUTHORIZATION = re.compile(r"(?i)\b(authorization[\"']?\s*[:=]\s*[\"']?)[^\s\"',;]+")


class AttentionError(Exception):
    """Base of every error the client raises; `user_message` is safe to show a user.

    `detail` says what happened, for logs and admins. `explanation` is the API's own
    account of an error answer (`detail`, `message`, JSON:API `errors[].detail` or
    `title`), scrubbed of the key, on one line and at most `EXPLANATION_LIMIT`
    characters; empty when the answer gave none.
    """

    user_message = "Attention could not complete the request."

    def __init__(
        self, detail: str = "", *, status: int | None = None, explanation: str = ""
    ) -> None:
        self.detail = detail
        self.status = status
        self.explanation = explanation
        super().__init__(detail or self.user_message)


class AttentionAuthError(AttentionError):
    user_message = "The Attention API key was not accepted. Please tell an administrator."


class AttentionNotFound(AttentionError):
    user_message = "Attention does not know this conversation (it may have been deleted)."


class AttentionRejected(AttentionError):
    """A 4xx other than 401/403/404/409/429: the API refused the request (and did not act).

    `user_message` is one sentence with the API's own explanation when it gave one.
    """

    # A read-only property where the base class has a plain attribute (mypy's [override]):
    # nothing ever assigns user_message, so the narrower contract is safe.
    @property
    def user_message(self) -> str:  # type: ignore[override]
        if self.explanation:
            return f"Attention rejected the request: {_sentence(self.explanation)}"
        status = f" ({self.detail})" if self.detail else ""
        return f"Attention rejected the request{status} without saying why."


class AttentionUnavailable(AttentionError):
    """Attention did not answer usefully within the retry budget (timeouts, 429, 5xx)."""

    user_message = "Attention is not answering right now. Your edits are saved; try again soon."


class AttentionOutcomeUnknown(AttentionUnavailable):
    """A write may or may not have been applied: the caller must read back to find out."""

    user_message = "Attention did not say whether it received the confirmation."


class AttentionContractError(AttentionError):
    """A response that is not the documented shape (bad JSON, missing or mistyped field)."""

    user_message = "Attention sent a response this app does not understand."


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    backoff_seconds: float = 0.5
    retry_after_cap: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number `attempt` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_cap)
        return min(self.backoff_seconds * (2 ** (attempt - 1)), self.retry_after_cap)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a `Retry-After` header: delta-seconds or an HTTP date; None if absent."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(seconds, 0.0)


class _UnreadableBody(ValueError):
    """A body that is not JSON, or is JSON nested deeper than `MAX_JSON_DEPTH`."""


def _decode_json(content: bytes) -> Any:
    """The JSON value of a body; `_UnreadableBody` for anything else.

    Never lets a RecursionError out: the parser's own (a body nested thousands deep) is
    caught, and what parses is then measured without recursion.
    """
    try:
        payload = json.loads(content.removeprefix(codecs.BOM_UTF8))
    except RecursionError:
        raise _UnreadableBody(
            f"Response body nests JSON deeper than {MAX_JSON_DEPTH} levels"
        ) from None
    except ValueError:  # JSONDecodeError, and UnicodeDecodeError for bytes that are no text
        raise _UnreadableBody("Response body is not valid JSON") from None
    if not _nested_within(payload, MAX_JSON_DEPTH):
        raise _UnreadableBody(f"Response body nests JSON deeper than {MAX_JSON_DEPTH} levels")
    return payload


def _nested_within(value: Any, limit: int) -> bool:
    """Whether no list or object in `value` lies more than `limit` levels deep."""
    pending: list[tuple[dict[str, Any] | list[Any], int]] = []
    if isinstance(value, dict | list):
        pending.append((value, 1))
    while pending:
        node, depth = pending.pop()
        if depth > limit:
            return False
        children = node.values() if isinstance(node, dict) else node
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return True


# How a call is reported to the metrics: method, path template, status (None when no
# answer came), seconds, retries before it.
type CallRecorder = Callable[[str, str, int | None, float, int], None]

_ID_SEGMENT = re.compile(r"^/conversations/(?!list/?$)[^/]+")


def _path_template(path: str) -> str:
    """The path with its id replaced, for logs and metrics: `/conversations/{id}`."""
    return _ID_SEGMENT.sub("/conversations/{id}", path)


def _redactor(*secrets: str) -> Callable[[str], str]:
    """A function that replaces each secret, and anything shaped like `Bearer <token>` or
    `Authorization: <value>`, in a text. The secrets live only in its closure, so no
    repr, log or debug page of the client shows them."""
    known = sorted({secret for secret in secrets if secret}, key=len, reverse=True)

    def redact(text: str) -> str:
        for secret in known:
            text = text.replace(secret, _REDACTED)
        text = _BEARER.sub(lambda match: f"{match[1]}{_REDACTED}", text)
        return _AUTHORIZATION.sub(lambda match: f"{match[1]}{_REDACTED}", text)

    return redact


def _one_line(text: str, limit: int) -> str:
    """Printable text on one line, cut at a word boundary to at most `limit` characters."""
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-") + "\u2026"


def _sentence(text: str) -> str:
    """`text` ending as a sentence does."""
    return text if text.endswith((".", "!", "?", "\u2026")) else f"{text}."


def _texts(value: Any) -> list[str]:
    """The human text in one error field: a string; or, for a list (JSON:API `errors`, or
    a list of validation problems) or an object, each entry's `detail`, `message`, `msg`
    or `title`."""
    if isinstance(value, str):
        return [value] if value.strip() else []
    entries = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
    texts = []
    for entry in entries:
        if isinstance(entry, str) and entry.strip():
            texts.append(entry)
        elif isinstance(entry, dict):
            for field in ("detail", "message", "msg", "title"):
                text = entry.get(field)
                if isinstance(text, str) and text.strip():
                    texts.append(text)
                    break
    return texts


def _raw_explanation(response: requests.Response) -> str:
    """What an error answer says about itself, before scrubbing: the first of `detail`,
    `message`, `errors` (JSON:API, joined), `title`, `error_description` and `error` of a
    JSON body; or a plain-text body. Empty for an HTML page, for JSON without any of
    those fields, and for a body that cannot be read; tags inside a text are dropped."""
    content = response.content or b""
    try:
        body = _decode_json(content)
    except _UnreadableBody:
        content_type = response.headers.get("Content-Type", "").lower()
        text = content.decode("utf-8", "replace").strip()
        if "html" in content_type or "json" in content_type or text.startswith(("<", "{", "[")):
            return ""  # never a page of markup, never raw JSON
        return _TAG.sub(" ", text)
    if isinstance(body, dict):
        for field in ("detail", "message", "errors", "title", "error_description", "error"):
            texts = _texts(body.get(field))
            if texts:
                return _TAG.sub(" ", "; ".join(texts))
        return ""
    return _TAG.sub(" ", "; ".join(_texts(body)))


def _path_segment(identifier: str) -> str:
    """An id as one URL path segment. With an id a server could read as path syntax
    ('..', or a slash, which some decode from %2F) the request and its key could land
    on another endpoint: no request is made with it."""
    if identifier in {"", ".", ".."} or "/" in identifier or "\\" in identifier:
        raise AttentionContractError("Attention sent an id that cannot be used in a URL")
    return quote(identifier, safe="")


def _without_nul(value: Any) -> Any:
    """Decoded JSON without NUL characters: no real value carries one, and PostgreSQL
    can store none in text or JSON."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    return value


def _never_connected(error: requests.RequestException) -> bool:
    """True when the request cannot have reached the API (so a write is safe to retry)."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(error, requests.exceptions.ConnectionError):
        reason = error.args[0] if error.args else None
        reason = getattr(reason, "reason", reason)
        return isinstance(reason, urllib3.exceptions.NewConnectionError)
    return False


class AttentionClient:
    """Typed methods over Attention's API; returns schemas, raises `AttentionError`s."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        auth_scheme: str = "Bearer",
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        page_size: int = MAX_PAGE_SIZE,
        sleep: Callable[[float], None] = time.sleep,
        on_call: CallRecorder | None = None,
    ) -> None:
        if not api_key:
            raise AttentionAuthError("No Attention API key is configured")
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.retry = retry or RetryPolicy()
        self.page_size = max(1, min(page_size, MAX_PAGE_SIZE))
        self._sleep = sleep
        self._on_call = on_call
        self._session = requests.Session()
        # The key lives only in the session's headers (and the redactor's closure, which
        # scrubs it from whatever the API sends back): never in URLs, logs or messages.
        authorization = api_key if auth_scheme == "raw" else f"{auth_scheme} {api_key}"
        self._redact = _redactor(api_key, authorization)
        self._session.headers.update(
            {
                "Authorization": authorization,
                "Accept": "application/json",
                "User-Agent": "attention-review/1.0",
            }
        )

    def __repr__(self) -> str:
        return f"<AttentionClient {self.base_url}>"

    def clone(self) -> "AttentionClient":
        """A client with the same settings and a session of its own, for another thread
        (a `requests.Session` is not meant to be shared between threads)."""
        twin = copy.copy(self)
        twin._session = requests.Session()
        twin._session.headers.update(self._session.headers)
        return twin

    def close(self) -> None:
        self._session.close()

    # A client is used for one piece of work, then closed: `with client_from_settings()`.
    def __enter__(self) -> "AttentionClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Reads ------------------------------------------------------------------------

    def list_conversation_pages(
        self, *, start_page: int = 1, **filters: Any
    ) -> Iterator[tuple[int, ConversationList]]:
        """Yield `(page_number, page)` until a page comes back empty, every record parsed
        strictly: for tools and tests. The sync reads pages with `list_page` and each
        record on its own."""
        page_number = max(1, start_page)
        while True:
            raw = self.list_page(page_number, **filters)
            page = ConversationList(
                data=[self.parse_conversation(record) for record in raw.data],
                links={},
                meta=raw.meta or ListMeta(),
            )
            yield page_number, page
            if not raw.data:
                return
            page_number += 1

    def list_page(
        self,
        page_number: int,
        *,
        from_datetime: datetime | None = None,
        to_datetime: datetime | None = None,
        owner_email: str | None = None,
        hide_non_analyzed: bool = True,
        with_crm_records: bool = True,
    ) -> ListPage:
        """One page of the list, its records unparsed (the caller reads each on its own,
        with `parse_conversation`), so one odd record never costs the rest of the page."""
        params: dict[str, str] = {"size": str(self.page_size)}
        if from_datetime is not None:
            params["fromDateTime"] = from_datetime.astimezone(UTC).isoformat()
        if to_datetime is not None:
            params["toDateTime"] = to_datetime.astimezone(UTC).isoformat()
        if owner_email:
            params["filter[owner.email]"] = owner_email
        if hide_non_analyzed:
            params["filter[hide_non_analyzed]"] = "true"
        if with_crm_records:
            params["withCrmRecords"] = "true"
        params["page"] = str(max(1, page_number))
        return self._get("/conversations/list", ListPage, params=params)

    def parse_conversation(self, record: Any) -> Conversation:
        """One list record as a conversation; raises AttentionContractError, with the key
        scrubbed from the reason, when it breaks the contract."""
        try:
            conversation = Conversation.model_validate(record)
        except ValidationError as error:
            where = self._redact(describe_validation_error(error))
            raise AttentionContractError(f"Record broke the contract at {where}") from None
        return self.scrub_conversation(conversation)

    def list_users_page(self, page_number: int) -> UsersPage:
        """One page of `GET /organizations/users` (reported by third-party clients of the
        live API; not in Attention's documentation): records unparsed, as for the list."""
        params = {"size": str(self.page_size), "page": str(max(1, page_number))}
        return self._get("/organizations/users", UsersPage, params=params)

    def list_conversations(self, **filters: Any) -> Iterator[Conversation]:
        """Every conversation matching the filters, across all pages."""
        for _, page in self.list_conversation_pages(**filters):
            yield from page.data

    def get_conversation(self, conversation_id: str) -> Conversation:
        return self._get(f"/conversations/{_path_segment(conversation_id)}", Conversation)

    def get_transcript(self, conversation_id: str) -> ConversationTranscript:
        """One conversation with its detailed transcript (`detailedTranscript=true`,
        reported, not documented), read for the transcript alone: whatever else the
        resource holds cannot fail it (the sync reads that)."""
        return self._get(
            f"/conversations/{_path_segment(conversation_id)}",
            ConversationTranscript,
            params={"detailedTranscript": "true"},
        )

    # Writes -----------------------------------------------------------------------

    def confirm_intelligence(self, conversation_id: str, request: ConfirmRequest) -> Conversation:
        """Confirm reviewed intelligence; retried only where the API cannot have acted."""
        path = f"/conversations/{_path_segment(conversation_id)}/crm/confirm"
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._send("POST", path, json=request.to_json(), attempt=attempt)
            except requests.RequestException as error:
                if _never_connected(error) and attempt <= self.retry.max_retries:
                    self._wait(attempt, None, path, type(error).__name__)
                    continue
                if _never_connected(error):
                    raise AttentionUnavailable("Could not connect to Attention") from None
                raise AttentionOutcomeUnknown(
                    f"{type(error).__name__} after the confirmation was sent"
                ) from None
            if response.status_code == 429 and attempt <= self.retry.max_retries:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                self._wait(attempt, retry_after, path, "429")
                continue
            if response.status_code == 429:
                raise AttentionUnavailable("Rate limited by Attention", status=429)
            return self._confirm_outcome(response, path)

    def _confirm_outcome(self, response: requests.Response, path: str) -> Conversation:
        """The conversation a confirm answered with, or the error its answer means."""
        status = response.status_code
        answered = f"Attention answered {status} {response.reason or ''}".strip()
        if status >= 500 or status == 409 or 300 <= status < 400:
            # A server failure, a conflict (with what, the API does not say) or a redirect:
            # the API may have acted. Only a read-back can tell.
            self._log_failure("POST", path, response)
            explanation = self._explanation(response)
            reason = f": {explanation}" if explanation else ""
            raise AttentionOutcomeUnknown(
                f"Attention answered {status} to the confirmation{reason}",
                status=status,
                explanation=explanation,
            )
        if 200 <= status < 300 and (status in (202, 204) or not response.content.strip()):
            # Accepted for later, or done without saying what it holds now.
            self._log_failure("POST", path, response)
            raise AttentionOutcomeUnknown(
                f"{answered} to the confirmation, without the conversation", status=status
            )
        if 200 <= status < 300:
            return self._read(response, Conversation, "POST", path, outcome_unknown=True)
        raise self._refusal(response, "POST", path)

    # Plumbing ---------------------------------------------------------------------

    def _get[T: BaseModel](
        self, path: str, schema: type[T], *, params: dict[str, str] | None = None
    ) -> T:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._send("GET", path, params=params, attempt=attempt)
            except requests.RequestException as error:
                if attempt <= self.retry.max_retries:
                    self._wait(attempt, None, path, type(error).__name__)
                    continue
                raise AttentionUnavailable(f"{type(error).__name__} calling Attention") from None
            if response.status_code in _RETRYABLE_STATUSES:
                if attempt <= self.retry.max_retries:
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    self._wait(attempt, retry_after, path, str(response.status_code))
                    continue
                self._log_failure("GET", path, response)
                raise AttentionUnavailable(
                    f"Attention answered {response.status_code}", status=response.status_code
                )
            if response.status_code != 200:
                raise self._refusal(response, "GET", path)
            return self._read(response, schema, "GET", path)

    def _send(
        self, method: str, path: str, *, attempt: int = 1, **kwargs: Any
    ) -> requests.Response:
        """One HTTP call, logged (method, path template, status, latency, retries: never
        the key or the query) and counted for the metrics."""
        template = _path_template(path)
        started = time.monotonic()
        status: int | None = None
        try:
            response = self._session.request(
                method,
                self.base_url + path,
                timeout=self.timeout,
                allow_redirects=False,
                **kwargs,
            )
            status = response.status_code
            return response
        finally:
            seconds = time.monotonic() - started
            logger.info(
                "Attention call %s %s -> %s in %.0f ms (retry %d)",
                method,
                template,
                status if status is not None else "no answer",
                seconds * 1000,
                attempt - 1,
            )
            if self._on_call is not None:
                self._on_call(method, template, status, seconds, attempt - 1)

    def _wait(self, attempt: int, retry_after: float | None, path: str, cause: str) -> None:
        delay = self.retry.delay(attempt, retry_after)
        logger.warning(
            "Attention %s on %s; retry %d/%d in %.2fs",
            cause,
            path,
            attempt,
            self.retry.max_retries,
            delay,
        )
        self._sleep(delay)

    def _log_failure(self, method: str, path: str, response: requests.Response) -> None:
        # Status and a bounded slice of the body only: the request's headers carry the key,
        # and a body that echoes it is scrubbed (before the cut, so no part of it is left).
        body = (response.content or b"").decode("utf-8", "replace")
        logger.warning(
            "Attention %s %s answered %s: %s",
            method,
            path,
            response.status_code,
            self._redact(body)[:_BODY_LOG_LIMIT],
        )

    def _explanation(self, response: requests.Response) -> str:
        """The API's own explanation of an error answer, fit for a message (see
        `AttentionError`); empty when it gave none."""
        # Scrubbed whole, then cut: a cut first could leave part of the key behind.
        scrubbed = self._redact(_raw_explanation(response))[:_EXPLANATION_SOURCE_LIMIT]
        return _one_line(scrubbed, EXPLANATION_LIMIT)

    def _refusal(self, response: requests.Response, method: str, path: str) -> AttentionError:
        """The error for an answer other than 200 that is not retried or settled elsewhere."""
        status = response.status_code
        self._log_failure(method, path, response)
        explanation = self._explanation(response)
        detail = explanation or f"{status} {response.reason or ''}".strip()
        if status in (401, 403):
            return AttentionAuthError(detail, status=status, explanation=explanation)
        if status == 404:
            return AttentionNotFound(detail, status=status, explanation=explanation)
        if 300 <= status < 400:
            return AttentionContractError(f"Unexpected redirect ({status})", status=status)
        if 400 <= status < 500:
            return AttentionRejected(detail, status=status, explanation=explanation)
        return AttentionContractError(f"Unexpected status {status}", status=status)

    def _read[T: BaseModel](
        self,
        response: requests.Response,
        schema: type[T],
        method: str,
        path: str,
        *,
        outcome_unknown: bool = False,
    ) -> T:
        """The body of a successful answer as `schema`. A body that cannot be read raises
        `AttentionContractError`, or `AttentionOutcomeUnknown` after a write."""
        status = response.status_code
        error_class = AttentionOutcomeUnknown if outcome_unknown else AttentionContractError
        try:
            payload = _decode_json(response.content)
        except _UnreadableBody as error:
            self._log_failure(method, path, response)
            raise error_class(str(error), status=status) from None
        if b"\\u0000" in response.content:  # JSON can carry NUL only as this escape
            payload = _without_nul(payload)
        try:
            parsed = schema.model_validate(payload)
        except ValidationError as error:
            where = self._redact(describe_validation_error(error))
            logger.warning("Attention %s %s broke the contract: %s", method, path, where)
            raise error_class(f"Response broke the contract at {where}", status=status) from None
        if isinstance(parsed, Conversation):
            self.scrub_conversation(parsed)
        return parsed

    def redact(self, text: str) -> str:
        """`text` with the key, and anything shaped like an `Authorization` value, replaced:
        for whatever the caller keeps or shows of an answer."""
        return self._redact(text)

    def scrub_conversation(self, conversation: Conversation) -> Conversation:
        """Scrub the reasons for skipped items (they quote the API's own keys) and log them."""
        attributes = conversation.attributes
        if attributes.skipped_items:
            reasons = tuple(self._redact(reason) for reason in attributes.skipped_items)
            attributes._skipped_items = reasons
            for reason in reasons:
                logger.warning(
                    "Attention conversation %s: %s", self._redact(conversation.id), reason
                )
        return conversation


def client_from_settings() -> AttentionClient:
    """An `AttentionClient` configured from Django settings."""
    from django.conf import settings

    return AttentionClient(
        base_url=settings.ATTENTION_API_BASE_URL,
        api_key=settings.ATTENTION_API_KEY,
        auth_scheme=settings.ATTENTION_AUTH_SCHEME,
        connect_timeout=settings.ATTENTION_CONNECT_TIMEOUT,
        read_timeout=settings.ATTENTION_READ_TIMEOUT,
        retry=RetryPolicy(
            max_retries=settings.ATTENTION_MAX_RETRIES,
            backoff_seconds=settings.ATTENTION_BACKOFF_SECONDS,
            retry_after_cap=settings.ATTENTION_RETRY_AFTER_CAP,
        ),
        page_size=settings.ATTENTION_PAGE_SIZE,
        on_call=_metrics_recorder(),
    )


def _metrics_recorder() -> CallRecorder | None:
    """The metrics' recorder of Attention calls, when the metrics are installed."""
    try:
        from attention_review.operations.metrics import record_attention_call
    except ImportError:
        return None
    return record_attention_call
