"""Shared fixtures: the Attention sandbox over real HTTP, the personas, and a synced
database. Nothing inside the project is patched: tests configure the sandbox (its data
and its faults) and the settings, then drive the app as a user or a command would."""

import importlib
import os

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client

from attention_review.attention.client import AttentionClient, RetryPolicy
from attention_review.demo import DemoAccount, demo_account
from attention_review.reviews.models import FieldSetting
from attention_review.reviews.services.sync import conversation_sync
from attention_review.sandbox.app import SandboxState
from attention_review.sandbox.server import SandboxServer

# A recognisable key: tests search outputs for it to prove it never leaks.
TEST_API_KEY = "test-key-DO-NOT-LEAK-7f3a9c"
PASSWORD = "correct-horse-battery"

REP_EMAIL = demo_account("rep").email
REP2_EMAIL = demo_account("rep2").email


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true a skipped browser test is a failure, not a quiet pass."""
    report = yield
    if os.environ.get("CI") == "true" and report.skipped and item.get_closest_marker("browser"):
        report.outcome = "failed"
        report.longrepr = f"Browser test skipped under CI: {report.longrepr}"
    return report


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: a role cached by an earlier test for a user
    id the database has since reused must not leak into this one."""
    cache.clear()


# The field settings every install starts with, as migration 0008 seeds them.
DEFAULT_FIELD_SETTINGS = importlib.import_module(
    "attention_review.reviews.migrations.0008_reviewer_cockpit"
).DEFAULT_FIELD_SETTINGS


@pytest.fixture(autouse=True)
def _field_settings_as_installed(request):
    """Every test with a database starts with the seeded field settings (stage, amount,
    close date and forecast category need a sign-off): a transactional test's flush
    empties every table, seeded rows included, for the tests that run after it."""
    database = {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    if not database and request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue("db")
    for key, tier, display in DEFAULT_FIELD_SETTINGS:
        FieldSetting.objects.get_or_create(key=key, defaults={"tier": tier, "display": display})


@pytest.fixture(scope="session")
def sandbox():
    """One sandbox server for the session; each test gets its data and faults reset."""
    server = SandboxServer(SandboxState(api_key=TEST_API_KEY)).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _point_at_sandbox(request, settings):
    """Every test talks to the sandbox, with short backoffs so retries stay quick."""
    settings.ATTENTION_API_KEY = TEST_API_KEY
    settings.ATTENTION_AUTH_SCHEME = "Bearer"
    settings.ATTENTION_BACKOFF_SECONDS = 0.01
    settings.ATTENTION_RETRY_AFTER_CAP = 0.5
    settings.ATTENTION_MAX_RETRIES = 3
    settings.ATTENTION_READ_TIMEOUT = 2.0
    if "sandbox" in request.fixturenames or "api" in request.fixturenames:
        server = request.getfixturevalue("sandbox")
        server.state.reset()
        settings.ATTENTION_API_BASE_URL = server.base_url
    else:
        # A test that forgets the sandbox must not reach anything real.
        settings.ATTENTION_API_BASE_URL = "http://127.0.0.1:9/v2"


@pytest.fixture
def api(sandbox) -> AttentionClient:
    client = AttentionClient(
        base_url=sandbox.base_url,
        api_key=TEST_API_KEY,
        read_timeout=2.0,
        retry=RetryPolicy(max_retries=3, backoff_seconds=0.01, retry_after_cap=0.5),
    )
    yield client
    client.close()


def _make_user(django_user_model, username, *, email="", group=None, **extra):
    user = django_user_model.objects.create_user(
        username=username, email=email, password=PASSWORD, **extra
    )
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


def _make_persona(django_user_model, account: DemoAccount):
    """One of the demo personas (attention_review.demo), as the demo creates it."""
    return _make_user(
        django_user_model,
        account.username,
        email=account.email,
        group=account.group,
        first_name=account.first_name,
        last_name=account.last_name,
        is_staff=account.is_admin,
        is_superuser=account.is_admin,
    )


@pytest.fixture
def rep(django_user_model):
    return _make_persona(django_user_model, demo_account("rep"))


@pytest.fixture
def rep2(django_user_model):
    return _make_persona(django_user_model, demo_account("rep2"))


@pytest.fixture
def manager(django_user_model):
    return _make_persona(django_user_model, demo_account("manager"))


@pytest.fixture
def admin_user(django_user_model):
    return _make_persona(django_user_model, demo_account("admin"))


@pytest.fixture
def outsider(django_user_model):
    return _make_user(django_user_model, "outsider", email="nobody@elsewhere.test")


@pytest.fixture
def synced(db, api, rep, rep2):
    """The sandbox's demo data pulled into the database, owners linked."""
    return conversation_sync(client=api)


@pytest.fixture
def client_factory():
    """A separate browser session for another person, logged in as `user`."""

    def _client_for(user):
        other = Client()
        other.force_login(user)
        return other

    return _client_for


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login
