"""The managers' audit ledger: filters, diff, CSV, per-rep summary and chart."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from attention_review.reviews.models import ConfirmationAttempt
from tests.factories import make_attempt, make_conversation, make_team

pytestmark = pytest.mark.django_db

AUDIT = reverse("reviews:audit")
EXPORT = reverse("reviews:audit-export")


@pytest.fixture
def history(rep, rep2):
    """Known confirmations: rep on team East, rep2 on team West."""
    east, west = make_team("East"), make_team("West")
    now = timezone.now()
    rep_call = make_conversation(owner=rep, team=east, title="Acme discovery", awaiting=False)
    rep_call_2 = make_conversation(owner=rep, team=east, title="Acme pricing", awaiting=False)
    rep2_call = make_conversation(owner=rep2, team=west, title="Globex renewal", awaiting=False)
    edited = make_attempt(
        conversation=rep_call,
        user=rep,
        finished_at=now - timedelta(days=1),
        review_seconds=90,
        items=[
            (
                "next_steps",
                "Send the proposal next week",
                "Send the signed proposal Friday",
                True,
                False,
            ),
            ("budget", "$50k", "$50k", False, False),
            ("competitors", "Gong", None, False, True),
        ],
    )
    quick = make_attempt(
        conversation=rep_call_2,
        user=rep,
        finished_at=now - timedelta(days=2),
        review_seconds=12,
        items=[
            ("budget", "$20k", "$20k", False, False),
            ("stage", "Proposal", "Proposal", False, False),
        ],
    )
    failed = make_attempt(
        conversation=rep2_call,
        user=rep2,
        finished_at=now - timedelta(days=3),
        outcome=ConfirmationAttempt.Outcome.FAILED,
        items=[("next_steps", "Call back", "Call back", False, False)],
    )
    rep2_ok = make_attempt(
        conversation=rep2_call,
        user=rep2,
        finished_at=now - timedelta(days=3),
        review_seconds=300,
        items=[("next_steps", "Call back", '=HYPERLINK("http://evil")', True, False)],
    )
    return {
        "east": east,
        "west": west,
        "edited": edited,
        "quick": quick,
        "failed": failed,
        "rep2_ok": rep2_ok,
    }


def ledger_ids(response):
    return [entry.attempt.pk for entry in response.context["attempts"]]


def test_anonymous_is_sent_to_log_in(client):
    for url in (AUDIT, EXPORT):
        response = client.get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_reps_may_not_audit(login, rep):
    client = login(rep)
    assert client.get(AUDIT).status_code == 403
    assert client.get(EXPORT).status_code == 403


@pytest.mark.parametrize("persona", ["manager", "admin_user"])
def test_managers_and_admins_see_every_attempt_newest_first(login, request, history, persona):
    response = login(request.getfixturevalue(persona)).get(AUDIT)
    assert response.status_code == 200
    expected = [history[k].pk for k in ("edited", "quick", "rep2_ok", "failed")]
    assert sorted(ledger_ids(response)) == sorted(expected)
    assert ledger_ids(response)[0] == history["edited"].pk


def test_a_manager_with_teams_sees_only_those_teams(login, manager, history):
    history["east"].managers.add(manager)
    response = login(manager).get(AUDIT)
    assert set(ledger_ids(response)) == {history["edited"].pk, history["quick"].pk}


def test_filter_by_rep(login, manager, rep2, history):
    response = login(manager).get(AUDIT, {"rep": rep2.pk})
    assert set(ledger_ids(response)) == {history["failed"].pk, history["rep2_ok"].pk}


def test_filter_by_team(login, manager, history):
    response = login(manager).get(AUDIT, {"team": history["east"].pk})
    assert set(ledger_ids(response)) == {history["edited"].pk, history["quick"].pk}


def test_filter_by_date_range(login, manager, history):
    day = timezone.localdate() - timedelta(days=2)
    response = login(manager).get(AUDIT, {"date_from": day, "date_to": day})
    assert ledger_ids(response) == [history["quick"].pk]


def test_an_inverted_date_range_is_explained(login, manager, history):
    today = timezone.localdate()
    response = login(manager).get(AUDIT, {"date_from": today, "date_to": today - timedelta(days=3)})
    assert "The start date is after the end date" in response.content.decode()


def test_filter_by_field_and_only_edited(login, manager, history):
    client = login(manager)
    by_field = client.get(AUDIT, {"field": "stage"})
    assert ledger_ids(by_field) == [history["quick"].pk]
    only_edited = client.get(AUDIT, {"only_edited": "on"})
    assert set(ledger_ids(only_edited)) == {history["edited"].pk, history["rep2_ok"].pk}
    shown = [item.key for item in only_edited.context["attempts"][0].items]
    assert shown == ["next_steps"], "only the edited items are listed"


def test_filter_by_outcome(login, manager, history):
    response = login(manager).get(AUDIT, {"outcome": "failed"})
    assert ledger_ids(response) == [history["failed"].pk]


def test_an_edit_is_shown_as_a_readable_diff(login, manager, history):
    html = login(manager).get(AUDIT).content.decode()
    assert "<del>Send the proposal next week</del>" not in html
    assert "<del>proposal next week</del>" in html or "<del>next week</del>" in html
    assert "<ins>signed</ins>" in html
    assert "<ins>Friday</ins>" in html
    assert "not sent" in html  # the excluded item


def test_summary_figures_on_known_data(login, manager, rep, rep2, history):
    response = login(manager).get(AUDIT)
    summaries = {s.user_id: s for s in response.context["summaries"]}
    rep_summary = summaries[rep.pk]
    assert rep_summary.confirmations == 2
    assert rep_summary.items_confirmed == 4  # 2 sent + 2 sent; the excluded one is not
    assert rep_summary.items_edited == 1
    assert rep_summary.share_edited == pytest.approx(0.25)
    assert rep_summary.median_seconds == pytest.approx((90 + 12) / 2)
    assert rep_summary.quick_approvals == 1
    rep2_summary = summaries[rep2.pk]
    assert rep2_summary.confirmations == 1, "the failed attempt is not a confirmation"
    assert rep2_summary.quick_approvals == 0
    html = response.content.decode()
    assert "25%" in html
    assert "51 s" in html


def test_chart_of_confirmations_per_day_is_server_side_svg(login, manager, history):
    response = login(manager).get(AUDIT)
    html = response.content.decode()
    chart = response.context["chart"]
    assert '<svg class="chart"' in html
    assert 'role="img"' in html
    assert len(chart.bars) == 30, "one bar per day of the default 30-day period"
    assert sum(bar.count for bar in chart.bars) == 3
    assert html.count('class="bar"') == 30
    assert "3 confirmations over 30 days" in html


def test_csv_export_has_a_row_per_item_with_the_same_filters(login, manager, rep, history):
    response = login(manager).get(EXPORT, {"rep": rep.pk})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 5  # 3 items + 2 items
    edited = next(row for row in rows if row["edited"] == "yes")
    assert edited["ai_value"] == "Send the proposal next week"
    assert edited["sent_value"] == "Send the signed proposal Friday"
    assert edited["confirmed_by"] == rep.get_full_name()
    excluded = next(row for row in rows if row["excluded"] == "yes")
    assert excluded["sent_value"] == ""


def test_csv_export_defuses_spreadsheet_formulas(login, manager, rep2, history):
    response = login(manager).get(EXPORT, {"rep": rep2.pk, "outcome": "succeeded"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert rows[0]["sent_value"] == '\'=HYPERLINK("http://evil")'
    assert not any(value.startswith(("=", "+", "-", "@")) for row in rows for value in row.values())


def test_ledger_is_paginated(login, manager, rep):
    conversation = make_conversation(owner=rep, awaiting=False)
    for _ in range(30):
        make_attempt(
            conversation=conversation, user=rep, items=[("budget", "1", "1", False, False)]
        )
    client = login(manager)
    first = client.get(AUDIT)
    assert len(first.context["attempts"]) == 25
    assert first.context["has_next"]
    second = client.get(AUDIT, {"page": 2})
    assert len(second.context["attempts"]) == 5
    assert not second.context["has_next"]


def test_audit_page_query_count_is_pinned_and_does_not_grow_with_rows(login, manager, rep):
    client = login(manager)
    conversation = make_conversation(owner=rep, awaiting=False)
    make_attempt(conversation=conversation, user=rep, items=[("budget", "1", "2", True, False)])
    client.get(AUDIT)
    with CaptureQueriesContext(connection) as few:
        client.get(AUDIT)
    for _ in range(20):
        make_attempt(
            conversation=conversation,
            user=rep,
            items=[("budget", "1", "2", True, False), ("stage", "a", "a", False, False)],
        )
    with CaptureQueriesContext(connection) as many:
        client.get(AUDIT)
    assert len(many) == len(few)
    assert len(many) <= 8
    with CaptureQueriesContext(connection) as filtered:
        client.get(AUDIT, {"rep": rep.pk, "only_edited": "on", "field": "budget"})
    assert len(filtered) <= 8
