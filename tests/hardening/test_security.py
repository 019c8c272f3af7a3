"""Production security: `check --deploy`, the enforced CSP and htmx within it, headers
and cookies, login throttling, and an API key that never shows anywhere."""

import io
import json
import logging
import os
import re
import secrets
import subprocess
import sys
import traceback
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.views.debug import technical_500_response

from attention_review.attention.client import AttentionError, client_from_settings
from attention_review.reviews.models import ConfirmationAttempt, Conversation, SyncRun
from tests.conftest import PASSWORD, TEST_API_KEY
from tests.hardening.helpers import (
    HTMX,
    client_for,
    confirm,
    edit_and_exclude,
    save_draft,
    text_item,
)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "attention_review.settings",
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "review.example.com",
}


def production_env(**extra: str) -> dict[str, str]:
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SECURE_", "SESSION_", "CSRF_", "DEBUG", "SECRET"))
        and key not in {"ALLOWED_HOSTS", "ATTENTION_API_KEY", "DATABASE_URL"}
    }
    return {**inherited, **PRODUCTION_ENV, **extra}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# check --deploy and the production settings ------------------------------------------


def test_check_deploy_reports_nothing_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_the_demo_runs_with_debug_and_is_flagged_by_check_deploy():
    """The demo's DEBUG=1 is what check --deploy is for: it says so."""
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(DEBUG="1"))
    assert result.returncode != 0
    assert "security.W018" in result.stderr


PRODUCTION_VALUES = {
    "DEBUG": False,
    "SECURE_SSL_REDIRECT": True,
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "CSRF_COOKIE_SAMESITE": "Lax",
    "SECURE_HSTS_SECONDS": 31_536_000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": True,
    "SECURE_CONTENT_TYPE_NOSNIFF": True,
    "SECURE_REFERRER_POLICY": "same-origin",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY": "same-origin",
    "X_FRAME_OPTIONS": "DENY",
    "AXES_ENABLED": True,
    "AXES_FAILURE_LIMIT": 5,
    "AXES_LOCKOUT_PARAMETERS": [["username", "ip_address"]],
}


def test_production_settings_are_the_secure_ones():
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({{k: getattr(s, k) for k in {sorted(PRODUCTION_VALUES)!r}}}));"
        "print(s.AXES_COOLOFF_TIME.total_seconds())"
    )
    result = subprocess.run(  # noqa: S603 - fixed interpreter and script
        [sys.executable, "-c", script],
        env=production_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    values_line, cooloff = result.stdout.strip().splitlines()[-2:]
    assert json.loads(values_line) == PRODUCTION_VALUES
    assert float(cooloff) == 15 * 60


@pytest.fixture
def production(settings):
    """The production security settings (above) in this process; tests then send
    requests as over HTTPS, as a TLS-terminating proxy would forward them."""
    for name, value in PRODUCTION_VALUES.items():
        setattr(settings, name, value)
    return settings


def test_plain_http_is_redirected_to_https(production):
    response = Client().get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/"


def test_security_headers_on_every_page(production, rep, manager, admin_user, conversation):
    pages = [
        (None, "/accounts/login/"),
        (rep, reverse("reviews:queue")),
        (rep, reverse("reviews:review", args=[conversation.pk])),
        (manager, reverse("reviews:audit")),
        (admin_user, reverse("admin:index")),
        (rep, "/no-such-page/"),
    ]
    for user, url in pages:
        client = client_for(user) if user else Client()
        response = client.get(url, secure=True)
        assert response.status_code in {200, 404}, url
        assert response["Strict-Transport-Security"] == (
            "max-age=31536000; includeSubDomains; preload"
        )
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"
        assert_strict_csp(response["Content-Security-Policy"])
        assert "Content-Security-Policy-Report-Only" not in response


def test_login_sets_secure_httponly_samesite_cookies(production, rep):
    client = Client()
    client.get("/accounts/login/", secure=True)
    response = client.post(
        "/accounts/login/", {"username": "rep", "password": PASSWORD}, secure=True
    )
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"
    csrf = response.cookies["csrftoken"]
    assert csrf["secure"]
    assert csrf["samesite"] == "Lax"


# The content security policy and htmx ------------------------------------------------

REQUIRED_CSP = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "connect-src": {"'self'"},
    "form-action": {"'self'"},
    "frame-ancestors": {"'none'"},
    "base-uri": {"'none'"},
    "object-src": {"'none'"},
}


def assert_strict_csp(header: str) -> None:
    assert "unsafe-inline" not in header
    assert "unsafe-eval" not in header
    assert "unsafe-hashes" not in header
    directives = {
        name: set(values)
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }
    for name, expected in REQUIRED_CSP.items():
        assert directives.get(name) == expected, (name, directives.get(name))


