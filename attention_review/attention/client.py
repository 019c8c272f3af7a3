"""AttentionClient: the only code that talks to Attention's REST API.

One `requests.Session`, the key in the `Authorization` header, a timeout on every call,
no redirects followed (a redirect would carry the key to wherever it points), bounded
retries with exponential backoff for reads, and every failure mapped to one of a few
named errors whose `user_message` is safe to show on a page.

Confirm is not idempotent as far as the documentation says, so it is retried only where
the API cannot have acted on it: the connection was never made, or the API answered 429.
Any other failure after the body may have been sent raises `AttentionOutcomeUnknown`,
and the caller reads the conversation back before deciding anything.
"""

import email.utils
import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests
import urllib3.exceptions
from pydantic import BaseModel, ValidationError

from .schemas import ConfirmRequest, Conversation, ConversationList, describe_validation_error

logger = logging.getLogger(__name__)

MAX_PAGE_SIZE = 50
_RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
_BODY_LOG_LIMIT = 500


class AttentionError(Exception):
    """Base of every error the client raises; `user_message` is safe to show a user."""

    user_message = "Attention could not complete the request."

    def __init__(self, detail: str = "", *, status: int | None = None) -> None:
        self.detail = detail
        self.status = status
        super().__init__(detail or self.user_message)


class AttentionAuthError(AttentionError):
    user_message = "The Attention API key was not accepted. Please tell an administrator."


class AttentionNotFound(AttentionError):
    user_message = "Attention does not know this conversation (it may have been deleted)."


class AttentionRejected(AttentionError):
    """A 4xx other than 401/404/429: the API refused the request and said why."""

    # A read-only property where the base class has a plain attribute (mypy's [override]):
    # nothing ever assigns user_message, so the narrower contract is safe.
    @property
    def user_message(self) -> str:  # type: ignore[override]
        return f"Attention rejected the request: {self.detail}"


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


def _error_detail(response: requests.Response) -> str:
    """The first of `detail`, `message`, `title` in an error body, else the status line."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for field in ("detail", "message", "title"):
            value = body.get(field)
            if isinstance(value, str) and value.strip():
                return value.strip()[:500]
    return f"{response.status_code} {response.reason or ''}".strip()


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
    ) -> None:
        if not api_key:
            raise AttentionAuthError("No Attention API key is configured")
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.retry = retry or RetryPolicy()
        self.page_size = max(1, min(page_size, MAX_PAGE_SIZE))
        self._sleep = sleep
        self._session = requests.Session()
        # The key lives only in the session's headers: never in URLs, logs or messages.
        authorization = api_key if auth_scheme == "raw" else f"{auth_scheme} {api_key}"
        self._session.headers.update(
            {
                "Authorization": authorization,
                "Accept": "application/json",
                "User-Agent": "attention-review/1.0",
            }
        )

    def __repr__(self) -> str:
        return f"<AttentionClient {self.base_url}>"

    def close(self) -> None:
        self._session.close()

    # A client is used for one piece of work, then closed: `with client_from_settings()`.
    def __enter__(self) -> "AttentionClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Reads ------------------------------------------------------------------------

    def list_conversation_pages(
        self,
        *,
        from_datetime: datetime | None = None,
        to_datetime: datetime | None = None,
        owner_email: str | None = None,
        hide_non_analyzed: bool = True,
        with_crm_records: bool = True,
        start_page: int = 1,
    ) -> Iterator[tuple[int, ConversationList]]:
        """Yield `(page_number, page)` for every page, one request at a time.

        Pages are fetched lazily so a caller can store each before the next arrives and
        memory stays flat however many conversations there are.
        """
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
        page_number = max(1, start_page)
        while True:
            page = self._get(
                "/conversations/list", ConversationList, params={**params, "page": str(page_number)}
            )
            yield page_number, page
            # Page by totalRecords, not by `links`: the documented links point elsewhere.
            last_page = math.ceil(page.meta.total_records / self.page_size)
            if not page.data or page_number >= last_page:
                return
            page_number += 1

    def list_conversations(self, **filters: Any) -> Iterator[Conversation]:
        """Every conversation matching the filters, across all pages."""
        for _, page in self.list_conversation_pages(**filters):
            yield from page.data

    def get_conversation(self, conversation_id: str) -> Conversation:
        return self._get(f"/conversations/{_path_segment(conversation_id)}", Conversation)

    # Writes -----------------------------------------------------------------------

    def confirm_intelligence(self, conversation_id: str, request: ConfirmRequest) -> Conversation:
        """Confirm reviewed intelligence; retried only where the API cannot have acted."""
        path = f"/conversations/{_path_segment(conversation_id)}/crm/confirm"
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._send("POST", path, json=request.to_json())
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
            if response.status_code >= 500:
                self._log_failure("POST", path, response)
                raise AttentionOutcomeUnknown(
                    f"Attention answered {response.status_code} to the confirmation",
                    status=response.status_code,
                )
            return self._parse(response, Conversation, "POST", path, outcome_unknown=True)

    # Plumbing ---------------------------------------------------------------------

    def _get[T: BaseModel](
        self, path: str, schema: type[T], *, params: dict[str, str] | None = None
    ) -> T:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._send("GET", path, params=params)
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
            return self._parse(response, schema, "GET", path)

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self._session.request(
            method,
            self.base_url + path,
            timeout=self.timeout,
            allow_redirects=False,
            **kwargs,
        )

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
        # Status and a bounded slice of the body only: the request's headers carry the key.
        logger.warning(
            "Attention %s %s answered %s: %s",
            method,
            path,
            response.status_code,
            response.text[:_BODY_LOG_LIMIT],
        )

    def _parse[T: BaseModel](
        self,
        response: requests.Response,
        schema: type[T],
        method: str,
        path: str,
        *,
        outcome_unknown: bool = False,
    ) -> T:
        status = response.status_code
        if status != 200:
            self._log_failure(method, path, response)
            detail = _error_detail(response)
            if status in (401, 403):
                raise AttentionAuthError(detail, status=status)
            if status == 404:
                raise AttentionNotFound(detail, status=status)
            if 300 <= status < 400:
                raise AttentionContractError(f"Unexpected redirect ({status})", status=status)
            if 400 <= status < 500:
                raise AttentionRejected(detail, status=status)
            raise AttentionContractError(f"Unexpected status {status}", status=status)
        try:
            payload = response.json()
        except ValueError:
            self._log_failure(method, path, response)
            error_class = AttentionOutcomeUnknown if outcome_unknown else AttentionContractError
            raise error_class("Response body is not valid JSON", status=status) from None
        if b"\\u0000" in response.content:  # JSON can carry NUL only as this escape
            payload = _without_nul(payload)
        try:
            return schema.model_validate(payload)
        except ValidationError as error:
            where = describe_validation_error(error)
            logger.warning("Attention %s %s broke the contract: %s", method, path, where)
            if outcome_unknown:
                raise AttentionOutcomeUnknown(
                    f"Response broke the contract at {where}", status=status
                ) from None
            raise AttentionContractError(
                f"Response broke the contract at {where}", status=status
            ) from None


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
    )
