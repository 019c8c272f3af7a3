"""`python -m attention_review.sandbox`: serve the Attention sandbox until Ctrl-C.

`make run` starts it beside the app; the benchmark starts it as its own process. It
needs nothing but the standard library, so it is not a Django command.
"""

import argparse
import math
import os
import sys

from .app import DEFAULT_API_KEY, SandboxState
from .demo_data import DEFAULT_CONVERSATION_COUNT, DEFAULT_SEED
from .server import SandboxServer

# The demo shows a confirm's CRM export as pending for a few seconds before it is final.
DEMO_EXPORT_DELAY = 5.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m attention_review.sandbox",
        description=(
            "Serve the Attention sandbox: Attention API v2 over HTTP with deterministic demo "
            "data. Faults can be switched on through POST /_sandbox/faults."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="Interface to listen on.")
    parser.add_argument("--port", type=int, default=8001, help="Port (0 picks a free one).")
    parser.add_argument(
        "--conversations",
        type=int,
        default=DEFAULT_CONVERSATION_COUNT,
        help="How many demo conversations to serve.",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Demo data seed.")
    parser.add_argument(
        "--api-key",
        default=None,
        help="Key clients must send (default: $ATTENTION_API_KEY, else the demo key).",
    )
    parser.add_argument(
        "--export-delay",
        type=float,
        default=DEMO_EXPORT_DELAY,
        help=(
            "Seconds a confirm's crmExportStatus stays 'pending' before it is final "
            f"(default {DEMO_EXPORT_DELAY:g}; 0 makes it final at once)."
        ),
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    options = parser.parse_args(argv)
    api_key, key_source = options.api_key, "--api-key"
    if not api_key:
        api_key, key_source = os.environ.get("ATTENTION_API_KEY"), "$ATTENTION_API_KEY"
    if not api_key:
        api_key, key_source = DEFAULT_API_KEY, "the built-in demo key"
    if options.conversations < 0:
        parser.error("--conversations cannot be negative")
    if not (math.isfinite(options.export_delay) and options.export_delay >= 0):
        parser.error("--export-delay must be a non-negative number of seconds")
    state = SandboxState(
        seed=options.seed,
        conversation_count=options.conversations,
        api_key=api_key,
        export_delay=options.export_delay,
    )
    server = SandboxServer(state, host=options.host, port=options.port)
    try:
        server.start()
    except OSError as error:
        print(f"Cannot listen on {options.host}:{options.port}: {error.strerror}", file=sys.stderr)
        return 1
    # Where it listens and which key *source* it checks; never the key itself.
    print(
        f"Attention sandbox listening on {server.base_url} "
        f"({state.conversation_count} conversations, seed {state.seed}, "
        f"export delay {state.export_delay:g}s, key from {key_source}). Ctrl-C stops it.",
        flush=True,
    )
    try:
        server.wait()
    except KeyboardInterrupt:
        print("Attention sandbox stopped.")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
