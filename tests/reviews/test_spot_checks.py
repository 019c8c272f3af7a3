"""Spot checks: a manager samples a rep's confirmed items at random, agrees or disagrees
with each, and sees each rep's agreement rate beside their quick approvals."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from attention_review.reviews.models import (
    ConfirmationAttempt,
    ConfirmedItem,
    IntelligenceItem,
    SpotCheck,
)
from tests.factories import make_attempt, make_conversation, make_team

pytestmark = pytest.mark.django_db

OVERVIEW = reverse("reviews:spot-checks")
HTMX = {"HX-Request": "true"}


def sent_items(count, prefix):
    return [
        (f"field_{n}", f"{prefix} AI {n}", f"{prefix} sent {n}", n % 3 == 0, False)
        for n in range(count)
    ]


@pytest.fixture
def history(rep, rep2):
    """rep on East: eight items sent over two confirmations (one a quick approval), two
    excluded, and a failed attempt; rep2 on West: three items sent."""
    east, west = make_team("East"), make_team("West")
    now = timezone.now()
    rep_call = make_conversation(owner=rep, team=east, title="Acme discovery", awaiting=False)
    rep2_call = make_conversation(owner=rep2, team=west, title="Globex renewal", awaiting=False)
    first = make_attempt(
        conversation=rep_call,
        user=rep,
        finished_at=now - timedelta(days=2),
        items=[
            *sent_items(5, "first"),
            ("dropped_a", "x", None, False, True),
            ("dropped_b", "y", None, False, True),
        ],
    )
    make_attempt(
        conversation=rep_call,
        user=rep,
        finished_at=now - timedelta(days=1),
        review_seconds=10,
        items=[
            ("budget", "$50k", "$50k", False, False),
            ("stage", "Proposal", "Proposal", False, False),
            ("next_steps", "Send the quote", "Send the quote", False, False),
        ],
    )
    failed = make_attempt(
        conversation=rep_call,
        user=rep,
        finished_at=now - timedelta(hours=1),
        outcome=ConfirmationAttempt.Outcome.FAILED,
        items=sent_items(4, "failed"),
    )
    make_attempt(
        conversation=rep2_call,
        user=rep2,
        finished_at=now - timedelta(days=1),
        items=sent_items(3, "rep2"),
    )
    return {"east": east, "west": west, "first": first, "failed": failed}


def ask(client, rep, size=5, **headers):
    return client.post(OVERVIEW, {"rep": rep.pk, "size": size}, headers=headers or None)


def verdict(client, check, item, value, note="", **headers):
    url = reverse("reviews:spot-check-verdict", args=[check.pk, item.pk])
    return client.post(url, {"verdict": value, "note": note}, headers=headers or None)


def test_reps_may_not_use_spot_checks(login, rep, manager, history):
    check = SpotCheck.objects.create(manager=manager, rep=rep)
    client = login(rep)
    assert client.get(OVERVIEW).status_code == 403
    assert ask(client, rep).status_code == 403
    assert client.get(reverse("reviews:spot-check", args=[check.pk])).status_code == 403


def test_a_sample_of_the_size_asked_from_the_reps_sent_items(login, manager, rep, history):
    response = ask(login(manager), rep, size=5)
    check = SpotCheck.objects.get()
    assert response["Location"] == reverse("reviews:spot-check", args=[check.pk])
    sampled = ConfirmedItem.objects.filter(pk__in=check.items.values("confirmed_item"))
    assert sampled.count() == 5
    assert {entry.attempt.user_id for entry in sampled} == {rep.pk}
    assert {entry.attempt.outcome for entry in sampled} == {ConfirmationAttempt.Outcome.SUCCEEDED}
    assert not any(entry.is_excluded for entry in sampled)
    assert (check.manager, check.rep) == (manager, rep)


def test_the_page_lists_each_item_with_its_call_and_values(login, manager, rep, history):
    client = login(manager)
    response = client.get(ask(client, rep, size=8)["Location"])
    html = response.content.decode()
    assert "Sampled 8 items for a second look." in html
    assert html.count('class="card sample"') == 8
    assert "Acme discovery" in html
    for entry in ConfirmedItem.objects.filter(attempt=history["first"], is_excluded=False):
        assert entry.title in html
        assert str(entry.ai_value) in html
        assert str(entry.sent_value) in html


def test_evidence_is_shown_when_the_item_has_some(login, manager, rep, history):
    entry = ConfirmedItem.objects.filter(attempt=history["first"], is_excluded=False).first()
    IntelligenceItem.objects.create(
        conversation=history["first"].conversation,
        item_id=entry.item_id,
        key=entry.key,
        ai_value=entry.ai_value,
        evidence=[
            {"quote": "We have fifty thousand set aside", "speaker_name": "Pat Buyer", "start": 75}
        ],
    )
    client = login(manager)
    response = client.get(ask(client, rep, size=8)["Location"])
    html = response.content.decode()
    assert "We have fifty thousand set aside" in html
    assert "Pat Buyer" in html
    assert "No evidence was given for this value." in html  # the others


def test_later_samples_leave_out_items_already_checked(login, manager, rep, history):
    client = login(manager)
    ask(client, rep, size=6)
    ask(client, rep, size=6)
    first, second = SpotCheck.objects.order_by("pk")
    assert second.items.count() == 2  # eight sent, six already checked
    assert not set(first.items.values_list("confirmed_item", flat=True)) & set(
        second.items.values_list("confirmed_item", flat=True)
    )
    response = ask(client, rep, size=6)
    assert response.status_code == 200
    assert "has no confirmed items left to sample" in response.content.decode()
    assert SpotCheck.objects.count() == 2


@pytest.mark.parametrize("size", [0, 26, "many"])
def test_the_size_is_bounded(login, manager, rep, history, size):
    response = ask(login(manager), rep, size=size)
    assert response.status_code == 200
    assert 'class="errorlist"' in response.content.decode()
    assert not SpotCheck.objects.exists()


def test_a_manager_of_a_team_samples_only_its_calls_and_sees_only_its_reps(
    login, manager, admin_user, rep, rep2, history
):
    history["east"].managers.add(manager)
    elsewhere = login(admin_user)
    ask(elsewhere, rep2, size=2)
    rep2_check = SpotCheck.objects.get(rep=rep2)
    client = login(manager)
    response = ask(client, rep2)
    assert response.status_code == 200
    assert SpotCheck.objects.filter(manager=manager).count() == 0
    assert client.get(reverse("reviews:spot-check", args=[rep2_check.pk])).status_code == 404
    item = rep2_check.items.first()
    assert verdict(client, rep2_check, item, "agree").status_code == 404
    overview = client.get(OVERVIEW)
    assert [check.pk for check in overview.context["checks"]] == []
    assert rep2.pk not in {row.rep_id for row in overview.context["rows"]}


def test_agree_with_htmx_swaps_the_item(login, manager, rep, history):
    client = login(manager)
    ask(client, rep, size=2)
    check = SpotCheck.objects.get()
    item = check.items.first()
    response = verdict(client, check, item, "agree", **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith(f'<article class="card sample" id="sample-{item.pk}"')
    assert "Agreed" in html
    assert "Verdict saved." in html
    item.refresh_from_db()
    assert item.verdict == "agree"
    assert item.decided_at is not None
    check.refresh_from_db()
    assert check.finished_at is None  # one of two decided


def test_disagree_with_a_note_without_javascript(login, manager, rep, history):
    client = login(manager)
    ask(client, rep, size=1)
    check = SpotCheck.objects.get()
    item = check.items.get()
    response = verdict(client, check, item, "disagree", note="The amount was for next year")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Disagreed" in page
    assert 'value="The amount was for next year"' in page
    check.refresh_from_db()
    assert check.finished_at is not None


def test_a_verdict_must_be_agree_or_disagree(login, manager, rep, history):
    client = login(manager)
    ask(client, rep, size=1)
    check = SpotCheck.objects.get()
    response = verdict(client, check, check.items.get(), "maybe", **HTMX)
    assert "Choose Agree or Disagree" in response.content.decode()
    assert check.items.get().verdict == ""


def test_the_agreement_rate_per_rep_beside_the_quick_approvals(login, manager, rep, rep2, history):
    client = login(manager)
    ask(client, rep, size=5)
    check = SpotCheck.objects.get()
    for item, value in zip(
        check.items.all(), ["agree", "agree", "agree", "disagree"], strict=False
    ):
        verdict(client, check, item, value)
    response = client.get(OVERVIEW)
    rows = {row.rep_id: row for row in response.context["rows"]}
    assert (rows[rep.pk].agreement.agreed, rows[rep.pk].agreement.decided) == (3, 4)
    assert rows[rep.pk].summary.quick_approvals == 1
    assert rows[rep2.pk].agreement is None
    html = response.content.decode()
    row_html = html[html.index(f'data-rep="{rep.pk}"') :].split("</tr>")[0]
    assert "75%" in row_html
    assert "3 of 4 agreed" in row_html
    assert 'class="num quick">1' in row_html
    assert "1 of 1" not in html
    assert "4 of 5" in html