class _InlineCode(HTMLParser):
    """Inline scripts, inline styles and event-handler attributes: what the CSP blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.meta: dict[str, str] = {}
        self._inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self._inline_script = "src" not in attributes
        if tag == "style":
            self.found.append("<style>")
        if "style" in attributes:
            self.found.append(f"style= on <{tag}>")
        self.found.extend(f"{name}= on <{tag}>" for name in attributes if name.startswith("on"))
        if tag == "meta" and attributes.get("name"):
            self.meta[attributes["name"]] = attributes.get("content") or ""

    def handle_data(self, data):
        if self._inline_script and data.strip():
            self.found.append(f"inline script {data[:60]!r}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._inline_script = False


def test_pages_carry_no_inline_code_and_htmx_is_configured_for_the_csp(rep, manager, conversation):
    client = client_for(rep)
    item = text_item(conversation)
    review = reverse("reviews:review", args=[conversation.pk])
    pages = {
        "login": Client().get("/accounts/login/"),
        "queue": client.get(reverse("reviews:queue")),
        "review": client.get(review),
        "editing": client.get(f"{review}?edit={item.pk}"),
        "item fragment": client.get(
            reverse("reviews:item-edit", args=[conversation.pk, item.pk]), headers=HTMX
        ),
        "audit": client_for(manager).get(reverse("reviews:audit")),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        parser = _InlineCode()
        parser.feed(response.content.decode())
        assert parser.found == [], (name, parser.found)
        if name != "item fragment":
            config = json.loads(parser.meta["htmx-config"])
            assert config["allowEval"] is False
            assert config["allowScriptTags"] is False
            assert config["selfRequestsOnly"] is True
            assert config["includeIndicatorStyles"] is False
            scripts = re.findall(r'<script[^>]*src="([^"]+)"', response.content.decode())
            assert scripts, name
            assert all(src.startswith("/static/") for src in scripts), scripts


# Login throttling --------------------------------------------------------------------


def log_in(client: Client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_five_failed_logins_lock_that_username_from_that_address(rep, rep2):
    client = Client()
    for attempt in range(4):
        response = log_in(client, "rep", f"wrong-{attempt}")
        assert response.status_code == 200, attempt
        assert "Please enter a correct username and password" in response.content.decode()
    assert log_in(client, "rep", "wrong-5").status_code == 429, "the fifth failure locks"
    locked = log_in(client, "rep", PASSWORD)
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Too many failed logins" in page
    assert "Try again in 15 minutes" in page
    assert "_auth_user_id" not in client.session
    # Another user from the same address, and the same user from elsewhere, still log in.
    assert log_in(Client(), "rep2", PASSWORD).status_code == 302
    assert log_in(Client(), "rep", PASSWORD, ip="10.0.0.2").status_code == 302
    # Once the cool-off has passed, the right password works again.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert log_in(Client(), "rep", PASSWORD).status_code == 302


def test_a_successful_login_resets_the_failure_count(rep):
    client = Client()
    for attempt in range(4):
        log_in(client, "rep", f"wrong-{attempt}")
    assert log_in(Client(), "rep", PASSWORD).status_code == 302
    for attempt in range(4):
        assert log_in(Client(), "rep", f"again-{attempt}").status_code == 200
    assert log_in(Client(), "rep", PASSWORD).status_code == 302


# The API key never shows -------------------------------------------------------------

WRONG_KEY = "planted-WRONG-key-5e1d0c"  # a key the sandbox refuses: every call is a 401
KEYS = (TEST_API_KEY, WRONG_KEY, TEST_API_KEY[5:20], WRONG_KEY[8:])


def assert_no_key(text: str, where: str) -> None:
    for key in KEYS:
        assert key not in text, f"the API key appears in {where}"


def response_text(response) -> str:
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    body = (
        b"".join(response.streaming_content) if response.streaming else response.content
    ).decode(errors="replace")
    return headers + "\n" + body


def exception_texts(error: BaseException) -> str:
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    if error.__context__ is not None:  # hidden by `from None`, still reachable
        texts.append("".join(traceback.format_exception(error.__context__)))
    return "\n".join(texts)


def _client_error_and_debug_page(conversation_id: str) -> tuple[AttentionError, str]:
    client = client_from_settings()
    try:
        client.get_conversation(conversation_id)
    except AttentionError as error:
        page = technical_500_response(RequestFactory().get("/"), *sys.exc_info())
        return error, page.content.decode() + repr(client)
    finally:
        client.close()
    raise AssertionError("the call did not fail")


def test_the_api_key_appears_in_no_page_error_log_or_exception(
    sandbox, settings, caplog, rep, manager, admin_user, conversation
):
    outputs: dict[str, str] = {}
    caplog.set_level(logging.DEBUG)
    for noisy in ("urllib3", "attention_review", "django", "axes"):
        caplog.set_level(logging.DEBUG, logger=noisy)
    rep_client, manager_client = client_for(rep), client_for(manager)
    admin_client = client_for(admin_user)

    # A rep's day, with faults on the way: timeouts, a dropped answer, a 500, bad JSON.
    settings.ATTENTION_READ_TIMEOUT = 0.3
    edit_and_exclude(rep_client, conversation)
    sandbox.state.add_fault(kind="latency", delay=0.6, times=1, path_contains="/crm/confirm")
    outputs["timed-out confirm"] = response_text(confirm(rep_client, conversation))
    for fault in [{"kind": "drop"}, {"kind": "status", "status": 500}, {"kind": "malformed_json"}]:
        sandbox.state.add_fault(**fault, times=4, path_contains="page=1")
        outputs[f"sync {fault}"] = response_text(
            manager_client.post(reverse("reviews:sync-now"), headers=HTMX)
        )
        sandbox.state.clear_faults()
    outputs["confirm"] = response_text(confirm(rep_client, conversation))
    review = reverse("reviews:review", args=[conversation.pk])
    outputs["result page"] = response_text(rep_client.get(review))
    outputs["queue"] = response_text(manager_client.get(reverse("reviews:queue")))
    outputs["audit"] = response_text(manager_client.get(reverse("reviews:audit")))
    outputs["csv"] = response_text(manager_client.get(reverse("reviews:audit-export")))

    # A revoked key: every call is refused with 401.
    settings.ATTENTION_API_KEY = WRONG_KEY
    other = Conversation.objects.filter(owner=rep, awaiting_review=True).exclude(
        pk=conversation.pk
    )[0]
    save_draft(rep_client, text_item(other), "Edited before the key was revoked")
    outputs["401 confirm"] = response_text(confirm(rep_client, other))
    outputs["401 sync"] = response_text(manager_client.post(reverse("reviews:sync-now")))
    outputs["401 queue"] = response_text(manager_client.get(reverse("reviews:queue")))
    assert "API key was not accepted" in outputs["401 confirm"]
    assert SyncRun.objects.order_by("-pk")[0].status == SyncRun.Status.FAILED

    # The admin: every list and the change pages of what was just written.
    for model in ["conversation", "intelligenceitem", "confirmationattempt", "syncrun"]:
        url = reverse(f"admin:reviews_{model}_changelist")
        outputs[f"admin {model}"] = response_text(admin_client.get(url))
    attempt = ConfirmationAttempt.objects.order_by("pk")[0]
    for url in [
        reverse("admin:reviews_conversation_change", args=[conversation.pk]),
        reverse("admin:reviews_confirmationattempt_change", args=[attempt.pk]),
        reverse("admin:reviews_syncrun_change", args=[SyncRun.objects.order_by("pk")[0].pk]),
    ]:
        outputs[url] = response_text(admin_client.get(url))

    # Exceptions the client raises, with their hidden causes, and Django's debug error
    # page (what DEBUG=1 would show, frame variables included) for each.
    settings.ATTENTION_MAX_RETRIES = 1
    for wrong_key, fault in [
        (True, None),
        (False, {"kind": "latency", "delay": 0.6}),
        (False, {"kind": "drop"}),
        (False, {"kind": "contract"}),
    ]:
        settings.ATTENTION_API_KEY = WRONG_KEY if wrong_key else TEST_API_KEY
        if fault:
            sandbox.state.add_fault(**fault, times=None)
        error, page = _client_error_and_debug_page(conversation.attention_id)
        outputs[f"exception {fault}"] = exception_texts(error)
        outputs[f"debug 500 page {fault}"] = page
        sandbox.state.clear_faults()

    # Everything the database holds.
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    outputs["database"] = dump.getvalue()

    # Every log record, formatted, with tracebacks.
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    outputs["logs"] = "\n".join(formatter.format(record) for record in caplog.records)
    assert "Attention" in outputs["logs"], "the logs were captured"

    for where, text in outputs.items():
        assert_no_key(text, where)
    assert len(outputs) == 29, "docs/reliability.md counts 29 outputs"


@pytest.mark.django_db(transaction=False)
def test_the_api_key_appears_in_no_command_output(sandbox, tmp_path):
    """`manage.py sync_conversations` with a refused key and with a failing API, its
    stdout and stderr at DEBUG level."""
    env = {
        **production_env(),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "LOG_LEVEL": "DEBUG",
        "ATTENTION_API_BASE_URL": sandbox.base_url,
        "ATTENTION_BACKOFF_SECONDS": "0.01",
        "ATTENTION_MAX_RETRIES": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    assert manage("migrate", "--noinput", env=env).returncode == 0
    refused = manage("sync_conversations", env={**env, "ATTENTION_API_KEY": WRONG_KEY})
    assert refused.returncode != 0
    assert "API key was not accepted" in refused.stderr
    sandbox.state.add_fault(kind="status", status=500, times=None)
    failing = manage("sync_conversations", env={**env, "ATTENTION_API_KEY": TEST_API_KEY})
    assert failing.returncode != 0
    for result in (refused, failing):
        assert_no_key(result.stdout + result.stderr, "manage.py output")
    assert "WARNING attention_review.attention.client" in failing.stderr, "the client logged"
