"""Sign-off where it matters: the fields that move forecasts need the rep's own decision
before Confirm, the rest can be accepted together, never one without evidence."""

import re

import pytest
from django.urls import reverse

from attention_review.reviews.models import (
    ConfirmationAttempt,
    Conversation,
    FieldSetting,
    IntelligenceItem,
)
from attention_review.reviews.services.sync import conversation_sync
from tests.sign_off import awaiting_sign_off, sign_off

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def explicit_keys() -> set[str]:
    return set(
        FieldSetting.objects.filter(tier=FieldSetting.Tier.EXPLICIT).values_list("key", flat=True)
    )


def asking(conversation: Conversation) -> list[IntelligenceItem]:
    return [
        item
        for item in conversation.items.order_by("position", "pk")
        if item.is_confirmable and item.needs_review
    ]


def bulk_asking(conversation: Conversation) -> list[IntelligenceItem]:
    return [item for item in asking(conversation) if item.key not in explicit_keys()]


@pytest.fixture
def conversation(synced, rep):
    """One of rep's calls asking about two or more explicit fields, with bulk fields both
    with evidence (two or more) and without (one or more), as the sandbox serves them."""
    for candidate in Conversation.objects.filter(owner=rep, awaiting_review=True):
        bulk = bulk_asking(candidate)
        with_evidence = [item for item in bulk if item.evidence]
        if (
            len(awaiting_sign_off(candidate)) >= 2
            and len(with_evidence) >= 2
            and len(with_evidence) < len(bulk)
        ):
            return candidate
    raise AssertionError("no suitable conversation in the sandbox data")


def review_url(conversation):
    return reverse("reviews:review", args=[conversation.pk])


def confirm_url(conversation):
    return reverse("reviews:confirm", args=[conversation.pk])


def confirm_button(html: str) -> str:
    match = re.search(r'<button type="submit" class="button primary wide"[^>]*>', html)
    assert match, "no Confirm button"
    return match.group(0)


def sentence_for(items: list[IntelligenceItem]) -> str:
    titles = [item.title for item in items]
    listed = titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]
    return f"Decide {listed} before confirming."


def choose(client, item, choice="accept", **headers):
    item.refresh_from_db()
    return client.post(
        reverse("reviews:item-choose", args=[item.conversation_id, item.pk]),
        {"choice": choice, "version": item.version},
        headers=headers or None,
    )


def test_confirm_is_disabled_and_says_which_fields_still_need_a_decision(login, rep, conversation):
    waiting = awaiting_sign_off(conversation)
    html = login(rep).get(review_url(conversation)).content.decode()
    assert "disabled" in confirm_button(html)
    assert sentence_for(waiting) in html
    for item in waiting:
        card = html[html.index(f'id="item-{item.pk}"') :]
        assert card.index("Needs your sign-off") < card.index("</article>")
    left = len(waiting)
    assert f"{left} fields need your sign-off" in html


def test_deciding_the_explicit_fields_releases_confirm(sandbox, login, rep, conversation):
    client = login(rep)
    first, *others = awaiting_sign_off(conversation)
    # Keep, edit or exclude count as much as accepting: each is the rep's own decision.
    fragment = choose(client, first, **HTMX).content.decode()
    assert sentence_for(others) in fragment, "the panel is swapped out of band"
    assert "disabled" in confirm_button(fragment)
    for item in others:
        client.post(
            reverse("reviews:item-exclude", args=[conversation.pk, item.pk]),
            {"excluded": "1", "version": item.version},
            headers=HTMX,
        )
    html = client.get(review_url(conversation)).content.decode()
    assert "disabled" not in confirm_button(html)
    assert "before confirming" not in html
    assert "Signed off" in html

    client.post(confirm_url(conversation), {"review_round": conversation.review_round})
    assert sandbox.state.confirm_calls[conversation.attention_id] == 1


def test_a_confirm_posted_without_the_page_is_refused_with_the_sentence_and_loses_nothing(
    sandbox, login, rep, conversation
):
    client = login(rep)
    waiting = awaiting_sign_off(conversation)
    decided = bulk_asking(conversation)[0]
    choose(client, decided)
    # A plain form post (no JavaScript) and a crafted htmx request are refused alike.
    response = client.post(confirm_url(conversation), {"review_round": conversation.review_round})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert sentence_for(waiting) in page
    crafted = client.post(
        confirm_url(conversation), {"review_round": conversation.review_round}, headers=HTMX
    ).content.decode()
    assert sentence_for(waiting) in crafted

    assert sandbox.state.confirm_calls.get(conversation.attention_id, 0) == 0
    assert not ConfirmationAttempt.objects.filter(conversation=conversation).exists()
    decided.refresh_from_db()
    assert decided.choice == IntelligenceItem.Choice.ACCEPT
    conversation.refresh_from_db()
    assert conversation.awaiting_review


def test_a_new_proposal_for_a_decided_field_asks_for_the_sign_off_again(
    api, sandbox, login, rep, conversation
):
    client = login(rep)
    stage = next(item for item in awaiting_sign_off(conversation) if item.key == "stage")
    sign_off(client, conversation)
    assert "disabled" not in confirm_button(client.get(review_url(conversation)).content.decode())

    new_stage = next(option for option in stage.options if option != stage.ai_value)
    sandbox.state.reextract(conversation.attention_id, change={"stage": new_stage})
    conversation_sync(client=api, full=True)

    html = client.get(review_url(conversation)).content.decode()
    assert "disabled" in confirm_button(html)
    assert "Decide Stage before confirming." in html


