"""The field accuracy page: per field, the share sent as proposed, edited and excluded,
the reasons given, the typical edits and the weekly trend, on known confirmations."""

from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from attention_review.reviews.models import ChangeReason, ConfirmationAttempt
from tests.factories import make_attempt, make_conversation, make_team

pytestmark = pytest.mark.django_db

ACCURACY = reverse("reviews:accuracy")
HTMX = {"HX-Request": "true"}

# A fixed stretch of past weeks: Monday three weeks back to the Sunday of last week.
TODAY = timezone.localdate()
LAST_MONDAY = TODAY - timedelta(days=TODAY.weekday() + 7)
EARLY_MONDAY = LAST_MONDAY - timedelta(days=14)
PERIOD = {"date_from": EARLY_MONDAY, "date_to": LAST_MONDAY + timedelta(days=6)}


def at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12)))


@pytest.fixture
def history(rep, rep2):
    """rep on East: three confirmations over two weeks; rep2 on West: one, plus a failed
    attempt that must not count."""
    east, west = make_team("East"), make_team("West")
    rep_call = make_conversation(owner=rep, team=east, awaiting=False)
    rep2_call = make_conversation(owner=rep2, team=west, awaiting=False)
    make_attempt(
        conversation=rep_call,
        user=rep,
        finished_at=at(LAST_MONDAY + timedelta(days=1)),
        items=[
            ("next_steps", "Send proposal", "Send the signed proposal", True, False),
            ("budget", "$50k", "$50k", False, False),
            ("competitors", "Gong", None, False, True),
        ],
        reasons={
            "next_steps": ChangeReason.WRONG_VALUE,
            "competitors": ChangeReason.NOT_DISCUSSED,
        },
    )
    make_attempt(
        conversation=rep_call,
        user=rep,
        finished_at=at(LAST_MONDAY + timedelta(days=2)),
        items=[
            ("next_steps", "Send proposal", "Send the signed proposal", True, False),
            ("budget", "$20k", "$20k", False, False),
        ],
    )
    make_attempt(
        conversation=rep_call,
        user=rep,
        finished_at=at(EARLY_MONDAY + timedelta(days=3)),
        items=[
            ("next_steps", "Call back", "Call back on Monday", True, False),
            ("budget", "$5k", "$5k", False, False),
        ],
        reasons={"next_steps": ChangeReason.OUT_OF_DATE},
    )
    make_attempt(
        conversation=rep2_call,
        user=rep2,
        finished_at=at(LAST_MONDAY + timedelta(days=1)),
        items=[
            ("budget", "$10k", "$12k", True, False),
            ("next_steps", "Demo", "Demo", False, False),
        ],
        reasons={"budget": ChangeReason.WRONG_VALUE},
    )
    make_attempt(
        conversation=rep2_call,
        user=rep2,
        finished_at=at(LAST_MONDAY + timedelta(days=1)),
        outcome=ConfirmationAttempt.Outcome.FAILED,
        items=[("stage", "Proposal", "Closed", True, False)],
    )
    return {"east": east, "west": west}


def report_of(client, **params):
    response = client.get(ACCURACY, {**PERIOD, **params})
    assert response.status_code == 200
    return response


def by_key(response):
    return {row.key: row for row in response.context["report"].fields}


def test_reps_may_not_see_it_and_managers_find_it_in_the_nav(login, rep, manager):
    assert login(rep).get(ACCURACY).status_code == 403
    page = login(manager).get(reverse("reviews:audit")).content.decode()
    assert f'href="{ACCURACY}"' in page


def test_shares_per_field_worst_first_with_the_sentence(login, manager, history):
    response = report_of(login(manager))
    fields = response.context["report"].fields
    assert [row.key for row in fields] == ["competitors", "next_steps", "budget"]
    next_steps = by_key(response)["next_steps"]
    assert (next_steps.total, next_steps.accepted, next_steps.edited, next_steps.excluded) == (
        4,
        1,
        3,
        0,
    )
    budget = by_key(response)["budget"]
    assert (budget.total, budget.accepted, budget.edited) == (4, 3, 1)
    html = response.content.decode()
    assert "stage" not in by_key(response)  # only in a failed attempt
    assert (
        "Fields most often changed: <strong>Competitors</strong> (100%), "
        "<strong>Next Steps</strong> (75%), <strong>Budget</strong> (25%) — "
        "check their definitions in Attention."
    ) in html


def test_reasons_and_typical_edits(login, manager, history):
    fields = by_key(report_of(login(manager)))
    reasons = [(reason.label, reason.count) for reason in fields["next_steps"].reasons]
    assert sorted(reasons) == [("Out of date", 1), ("Wrong value", 1)]
    assert [(r.label, r.count) for r in fields["competitors"].reasons] == [("Not discussed", 1)]
    edits = [(e.ai_value, e.sent_value, e.count) for e in fields["next_steps"].typical_edits]
    assert edits == [
        ("Send proposal", "Send the signed proposal", 2),
        ("Call back", "Call back on Monday", 1),
    ]
    assert fields["budget"].typical_edits[0].sent_value == "$12k"


