"""`manage.py attention_sandbox`: serve the Attention sandbox until Ctrl-C (for `make run`)."""

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from attention_review.sandbox.app import DEFAULT_API_KEY, SandboxState
from attention_review.sandbox.demo_data import DEFAULT_CONVERSATION_COUNT, DEFAULT_SEED
from attention_review.sandbox.server import SandboxServer


class Command(BaseCommand):
    help = (
        "Serve the Attention sandbox: Attention API v2 over HTTP with deterministic demo data. "
        "Faults can be switched on through POST /_sandbox/faults."
    )

    def add_arguments(self, parser: Any) -> None:
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

    def handle(self, *args: Any, **options: Any) -> None:
        api_key, key_source = options["api_key"], "--api-key"
        if not api_key:
            api_key, key_source = os.environ.get("ATTENTION_API_KEY"), "$ATTENTION_API_KEY"
        if not api_key:
            api_key, key_source = DEFAULT_API_KEY, "the built-in demo key"
        if options["conversations"] < 0:
            raise CommandError("--conversations cannot be negative")
        state = SandboxState(
            seed=options["seed"], conversation_count=options["conversations"], api_key=api_key
        )
        server = SandboxServer(state, host=options["host"], port=options["port"])
        try:
            server.start()
        except OSError as error:
            raise CommandError(
                f"Cannot listen on {options['host']}:{options['port']}: {error.strerror}"
            ) from None
        # Where it listens and which key *source* it checks; never the key itself.
        self.stdout.write(
            f"Attention sandbox listening on {server.base_url} "
            f"({state.conversation_count} conversations, seed {state.seed}, "
            f"key from {key_source}). Ctrl-C stops it."
        )
        self.stdout.flush()
        try:
            server.wait()
        except KeyboardInterrupt:
            self.stdout.write("Attention sandbox stopped.")
        finally:
            server.stop()
