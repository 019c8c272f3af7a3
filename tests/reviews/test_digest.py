"""The daily digest: each reviewer with calls overdue for review gets one email a day
listing them, with links into the app; nobody else gets one."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from attention_review.reviews.models import ReviewDigest
from attention_review.reviews.services.digest import digest_send
from tests.factories import make_conversation

pytestmark = pytest.mark.django_db

BASE_URL = "https://review.example.test"


@pytest.fixture(autouse=True)
def _deadline(settings):
    settings.REVIEW_DEADLINE_HOURS = 48
    settings.APP_BASE_URL = BASE_URL


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def calls(rep, rep2, now):
    """Riley (rep) has three overdue calls, one of them Sam's call assigned to Riley, and
    one call not yet due; Sam (rep2) has their own overdue call."""
    ago = lambda hours: now - timedelta(hours=hours)  # noqa: E731
    return {
        "oldest": make_conversation(owner=rep, title="Acme & Co discovery", started_at=ago(120)),
        "overdue": make_conversation(owner=rep, title="Globex pricing", started_at=ago(49)),
        "assigned": make_conversation(
            owner=rep2, assigned_to=rep, title="Initech renewal", started_at=ago(72)
        ),
        "on_time": make_conversation(owner=rep, title="Umbrella intro", started_at=ago(47)),
        "confirmed": make_conversation(
            owner=rep, title="Old confirmed call", started_at=ago(200), awaiting=False
        ),
        "sams": make_conversation(owner=rep2, title="Hooli follow-up", started_at=ago(60)),
    }


def email_to(mailoutbox, user):
    found = [email for email in mailoutbox if email.to == [user.email]]
    assert len(found) == 1, f"{len(found)} emails to {user.email}"
    return found[0]


def link(conversation) -> str:
    return BASE_URL + reverse("reviews:review", args=[conversation.pk])


def test_a_rep_gets_their_overdue_calls_with_links(mailoutbox, rep, calls, now):
    assert digest_send(now=now) == 2
    email = email_to(mailoutbox, rep)
    assert email.subject == "3 calls overdue for review"
    text = email.body
    # The most overdue first, each with how overdue it is and its absolute link.
    assert text.index("Acme & Co discovery") < text.index("Initech renewal")
    assert text.index("Initech renewal") < text.index("Globex pricing")
    assert "Acme & Co discovery (call of" in text, "plain text is not HTML-escaped"
    assert "Overdue by 3 d" in text
    assert "Overdue by 1 d" in text
    assert "Overdue by 1 h" in text
    for name in ("oldest", "overdue", "assigned"):
        assert link(calls[name]) in text
    assert BASE_URL + reverse("reviews:queue") in text
    assert "Hello Riley" in text

    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    assert f'<a href="{link(calls["oldest"])}">Acme &amp; Co discovery</a>' in html
    assert "Overdue by 3 d" in html


def test_a_rep_sees_only_their_own_and_assigned_calls(mailoutbox, rep, rep2, calls, now):
    digest_send(now=now)
    rileys = email_to(mailoutbox, rep).body
    assert "Umbrella intro" not in rileys, "not due yet"
    assert "Old confirmed call" not in rileys, "no longer awaiting review"
    assert "Hooli follow-up" not in rileys, "Sam's call"
    sams = email_to(mailoutbox, rep2)
    assert sams.subject == "2 calls overdue for review"
    assert "Hooli follow-up" in sams.body
    assert "Initech renewal" in sams.body, "the owner of an assigned call still hears of it"
    assert "Globex pricing" not in sams.body


def test_nobody_without_an_overdue_call_or_an_email_gets_one(
    mailoutbox, rep, manager, django_user_model, now
):
    no_email = django_user_model.objects.create_user("noemail", password="x")
    make_conversation(
        owner=no_email, title="Overdue but unreachable", started_at=now - timedelta(days=5)
    )
    make_conversation(owner=rep, title="Fresh call", started_at=now - timedelta(hours=1))
    assert digest_send(now=now) == 0
    assert mailoutbox == []
    assert not ReviewDigest.objects.exists()


def test_one_digest_a_day_and_another_the_next_day(mailoutbox, rep, rep2, calls, now):
    assert digest_send(now=now) == 2
    assert digest_send(now=now + timedelta(minutes=10)) == 0
    assert len(mailoutbox) == 2
    recorded = ReviewDigest.objects.get(user=rep)
    assert (recorded.sent_on, recorded.overdue) == (timezone.localdate(now), 3)

    tomorrow = now + timedelta(days=1)
    assert digest_send(now=tomorrow) == 2
    assert len(mailoutbox) == 4
    assert mailoutbox[-1].subject.endswith("overdue for review")


def test_a_digest_recorded_by_another_run_is_not_sent_again(mailoutbox, rep, rep2, calls, now):
    ReviewDigest.objects.create(user=rep, sent_on=timezone.localdate(now), overdue=3)
    assert digest_send(now=now) == 1
    assert [email.to for email in mailoutbox] == [[rep2.email]]


def test_the_command_and_the_periodic_scheduler_send_it(mailoutbox, sandbox, rep, rep2, calls):
    call_command("send_review_digest")
    assert len(mailoutbox) == 2
    # schedule_sync queues the digest on every run; today's are already sent.
    call_command("schedule_sync", "--once")
    assert len(mailoutbox) == 2
    ReviewDigest.objects.all().delete()
    call_command("schedule_sync", "--once")
    assert sorted(email.to[0] for email in mailoutbox[2:]) == sorted([rep.email, rep2.email])