def test_typical_edits_are_the_few_most_frequent(login, manager, rep):
    call = make_conversation(owner=rep, awaiting=False)
    finished = at(LAST_MONDAY + timedelta(days=1))
    pairs = [("A", "A2")] * 3 + [("B", "B2")] * 2 + [("C", "C2"), ("D", "D2")]
    for ai_value, sent_value in pairs:
        make_attempt(
            conversation=call,
            user=rep,
            finished_at=finished,
            items=[("next_steps", ai_value, sent_value, True, False)],
        )
    (row,) = report_of(login(manager)).context["report"].fields
    shown = [(edit.ai_value, edit.count) for edit in row.typical_edits]
    assert shown[:2] == [("A", 3), ("B", 2)]
    assert len(shown) == 3


def test_weekly_trend_has_every_week_of_the_period(login, manager, history):
    response = report_of(login(manager))
    weeks = {week.week: week for week in response.context["report"].weeks}
    assert sorted(weeks) == [EARLY_MONDAY + timedelta(days=7 * n) for n in range(3)]
    last = weeks[LAST_MONDAY]
    assert (last.total, last.edited, last.excluded) == (7, 3, 1)
    early = weeks[EARLY_MONDAY]
    assert (early.total, early.edited, early.excluded) == (2, 1, 0)
    assert weeks[EARLY_MONDAY + timedelta(days=7)].total == 0
    html = response.content.decode()
    assert html.count('class="bar edited"') == 2  # the empty week has no bar
    assert "43% edited, 14% excluded of 7" in html


def test_a_manager_of_a_team_sees_only_that_team(login, manager, rep2, history):
    history["east"].managers.add(manager)
    client = login(manager)
    fields = by_key(report_of(client))
    assert fields["budget"].total == 3
    assert fields["budget"].edited == 0
    assert fields["next_steps"].total == 3
    other_rep = client.get(ACCURACY, {**PERIOD, "rep": rep2.pk})
    report = other_rep.context.get("report")
    assert report is None or report.fields == []


def test_filter_by_team_and_by_rep(login, manager, rep, history):
    client = login(manager)
    west = by_key(report_of(client, team=history["west"].pk))
    assert set(west) == {"budget", "next_steps"}
    assert west["budget"].edited == 1
    assert west["next_steps"].accepted == 1
    mine = by_key(report_of(client, rep=rep.pk))
    assert mine["next_steps"].total == 3


def test_the_period_filters_and_htmx_gets_the_report_alone(login, manager, history):
    client = login(manager)
    only_early = {"date_from": EARLY_MONDAY, "date_to": EARLY_MONDAY + timedelta(days=6)}
    response = client.get(ACCURACY, only_early, headers=HTMX)
    fields = {row.key: row for row in response.context["report"].fields}
    assert (fields["next_steps"].total, fields["budget"].total) == (1, 1)
    assert response.content.decode().lstrip().startswith('<div id="report">')


def test_an_inverted_or_too_long_period_is_explained(login, manager):
    client = login(manager)
    inverted = client.get(ACCURACY, {"date_from": TODAY, "date_to": TODAY - timedelta(days=1)})
    assert "The start date is after the end date" in inverted.content.decode()
    too_long = client.get(ACCURACY, {"date_from": TODAY - timedelta(days=400), "date_to": TODAY})
    assert "at most a year" in too_long.content.decode()


def test_nothing_confirmed_says_so(login, manager):
    html = login(manager).get(ACCURACY).content.decode()
    assert "Nothing confirmed in this selection" in html


def test_one_field_alone_with_its_own_trend(login, manager, history):
    client = login(manager)
    html = report_of(client).content.decode()
    assert "field=next_steps" in html  # each field's title links to it alone
    response = report_of(client, field="next_steps")
    (row,) = response.context["report"].fields
    assert (row.key, row.total) == ("next_steps", 4)
    weeks = {week.week: week for week in response.context["report"].weeks}
    assert (weeks[LAST_MONDAY].total, weeks[LAST_MONDAY].edited) == (3, 2)
    assert "Share changed, week by week: Next Steps" in response.content.decode()


def test_a_link_without_dates_reads_the_default_period(login, manager, history):
    response = login(manager).get(ACCURACY, {"team": history["west"].pk})
    assert response.status_code == 200
    filters = response.context["filters"]
    assert filters.date_to == TODAY
    assert {row.key for row in response.context["report"].fields} == {"budget", "next_steps"}
