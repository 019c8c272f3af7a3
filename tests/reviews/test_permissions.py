"""Who may open what: every page, for the owner, another rep, a manager, an admin and an
anonymous visitor. Checked in the views, so a fragment is as protected as its page."""

import pytest
from django.urls import reverse

from tests.factories import make_conversation, make_item, make_team

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
LOGIN = "login"  # a redirect to the login page


@pytest.fixture
def world(rep, rep2, manager, admin_user, outsider):
    team = make_team("East")
    conversation = make_conversation(owner=rep, team=team, title="Rep's call")
    item = make_item(conversation)
    return {"conversation": conversation, "item": item, "team": team}


def pages(world):
    c, i = world["conversation"], world["item"]
    return {
        "queue": ("get", reverse("reviews:queue")),
        "review": ("get", reverse("reviews:review", args=[c.pk])),
        "item": ("get", reverse("reviews:item", args=[c.pk, i.pk])),
        "item-edit": ("get", reverse("reviews:item-edit", args=[c.pk, i.pk])),
        "item-save": ("post", reverse("reviews:item", args=[c.pk, i.pk])),
        "item-reset": ("post", reverse("reviews:item-reset", args=[c.pk, i.pk])),
        "item-exclude": ("post", reverse("reviews:item-exclude", args=[c.pk, i.pk])),
        "opportunity": ("post", reverse("reviews:opportunity", args=[c.pk])),
        "audit": ("get", reverse("reviews:audit")),
        "audit-export": ("get", reverse("reviews:audit-export")),
        "sync-status": ("get", reverse("reviews:sync-status")),
    }


CONVERSATION_PAGES = [
    "review",
    "item",
    "item-edit",
    "item-save",
    "item-reset",
    "item-exclude",
    "opportunity",
]
# persona -> expected status for (queue, conversation pages, audit pages, sync status)
EXPECTED = {
    "anonymous": {"queue": LOGIN, "conversation": LOGIN, "audit": LOGIN, "sync": LOGIN},
    "rep": {"queue": 200, "conversation": 200, "audit": 403, "sync": 403},
    "rep2": {"queue": 200, "conversation": 404, "audit": 403, "sync": 403},
    "outsider": {"queue": 200, "conversation": 404, "audit": 403, "sync": 403},
    "manager": {"queue": 200, "conversation": 200, "audit": 200, "sync": 200},
    "admin_user": {"queue": 200, "conversation": 200, "audit": 200, "sync": 200},
}


def expected_status(persona, page):
    row = EXPECTED[persona]
    if page == "queue":
        return row["queue"]
    if page in CONVERSATION_PAGES:
        return row["conversation"]
    if page.startswith("audit"):
        return row["audit"]
    return row["sync"]


@pytest.mark.parametrize("persona", list(EXPECTED))
@pytest.mark.parametrize(
    "page",
    [
        "queue",
        *CONVERSATION_PAGES,
        "audit",
        "audit-export",
        "sync-status",
    ],
)
def test_permission_matrix(client, request, world, persona, page):
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    method, url = pages(world)[page]
    data = {"value": "x", "excluded": "1", "opportunity_id": ""} if method == "post" else None
    response = getattr(client, method)(url, data, headers=HTMX)
    expected = expected_status(persona, page)
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    elif expected == 200:
        assert response.status_code in (200, 302), response.status_code
    else:
        assert response.status_code == expected


def test_a_manager_with_teams_sees_only_those_teams(client, manager, rep, world):
    other_team = make_team("West")
    other_team.managers.add(manager)
    client.force_login(manager)
    conversation = world["conversation"]
    assert client.get(reverse("reviews:review", args=[conversation.pk])).status_code == 404
    queue = client.get(reverse("reviews:queue"))
    assert conversation not in list(queue.context["page"].object_list)
    world["team"].managers.add(manager)
    assert client.get(reverse("reviews:review", args=[conversation.pk])).status_code == 200


def test_a_rep_may_not_confirm_another_reps_conversation(client, rep2, world, sandbox):
    client.force_login(rep2)
    response = client.post(
        reverse("reviews:confirm", args=[world["conversation"].pk]), {"review_round": 1}
    )
    assert response.status_code == 404
    assert not sandbox.state.confirm_calls


def test_a_change_of_role_takes_effect_on_the_next_page(client, rep, world):
    from django.contrib.auth.models import Group

    client.force_login(rep)
    assert client.get(reverse("reviews:audit")).status_code == 403
    rep.groups.add(Group.objects.get_or_create(name="Managers")[0])
    assert client.get(reverse("reviews:audit")).status_code == 200
    world["team"].managers.add(rep)
    other = make_conversation(owner=None, team=make_team("West"), title="Elsewhere")
    assert client.get(reverse("reviews:review", args=[other.pk])).status_code == 404
    world["team"].managers.clear()
    assert client.get(reverse("reviews:review", args=[other.pk])).status_code == 200
    Group.objects.get(name="Managers").user_set.clear()
    assert client.get(reverse("reviews:audit")).status_code == 403


def test_refusals_are_friendly_pages_that_lead_back_to_the_queue(client, rep2, world):
    client.force_login(rep2)
    missing = client.get(reverse("reviews:review", args=[world["conversation"].pk]))
    assert missing.status_code == 404
    assert "Back to the review queue" in missing.content.decode()
    refused = client.get(reverse("reviews:audit"))
    assert refused.status_code == 403
    assert "The audit ledger is for managers and admins." in refused.content.decode()
