"""The fault matrix: every fault the sandbox can inject, as the tests inject it, and the
figures each cell must produce. `docs/reliability.md` states the same figures; a test
checks the two agree."""

from dataclasses import dataclass, field
from typing import Any

# The client's retry budget in the tests (tests/conftest.py): 3 retries, 0.01 s backoff
# doubling, Retry-After honoured up to 0.5 s; reads time out after 0.3 s here.
MAX_RETRIES = 3
READ_TIMEOUT = 0.3
RETRY_AFTER_CAP = 0.5
BACKOFF = 0.01
BACKOFF_DELAYS = [round(BACKOFF * 2**n, 2) for n in range(MAX_RETRIES)]  # 0.01, 0.02, 0.04


@dataclass(frozen=True)
class Cell:
    name: str
    fault: dict[str, Any]
    # Reads (sync pages, read-backs): requests the failing call makes before giving up.
    read_requests: int
    # The waits between those requests, as the client logs them (None: not retried).
    read_delays: list[float] | None
    # Confirm: POSTs that reach the API while the fault lasts.
    confirm_posts: int
    confirm_delays: list[float] | None
    # Confirm outcome while the fault lasts (the API did not act).
    confirm_outcome: str
    # What the reviewer reads after that confirm.
    confirm_message: str
    # Whether the API may have acted before the fault (the sandbox's `apply_first`).
    may_have_acted: bool = False
    sync_message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


RETRIED_READ = dict(read_requests=MAX_RETRIES + 1)
NOT_ANSWERING = "Attention is not answering right now. Your edits are saved"
NOT_RECEIVED = (
    "Attention has no record of this confirmation. Your edits are saved; confirm again "
    "(the app checks with Attention first, so nothing is sent twice)."
)

CELLS = [
    Cell(
        "timeout",
        {"kind": "latency", "delay": 0.6},
        read_requests=MAX_RETRIES + 1,
        read_delays=BACKOFF_DELAYS,
        confirm_posts=1,
        confirm_delays=None,
        confirm_outcome="failed",
        confirm_message=NOT_RECEIVED,
        may_have_acted=True,
        sync_message="ReadTimeout calling Attention",
    ),
    Cell(
        "dropped connection",
        {"kind": "drop"},
        read_requests=MAX_RETRIES + 1,
        read_delays=BACKOFF_DELAYS,
        confirm_posts=1,
        confirm_delays=None,
        confirm_outcome="failed",
        confirm_message=NOT_RECEIVED,
        may_have_acted=True,
        sync_message="ConnectionError calling Attention",
    ),
    Cell(
        "429 with Retry-After",
        {"kind": "status", "status": 429, "retry_after": 2},
        read_requests=MAX_RETRIES + 1,
        read_delays=[RETRY_AFTER_CAP] * MAX_RETRIES,
        confirm_posts=MAX_RETRIES + 1,
        confirm_delays=[RETRY_AFTER_CAP] * MAX_RETRIES,
        confirm_outcome="failed",
        confirm_message=NOT_ANSWERING,
        sync_message="Attention answered 429",
    ),
    Cell(
        "429 without Retry-After",
        {"kind": "status", "status": 429},
        read_requests=MAX_RETRIES + 1,
        read_delays=BACKOFF_DELAYS,
        confirm_posts=MAX_RETRIES + 1,
        confirm_delays=BACKOFF_DELAYS,
        confirm_outcome="failed",
        confirm_message=NOT_ANSWERING,
        sync_message="Attention answered 429",
    ),
    *[
        Cell(
            str(status),
            {"kind": "status", "status": status},
            read_requests=MAX_RETRIES + 1,
            read_delays=BACKOFF_DELAYS,
            confirm_posts=1,
            confirm_delays=None,
            confirm_outcome="failed",
            confirm_message=NOT_RECEIVED,
            may_have_acted=True,
            sync_message=f"Attention answered {status}",
        )
        for status in (500, 502, 503)
    ],
    Cell(
        "malformed JSON",
        {"kind": "malformed_json"},
        read_requests=1,
        read_delays=None,
        confirm_posts=1,
        confirm_delays=None,
        confirm_outcome="failed",
        confirm_message=NOT_RECEIVED,
        may_have_acted=True,
        sync_message="Response body is not valid JSON",
    ),
    Cell(
        "200 breaking the contract",
        {"kind": "contract"},
        read_requests=1,
        read_delays=None,
        confirm_posts=1,
        confirm_delays=None,
        confirm_outcome="failed",
        confirm_message=NOT_RECEIVED,
        may_have_acted=True,
        sync_message="Response broke the contract at data.0.attributes.uuid",
    ),
    Cell(
        "401",
        {"kind": "status", "status": 401},
        read_requests=1,
        read_delays=None,
        confirm_posts=1,
        confirm_delays=None,
        confirm_outcome="failed",
        confirm_message="The Attention API key was not accepted. Please tell an administrator.",
        sync_message="AttentionAuthError: Sandbox fault: Unauthorized",
    ),
    Cell(
        "404",
        {"kind": "status", "status": 404},
        read_requests=1,
        read_delays=None,
        confirm_posts=1,
        confirm_delays=None,
        confirm_outcome="failed",
        confirm_message="Attention does not know this conversation (it may have been deleted).",
        sync_message="AttentionNotFound: Sandbox fault: Not Found",
    ),
]
CELL_BY_NAME = {cell.name: cell for cell in CELLS}
ACTED_CELLS = [cell for cell in CELLS if cell.may_have_acted]