def test_an_admin_changing_a_tier_changes_the_rule(login, rep, admin_user, conversation):
    waiting = awaiting_sign_off(conversation)
    bulk_item = bulk_asking(conversation)[0]
    admin = login(admin_user)
    changelist = admin.get(reverse("admin:reviews_fieldsetting_changelist"), {"q": "stage"})
    assert changelist.status_code == 200
    assert "close_date" not in changelist.content.decode(), "searched by key"
    # Every explicit field of this call becomes bulk; one bulk field becomes explicit.
    for item in waiting:
        setting = FieldSetting.objects.get(key=item.key)
        response = admin.post(
            reverse("admin:reviews_fieldsetting_change", args=[setting.pk]),
            {
                "key": setting.key,
                "tier": FieldSetting.Tier.BULK,
                "display": setting.display,
                "currency": setting.currency,
            },
        )
        assert response.status_code == 302
    admin.post(
        reverse("admin:reviews_fieldsetting_add"),
        {"key": bulk_item.key, "tier": FieldSetting.Tier.EXPLICIT, "display": "auto"},
    )

    html = login(rep).get(review_url(conversation)).content.decode()
    assert f"Decide {bulk_item.title} before confirming." in html


def test_the_field_settings_list_edits_tiers_in_place(login, admin_user, synced):
    response = login(admin_user).get(reverse("admin:reviews_fieldsetting_changelist"))
    html = response.content.decode()
    for key in ("stage", "amount", "close_date", "forecast_category"):
        assert key in html
    assert 'name="form-0-tier"' in html, "the tier is editable in the list"
    for column in ("Key", "Tier", "Display", "Currency"):
        assert column in html


# Accept the rest -------------------------------------------------------------------------


def test_accept_the_rest_takes_bulk_fields_with_evidence_and_leaves_the_others(
    login, rep, conversation
):
    client = login(rep)
    bulk = bulk_asking(conversation)
    with_evidence = [item for item in bulk if item.evidence]
    without_evidence = [item for item in bulk if not item.evidence]
    # One bulk field the rep already left out: it stays out.
    excluded = with_evidence.pop()
    client.post(
        reverse("reviews:item-exclude", args=[conversation.pk, excluded.pk]),
        {"excluded": "1", "version": excluded.version},
        headers=HTMX,
    )
    page = client.get(review_url(conversation)).content.decode()
    assert f"Accept the rest ({len(with_evidence)})" in page

    response = client.post(reverse("reviews:accept-rest", args=[conversation.pk]))
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    said = f"Accepted {len(with_evidence)}; {len(without_evidence)} without evidence left for you."
    assert said in page

    for item in with_evidence:
        item.refresh_from_db()
        assert item.choice == IntelligenceItem.Choice.ACCEPT
        assert item.decision_is_current
        assert item.reviewed_by == rep
    for item in [*without_evidence, *awaiting_sign_off(conversation)]:
        item.refresh_from_db()
        assert not item.has_decision, item.key
    excluded.refresh_from_db()
    assert excluded.is_excluded
    assert excluded.choice == IntelligenceItem.Choice.NONE

    total = len(asking(conversation))
    reviewed = len(with_evidence) + 1
    assert f"Reviewed {reviewed} of {total}" in page, "accepting counts as reviewing"
    assert "Accept the rest (" not in page, "nothing is left for it to take"
    assert f"{len(without_evidence)} undecided field" in page


def test_accept_the_rest_with_htmx_swaps_the_review_body(login, rep, conversation):
    client = login(rep)
    accepted = len([item for item in bulk_asking(conversation) if item.evidence])
    html = client.post(
        reverse("reviews:accept-rest", args=[conversation.pk]), headers=HTMX
    ).content.decode()
    assert html.lstrip().startswith('<div id="review-body">')
    assert f"Accepted {accepted};" in html
    assert "disabled" in confirm_button(html), "explicit fields still wait for the rep"


def test_the_setting_lets_accept_the_rest_take_fields_without_evidence(
    settings, login, rep, conversation
):
    settings.REVIEW_BULK_ACCEPT_WITHOUT_EVIDENCE = True
    client = login(rep)
    bulk = bulk_asking(conversation)
    response = client.post(reverse("reviews:accept-rest", args=[conversation.pk]))
    page = client.get(response["Location"]).content.decode()
    assert f"Accepted {len(bulk)}." in page
    for item in bulk:
        item.refresh_from_db()
        assert item.choice == IntelligenceItem.Choice.ACCEPT
    for item in awaiting_sign_off(conversation):
        assert not item.has_decision


def test_accept_the_rest_on_a_confirmed_call_changes_nothing(sandbox, login, rep, conversation):
    client = login(rep)
    sign_off(client, conversation)
    client.post(confirm_url(conversation), {"review_round": conversation.review_round})
    before = list(conversation.items.values_list("pk", "choice", "version"))
    response = client.post(reverse("reviews:accept-rest", args=[conversation.pk]))
    page = client.get(response["Location"]).content.decode()
    assert "This conversation has been confirmed; there is nothing to accept." in page
    assert list(conversation.items.values_list("pk", "choice", "version")) == before
