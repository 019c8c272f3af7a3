"""The Attention sandbox: Attention API v2 over real HTTP with deterministic demo data.

Used by `make run` (through `python -m attention_review.sandbox`) and by the test suite, which
starts a `SandboxServer` in-process and switches `Fault`s on its `SandboxState`. Standard
library only (and the demo personas of `attention_review.demo`), so it runs without
Django or any other dependency.
"""

from .app import DEFAULT_API_KEY, Fault, SandboxApp, SandboxState
from .demo_data import DEFAULT_CONVERSATION_COUNT, DEFAULT_SEED
from .server import SandboxServer

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_CONVERSATION_COUNT",
    "DEFAULT_SEED",
    "Fault",
    "SandboxApp",
    "SandboxServer",
    "SandboxState",
]
