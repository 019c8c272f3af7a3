"""Choosing the opportunity by name: each candidate listed by its name with its id beside
it, the AI's suggestion marked, and a warning when the rep picks another."""

import html as html_lib
import re

import pytest
from django.urls import reverse

from attention_review.reviews.models import Conversation
from tests.sign_off import sign_off

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def linked_opportunities(conversation: Conversation) -> list[str]:
    records = conversation.raw["attributes"]["linkedCrmRecords"]
    return [record["id"] for record in records if record["code"] == "Opportunity"]


@pytest.fixture
def conversation(synced, rep):
    """A call of rep's where the AI suggests one of its linked opportunities and
    `externalOpportunity` names another candidate."""
    for candidate in Conversation.objects.filter(owner=rep, awaiting_review=True):
        if candidate.intelligence_opportunity_id and candidate.external_opportunity_title:
            return candidate
    raise AssertionError("no suitable conversation in the sandbox data")


def review_url(conversation):
    return reverse("reviews:review", args=[conversation.pk])


def opportunity_url(conversation):
    return reverse("reviews:opportunity", args=[conversation.pk])


def picker(html: str) -> str:
    start = html.index('<form id="opportunity-form"')
    return html[start : html.index("</form>", start)]


def choices(html: str) -> list[dict[str, str]]:
    """Each radio of the picker: its value, the name shown, the id shown, and its badge."""
    found = []
    for label in re.findall(r'<label class="opportunity-choice">(.*?)</label>', html, re.S):
        found.append(
            {
                "value": re.search(r'value="([^"]*)"', label).group(1),
                "checked": " checked" in label,
                "name": html_lib.unescape(
                    re.search(r"<strong[^>]*>(.*?)</strong>", label).group(1)
                ),
                "id": re.search(r'<code class="opportunity-id">(.*?)</code>', label).group(1),
                "badge": " ".join(re.findall(r'class="badge[^"]*">(.*?)</span>', label)),
            }
        )
    return found


def test_each_candidate_is_listed_by_name_with_its_id_beside_it(login, rep, conversation):
    html = picker(login(rep).get(review_url(conversation)).content.decode())
    assert "<fieldset" in html
    assert "<legend>Opportunity</legend>" in html
    assert "<select" not in html
    listed = choices(html)
    ids = [choice["value"] for choice in listed]
    assert ids[0] == conversation.intelligence_opportunity_id, "the suggestion comes first"
    assert set(linked_opportunities(conversation)) <= set(ids)
    assert conversation.external_opportunity_id in ids
    for choice in listed:
        assert choice["name"], "never an option without a name"
        assert choice["id"] == choice["value"]
    by_id = {choice["value"]: choice for choice in listed}
    suggested = by_id[conversation.intelligence_opportunity_id]
    assert suggested["badge"] == "suggested by the AI"
    assert suggested["checked"]
    assert [choice for choice in listed if choice["badge"]] == [suggested]
    named = by_id[conversation.external_opportunity_id]
    assert named["name"] == conversation.external_opportunity_title
    for opportunity_id in linked_opportunities(conversation):
        # Linked records carry an id and a type, no name (docs/attention-api.md).
        assert by_id[opportunity_id]["name"] == "Unnamed opportunity"
    assert "Save opportunity" in html, "a Save button for browsers without JavaScript"
    assert "not the AI's suggestion" not in html


def test_choosing_another_opportunity_warns_that_it_is_not_the_suggestion(login, rep, conversation):
    client = login(rep)
    chosen = conversation.external_opportunity_id
    fragment = client.post(
        opportunity_url(conversation), {"opportunity_id": chosen}, headers=HTMX
    ).content.decode()
    assert "Opportunity saved." in fragment
    assert html_lib.unescape(fragment).count(
        f"You chose \u201c{conversation.external_opportunity_title}\u201d ({chosen}), "
        f"not the AI's suggestion, an unnamed opportunity "
        f"({conversation.intelligence_opportunity_id})."
    )
    assert [choice["value"] for choice in choices(fragment) if choice["checked"]] == [chosen]

    # Back to the suggestion: the warning goes.
    again = client.post(
        opportunity_url(conversation),
        {"opportunity_id": conversation.intelligence_opportunity_id},
        headers=HTMX,
    ).content.decode()
    assert "not the AI's suggestion" not in again


def test_without_javascript_the_choice_is_saved_and_the_page_warns(login, rep, conversation):
    client = login(rep)
    others = [
        opportunity_id
        for opportunity_id in linked_opportunities(conversation)
        if opportunity_id != conversation.intelligence_opportunity_id
    ]
    other = others[0] if others else conversation.external_opportunity_id
    response = client.post(opportunity_url(conversation), {"opportunity_id": other})
    assert response.status_code == 302
    page = html_lib.unescape(client.get(response["Location"]).content.decode())
    assert "Opportunity saved." in page
    assert f"({other}), not the AI's suggestion" in page
    conversation.refresh_from_db()
    assert conversation.opportunity_id == other


def test_only_a_listed_opportunity_is_accepted(login, rep, conversation):
    client = login(rep)
    response = client.post(
        opportunity_url(conversation), {"opportunity_id": "006-not-linked"}, headers=HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Choose one of the opportunities linked to this conversation." in html
    assert "Opportunity saved." not in html
    conversation.refresh_from_db()
    assert conversation.opportunity_id == conversation.intelligence_opportunity_id
    refused = client.post(opportunity_url(conversation), {})
    page = client.get(refused["Location"]).content.decode()
    assert "Choose the opportunity to confirm against." in page


def test_a_call_without_a_suggestion_marks_none_and_warns_of_nothing(login, admin_user, synced):
    conversation = next(
        candidate
        for candidate in Conversation.objects.filter(awaiting_review=True)
        if not candidate.default_opportunity_id and linked_opportunities(candidate)
    )
    client = login(admin_user)
    listed = choices(picker(client.get(review_url(conversation)).content.decode()))
    assert [choice["value"] for choice in listed] == linked_opportunities(conversation)
    assert not any(choice["checked"] or choice["badge"] for choice in listed)
    chosen = linked_opportunities(conversation)[0]
    fragment = client.post(
        opportunity_url(conversation), {"opportunity_id": chosen}, headers=HTMX
    ).content.decode()
    assert "Opportunity saved." in fragment
    assert "You chose" not in fragment


def test_the_named_opportunity_chosen_is_the_one_confirmed(sandbox, login, rep, conversation):
    client = login(rep)
    chosen = conversation.external_opportunity_id
    client.post(opportunity_url(conversation), {"opportunity_id": chosen})
    sign_off(client, conversation)
    conversation.refresh_from_db()
    client.post(
        reverse("reviews:confirm", args=[conversation.pk]),
        {"review_round": conversation.review_round},
    )
    (body,) = sandbox.state.confirm_bodies[conversation.attention_id]
    assert body["opportunity_id"] == chosen
