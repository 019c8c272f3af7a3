"""Field context: beside each proposal, the values earlier calls of the same opportunity
confirmed for the field ("Amount: $123,456, from the call of Oct 2"), and a flag when
the proposal contradicts the latest of them."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from attention_review.reviews.models import Conversation
from tests.factories import make_attempt, make_conversation, make_item
from tests.sign_off import sign_off

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
FLAG = "Differs from earlier calls"


def linked_opportunities(conversation: Conversation) -> list[str]:
    records = conversation.raw["attributes"]["linkedCrmRecords"]
    return [record["id"] for record in records if record["code"] == "Opportunity"]


@pytest.fixture
def two_calls(synced, rep, login):
    """Two of rep's calls about one opportunity, `earlier` and `later` by date: both
    suggest it, or the later one lists it and the rep picks it there."""
    calls = list(
        Conversation.objects.filter(owner=rep, awaiting_review=True).order_by("started_at")
    )
    for index, earlier in enumerate(calls):
        opportunity = earlier.default_opportunity_id
        for later in calls[index + 1 :]:
            if opportunity and later.default_opportunity_id == opportunity:
                return earlier, later
    for index, earlier in enumerate(calls):
        for later in calls[index + 1 :]:
            if earlier.intelligence_opportunity_id in linked_opportunities(later):
                login(rep).post(
                    reverse("reviews:opportunity", args=[later.pk]),
                    {"opportunity_id": earlier.intelligence_opportunity_id},
                )
                later.refresh_from_db()
                return earlier, later
    raise AssertionError("no two calls of one opportunity in the sandbox data")


def card(html: str, item) -> str:
    start = html.index(f'id="item-{item.pk}"')
    return html[start : html.index("</article>", start)]


def history_lines(card_html: str) -> list[str]:
    lines = re.findall(r"<li><span class=\"history-field\">(.*?)</li>", card_html, re.S)
    return [re.sub(r"<[^>]+>", "", line) for line in lines]


def day(moment) -> str:
    local = timezone.localtime(moment)
    return f"{local:%b} {local.day}"


def test_an_earlier_call_of_the_opportunity_shows_its_values_and_flags_a_contradiction(
    login, rep, two_calls
):
    earlier, later = two_calls
    client = login(rep)
    later_next_steps = later.items.get(key="next_steps")
    later_amount = later.items.get(key="amount")

    # The earlier call is confirmed with the later call's next steps, and its own amount.
    for key, value in [("next_steps", later_next_steps.ai_value), ("amount", "123456")]:
        item = earlier.items.get(key=key)
        client.post(
            reverse("reviews:item", args=[earlier.pk, item.pk]),
            {"value": value, "version": item.version},
        )
    sign_off(client, earlier)
    earlier.refresh_from_db()
    client.post(
        reverse("reviews:confirm", args=[earlier.pk]), {"review_round": earlier.review_round}
    )
    earlier.refresh_from_db()
    assert not earlier.awaiting_review

    html = client.get(reverse("reviews:review", args=[later.pk])).content.decode()
    amount = card(html, later_amount)
    (line,) = history_lines(amount)
    assert line.startswith("Amount: $123,456, from the call of " + day(earlier.started_at))
    assert FLAG in amount
    assert later_amount.ai_value != 123456
    next_steps = card(html, later_next_steps)
    assert "from the call of " + day(earlier.started_at) in history_lines(next_steps)[0]
    assert FLAG not in next_steps, "the same value is no contradiction"

    # A card swapped after a decision shows the same context.
    fragment = client.post(
        reverse("reviews:item-choose", args=[later.pk, later_amount.pk]),
        {"choice": "accept", "version": later_amount.version},
        headers=HTMX,
    ).content.decode()
    assert history_lines(fragment) == [line]
    assert FLAG in fragment

    # The earlier call itself shows nothing of its own confirmation as "earlier".
    own = client.get(reverse("reviews:review", args=[earlier.pk])).content.decode()
    assert "from the call of" not in own


def test_up_to_three_calls_latest_first_one_value_per_call(login, rep, two_calls):
    _, later = two_calls
    amount = later.items.get(key="amount")
    opportunity = later.opportunity_id
    now = timezone.now()

    def confirmed_call(days_ago, *values, opportunity_id=opportunity, excluded=False):
        call = make_conversation(
            owner=rep, awaiting=False, started_at=now - timedelta(days=days_ago)
        )
        for value in values:  # one attempt per review round, the last the latest
            make_attempt(
                conversation=call,
                user=rep,
                items=[("amount", 1, value, False, excluded)],
                opportunity_id=opportunity_id,
            )
        return call

    confirmed_call(40, 1000)
    third = confirmed_call(30, 2000)
    second = confirmed_call(20, 3000)
    latest = confirmed_call(10, 9999, 4000)  # confirmed twice: its last value counts
    confirmed_call(5, 5000, excluded=True)  # left out of its confirm: not a value
    confirmed_call(5, 6000, opportunity_id="006-another-deal")

    html = login(rep).get(reverse("reviews:review", args=[later.pk])).content.decode()
    lines = history_lines(card(html, amount))
    assert [re.search(r"\$\d[\d,]*\d", line)[0] for line in lines] == ["$4,000", "$3,000", "$2,000"]
    for line, call in zip(lines, [latest, second, third], strict=True):
        assert line.endswith("from the call of " + day(call.started_at))
    assert FLAG in card(html, amount)
    assert "$4,000" in card(html, amount).split(FLAG, 1)[1].split("</p>", 1)[0]


def test_a_call_without_an_opportunity_shows_no_history(login, rep):
    call = make_conversation(owner=rep)
    make_item(call, key="next_steps", value="Follow up")
    # Another call confirmed without naming an opportunity is no context for it.
    make_attempt(
        conversation=make_conversation(owner=rep, awaiting=False),
        user=rep,
        items=[("next_steps", "Follow up", "Send the deck", False, False)],
    )
    html = login(rep).get(reverse("reviews:review", args=[call.pk])).content.decode()
    assert "from the call of" not in html
