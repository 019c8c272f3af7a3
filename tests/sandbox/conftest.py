"""The sandbox on its own over real HTTP: one server for the package's tests, its data
and faults reset before each test, and a session that sends the key."""

import pytest
import requests

from attention_review.sandbox.app import SandboxState
from attention_review.sandbox.server import SandboxServer

KEY = "sandbox-test-key-3b9e1d"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="package")
def server():
    with SandboxServer(SandboxState(api_key=KEY)) as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh_state(server):
    server.state.reset()


@pytest.fixture
def http():
    with requests.Session() as session:
        session.headers.update(AUTH)
        yield session
