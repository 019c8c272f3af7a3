"""Login throttling keyed on the real client behind trusted proxies, through the real
login form.

django-axes reads its AXES_* settings (and django-ipware its IPWARE_*) from
django.conf.settings on every request; axes.conf only fills in defaults when it is
imported. So the `settings` fixture changes them for one test. TRUSTED_PROXY_COUNT is
translated into those settings when settings.py is imported: the fixture below applies
the same translation, and the last tests check settings.py's own in a fresh process.
"""

import pytest
from axes.models import AccessAttempt
from django.test import Client

from attention_review.operations.client_ip import axes_ip_settings
from tests.conftest import PASSWORD

from .helpers import run_django

PROXY = "10.0.0.1"  # the proxy's own address: REMOTE_ADDR of every request
ATTACKER = "203.0.113.66"
VICTIM = "198.51.100.7"

pytestmark = pytest.mark.django_db


@pytest.fixture
def proxies(settings):
    def _trust(count: int) -> None:
        settings.AXES_ENABLED = True
        settings.TRUSTED_PROXY_COUNT = count
        for name, value in axes_ip_settings(count).items():
            setattr(settings, name, value)

    return _trust


def through_proxy(client_address: str, sent: str | None = None) -> str:
    """X-Forwarded-For as one proxy forwards it: what the client sent, if anything, then
    the address the proxy saw the connection come from."""
    return f"{sent}, {client_address}" if sent else client_address


def log_in(password: str, *, forwarded_for: str | None, remote: str = PROXY, user="rep"):
    extra = {"REMOTE_ADDR": remote}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return Client().post("/accounts/login/", {"username": user, "password": password}, **extra)


def fail_five_times(forwarded_for: str | None, remote: str = PROXY) -> None:
    for attempt in range(4):
        response = log_in(f"wrong-{attempt}", forwarded_for=forwarded_for, remote=remote)
        assert response.status_code == 200, attempt
    assert log_in("wrong-5", forwarded_for=forwarded_for, remote=remote).status_code == 429


def keyed_on() -> set[str | None]:
    return set(AccessAttempt.objects.values_list("ip_address", flat=True))


def test_behind_a_proxy_the_attacker_is_locked_out_and_the_victim_is_not(proxies, rep):
    proxies(1)
    fail_five_times(through_proxy(ATTACKER))
    assert keyed_on() == {ATTACKER}
    # Locked: even the right password is refused from the attacker's address...
    assert log_in(PASSWORD, forwarded_for=through_proxy(ATTACKER)).status_code == 429
    # ...while the user, through the same proxy from elsewhere, logs in.
    assert log_in(PASSWORD, forwarded_for=through_proxy(VICTIM)).status_code == 302


def test_a_spoofed_forwarded_for_entry_does_not_choose_the_address(proxies, rep):
    proxies(1)
    # The attacker claims to be the victim; the proxy appends the attacker's address.
    fail_five_times(through_proxy(ATTACKER, sent=VICTIM))
    assert keyed_on() == {ATTACKER}
    assert log_in(PASSWORD, forwarded_for=through_proxy(VICTIM)).status_code == 302
    # Claiming yet another address does not give the attacker a fresh count either.
    spoofed = through_proxy(ATTACKER, sent="192.0.2.1, 192.0.2.2")
    assert log_in(PASSWORD, forwarded_for=spoofed).status_code == 429


def test_a_malformed_header_never_yields_the_victims_address(proxies, rep):
    proxies(1)
    # An unclosed quote makes the whole header unreadable to django-ipware, which then
    # keys the attempt on the proxy's own address: never on an address the attacker
    # names.
    fail_five_times(through_proxy(ATTACKER, sent=f'"{VICTIM}'))
    assert keyed_on() == {PROXY}
    assert log_in(PASSWORD, forwarded_for=through_proxy(VICTIM)).status_code == 302
    assert log_in(PASSWORD, forwarded_for=through_proxy(ATTACKER)).status_code == 302


def test_behind_two_proxies_the_client_is_the_entry_the_outer_one_appended(proxies, rep):
    proxies(2)
    inner_proxy_saw = "172.16.0.3"  # the outer proxy, as the inner one appended it
    fail_five_times(f"{VICTIM}, {ATTACKER}, {inner_proxy_saw}")
    assert keyed_on() == {ATTACKER}
    assert log_in(PASSWORD, forwarded_for=f"{VICTIM}, {inner_proxy_saw}").status_code == 302


def test_without_trusted_proxies_the_address_is_remote_addr(proxies, rep):
    proxies(0)
    for attempt in range(4):
        # Whatever X-Forwarded-For says, every failure counts against REMOTE_ADDR.
        response = log_in(f"wrong-{attempt}", forwarded_for=f"192.0.2.{attempt}")
        assert response.status_code == 200
    assert log_in("wrong-5", forwarded_for=VICTIM).status_code == 429
    assert keyed_on() == {PROXY}
    assert log_in(PASSWORD, forwarded_for=None, remote=VICTIM).status_code == 302


CLIENT_IP = """
from django.conf import settings
from django.test import RequestFactory
from axes.helpers import get_client_ip_address
request = RequestFactory().post(
    "/accounts/login/", REMOTE_ADDR="10.0.0.1",
    HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.66",
)
print(settings.TRUSTED_PROXY_COUNT, get_client_ip_address(request))
"""


@pytest.mark.parametrize(
    ("count", "expected"), [("", "0 10.0.0.1"), ("1", "1 203.0.113.66"), ("2", "2 198.51.100.7")]
)
def test_trusted_proxy_count_is_read_from_the_environment(tmp_path, count, expected):
    result = run_django(
        CLIENT_IP, database=tmp_path / "absent" / "db.sqlite3", TRUSTED_PROXY_COUNT=count
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_a_negative_proxy_count_is_refused(tmp_path):
    result = run_django("", database=tmp_path / "db.sqlite3", TRUSTED_PROXY_COUNT="-1")
    assert result.returncode != 0
    assert "TRUSTED_PROXY_COUNT must be 0 or more" in result.stderr
