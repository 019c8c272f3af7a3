"""Write only what a person meant: the value in the CRM, the AI's proposal and the
reviewer's decision kept apart, and never lost, whatever Attention answers.

Every test drives the app through its views against the sandbox over HTTP, switching the
sandbox to the situation the documentation allows (empty maps, values confirmed outside
the app, re-extraction, other answers to a confirm)."""

import json
import time

import pytest
from django.urls import reverse

from attention_review.reviews.forms import ItemValueForm
from attention_review.reviews.models import ConfirmationAttempt, Conversation, IntelligenceItem
from attention_review.reviews.services.sync import conversation_sync
from attention_review.reviews.tasks import follow_exports_task
from attention_review.reviews.values import ValueKind, value_kind
from tests.sign_off import sign_off

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(synced, rep):
    """A call of the rep's awaiting review, with at least three plain-text items."""
    for candidate in Conversation.objects.filter(owner=rep, awaiting_review=True):
        if len(text_items(candidate)) >= 3:
            return candidate
    raise AssertionError("the demo data has no call with three text items")


def text_items(conversation: Conversation) -> list[IntelligenceItem]:
    return [
        item
        for item in conversation.items.order_by("position", "pk")
        if item.is_confirmable and value_kind(item.ai_value, item.options) == ValueKind.TEXT
    ]


def fresh(item: IntelligenceItem) -> IntelligenceItem:
    item.refresh_from_db()
    return item


def save(client, item, value, *, version=None):
    item = fresh(item)
    return client.post(
        reverse("reviews:item", args=[item.conversation_id, item.pk]),
        {"value": value, "version": item.version if version is None else version},
    )


def act(client, item, action, **data):
    item = fresh(item)
    return client.post(
        reverse(f"reviews:item-{action}", args=[item.conversation_id, item.pk]),
        {"version": item.version, **data},
    )


def confirm(client, conversation):
    """Confirm as the rep does: the fields that need their sign-off decided first (each
    kept or accepted as the confirm would have sent it)."""
    sign_off(client, conversation)
    conversation.refresh_from_db()
    return client.post(
        reverse("reviews:confirm", args=[conversation.pk]),
        {"review_round": conversation.review_round},
    )


def page(client, conversation) -> str:
    return client.get(reverse("reviews:review", args=[conversation.pk])).content.decode()


def sent(sandbox, conversation, index=-1) -> dict:
    body = sandbox.state.confirm_bodies[conversation.attention_id][index]
    return {entry["id"]: entry["value"] for entry in body["intelligence"]}


def first_round(client, sandbox, conversation):
    """Budget edited, Competitor excluded, the rest accepted as proposed; confirmed."""
    budget, competitor, next_steps = text_items(conversation)[:3]
    save(client, budget, "REP 120k")
    act(client, competitor, "exclude", excluded="1")
    assert confirm(client, conversation).status_code == 302
    attempt = ConfirmationAttempt.objects.get(conversation=conversation)
    assert attempt.outcome == ConfirmationAttempt.Outcome.SUCCEEDED
    return budget, competitor, next_steps


def test_the_documented_empty_map_answer_keeps_every_item_and_decision(
    sandbox, api, login, rep, conversation
):
    sandbox.state.confirm_answer = "empty_maps"
    items_before = conversation.items.count()
    client = login(rep)
    budget, competitor, _ = first_round(client, sandbox, conversation)

    conversation.refresh_from_db()
    assert conversation.items.count() == items_before
    assert not conversation.awaiting_review
    assert fresh(budget).decision_value == "REP 120k"
    assert fresh(budget).confirmed_value == "REP 120k", "what was sent stands as the CRM's"
    assert fresh(competitor).is_excluded

    conversation_sync(client=api, full=True)
    conversation.refresh_from_db()
    assert conversation.items.count() == items_before
    assert not conversation.awaiting_review, "the next sync brings nothing back"
    assert fresh(budget).decision_value == "REP 120k"
    assert fresh(competitor).is_excluded


def test_a_second_round_keeps_the_first_rounds_edit_and_exclusion(
    sandbox, api, login, rep, conversation
):
    client = login(rep)
    budget, competitor, next_steps = first_round(client, sandbox, conversation)
    old_next_steps = next_steps.ai_value
    sandbox.state.reextract(
        conversation.attention_id, change={next_steps.key: "Security review on Friday"}
    )
    conversation_sync(client=api, full=True)

    conversation.refresh_from_db()
    assert conversation.awaiting_review, "a new proposal asks for a decision"
    assert conversation.items_to_review == 1, "only the changed proposal asks again"
    html = page(client, conversation)
    assert "Reviewed 0 of 1" in html
    assert "AI changed" in html
    assert "REP 120k" in html

    confirm(client, conversation)
    round_two = sent(sandbox, conversation)
    assert round_two[budget.item_id] == "REP 120k", "the rep's correction is not reverted"
    assert competitor.item_id not in round_two, "the exclusion carries into round two"
    assert round_two[next_steps.item_id] == old_next_steps, "the CRM value is kept by default"


def test_accepting_the_new_proposal_in_round_two_sends_it(sandbox, api, login, rep, conversation):
    client = login(rep)
    _, _, next_steps = first_round(client, sandbox, conversation)
    sandbox.state.reextract(
        conversation.attention_id, change={next_steps.key: "Security review on Friday"}
    )
    conversation_sync(client=api, full=True)
    act(client, next_steps, "choose", choice="accept")
    assert "Reviewed 1 of 1" in page(client, conversation)
    confirm(client, conversation)
    assert sent(sandbox, conversation)[next_steps.item_id] == "Security review on Friday"


def test_a_value_confirmed_in_attention_itself_is_kept_not_overwritten(
    sandbox, api, login, rep, conversation
):
    budget = text_items(conversation)[0]
    sandbox.state.confirm_outside(conversation.attention_id, {budget.key: "120k, said the CFO"})
    conversation_sync(client=api, full=True)
    budget = fresh(budget)
    assert budget.is_confirmed
    assert budget.confirmed_value == "120k, said the CFO"
    assert budget.ai_value != budget.confirmed_value

    client = login(rep)
    html = page(client, conversation).replace("&#x27;", "'")
    assert "In CRM" in html
    assert "120k, said the CFO" in html, "the value in the CRM is shown"
    assert budget.ai_value in html, "beside the AI's proposal, offered as one click"
    confirm(client, conversation)
    assert sent(sandbox, conversation)[budget.item_id] == "120k, said the CFO"


def test_the_ai_changing_an_item_under_a_draft_is_shown_and_the_draft_kept(
    sandbox, api, login, rep, conversation
):
    client = login(rep)
    budget = text_items(conversation)[0]
    was = budget.ai_value
    save(client, budget, "Rep's own budget")
    sandbox.state.reextract(conversation.attention_id, change={budget.key: "AI's new budget"})
    conversation_sync(client=api, full=True)

    budget = fresh(budget)
    assert budget.ai_value == "AI's new budget"
    assert budget.decision_value == "Rep's own budget"
    html = page(client, conversation).replace("&#x27;", "'")
    assert (
        f"The AI now proposes “AI's new budget” (was “{was}”); "
        "your value “Rep's own budget” is kept." in html
    )

    act(client, budget, "reset")
    assert fresh(budget).outgoing_value == "AI's new budget", "reset goes to the current AI value"
    confirm(client, conversation)
    assert sent(sandbox, conversation)[budget.item_id] == "AI's new budget"


def test_an_item_the_ai_withdraws_is_marked_and_never_sent(sandbox, api, login, rep, conversation):
    client = login(rep)
    budget, other = text_items(conversation)[:2]
    save(client, budget, "Typed before the AI withdrew it")
    sandbox.state.reextract(conversation.attention_id, withdraw=[budget.key])
    conversation_sync(client=api, full=True)

    budget = fresh(budget)
    assert budget.withdrawn
    assert budget.decision_value == "Typed before the AI withdrew it", "the decision is kept"
    assert "Withdrawn by the AI" in page(client, conversation)
    confirm(client, conversation)
    body = sent(sandbox, conversation)
    assert budget.item_id not in body
    assert other.item_id in body


def test_every_value_type_survives_an_unchanged_save_and_the_confirm(
    sandbox, api, login, rep, conversation
):
    sandbox.state.add_typed_items(conversation.attention_id)
    conversation_sync(client=api, full=True)
    typed = {
        item.key: item
        for item in conversation.items.all()
        if item.key
        in {
            "competitors_list",
            "stakeholders",
            "deal_id_number",
            "discount_rate",
            "amount",
            "close_date",
            "stage",
            "products",
        }
    }
    assert len(typed) == 8
    client = login(rep)
    for item in typed.values():
        form = ItemValueForm(item=item)
        value = form["value"].value()
        response = client.post(
            reverse("reviews:item", args=[conversation.pk, item.pk]),
            {"value": value, "version": item.version},
        )
        assert response.status_code == 302, (item.key, response.content[:500])
        item.refresh_from_db()
        assert item.choice == IntelligenceItem.Choice.ACCEPT, item.key
        assert json.dumps(item.decision_value) == json.dumps(item.ai_value), item.key

    confirm(client, conversation)
    body = sent(sandbox, conversation)
    for item in typed.values():
        # Same JSON, same types: [1,2,3] is not ["1","2","3"], 2**53 + 1 stays exact.
        assert json.dumps(body[item.item_id]) == json.dumps(item.ai_value), item.key


def test_two_people_editing_one_item_never_overwrite_each_other_silently(
    login, rep, manager, conversation, client_factory
):
    budget = text_items(conversation)[0]
    opened_at = budget.version
    rep_client = login(rep)
    manager_client = client_factory(manager)

    assert save(manager_client, budget, "Manager's value", version=opened_at).status_code == 302
    # The manager's decision took the review lock: the rep takes the review back first.
    rep_client.post(reverse("reviews:review-take-over", args=[conversation.pk]))
    response = save(rep_client, budget, "Rep's value", version=opened_at)
    assert response.status_code == 200
    html = response.content.decode().replace("&#x27;", "'")
    assert "changed “" in html
    assert "Manager's value" in html, "their value is shown"
    assert "Rep's value" in html, "and the rep's typed value is kept in the form"
    assert fresh(budget).decision_value == "Manager's value"

    assert save(rep_client, budget, "Rep's value").status_code == 302, "an informed choice"
    assert fresh(budget).decision_value == "Rep's value"


# Confirm outcomes as Attention means them --------------------------------------------


def one_post(sandbox, conversation) -> None:
    assert sandbox.state.confirm_calls[conversation.attention_id] == 1


def attempt_of(conversation) -> ConfirmationAttempt:
    return ConfirmationAttempt.objects.filter(conversation=conversation).latest("started_at")


def test_a_number_stored_as_text_reads_back_as_applied(sandbox, api, login, rep, conversation):
    sandbox.state.add_typed_items(conversation.attention_id)
    conversation_sync(client=api, full=True)
    sandbox.state.confirm_stores = "numbers_as_strings"
    sandbox.state.add_fault(
        kind="status", status=502, path_contains="/crm/confirm", apply_first=True
    )
    client = login(rep)
    assert confirm(client, conversation).status_code == 302
    attempt = attempt_of(conversation)
    assert attempt.outcome == ConfirmationAttempt.Outcome.SUCCEEDED
    assert attempt.resolved_by_readback
    one_post(sandbox, conversation)


@pytest.mark.parametrize("answer", ["created_no_body", "accepted_no_body", "no_content"])
def test_a_2xx_without_the_resource_is_settled_by_reading_back(
    sandbox, login, rep, conversation, answer
):
    sandbox.state.confirm_answer = answer
    client = login(rep)
    assert confirm(client, conversation).status_code == 302
    attempt = attempt_of(conversation)
    assert attempt.outcome == ConfirmationAttempt.Outcome.SUCCEEDED
    assert attempt.resolved_by_readback
    one_post(sandbox, conversation)


def test_a_409_after_the_write_is_settled_by_reading_back(sandbox, login, rep, conversation):
    sandbox.state.add_fault(
        kind="status", status=409, path_contains="/crm/confirm", apply_first=True
    )
    client = login(rep)
    confirm(client, conversation)
    assert attempt_of(conversation).outcome == ConfirmationAttempt.Outcome.SUCCEEDED
    one_post(sandbox, conversation)


def test_a_409_that_wrote_nothing_fails_once_and_leaves_the_review_open(
    sandbox, login, rep, conversation
):
    sandbox.state.add_fault(kind="status", status=409, path_contains="/crm/confirm")
    client = login(rep)
    confirm(client, conversation)
    attempt = attempt_of(conversation)
    assert attempt.outcome == ConfirmationAttempt.Outcome.FAILED
    one_post(sandbox, conversation)
    budget = text_items(conversation)[0]
    assert save(client, budget, "Still editable").status_code == 302
    assert fresh(budget).decision_value == "Still editable"


def test_a_json_api_error_is_shown_in_a_sentence(sandbox, login, rep, conversation):
    sandbox.state.add_fault(
        kind="status",
        status=422,
        body="jsonapi",
        detail="Close Date must not be in the past",
        path_contains="/crm/confirm",
    )
    client = login(rep)
    response = client.get(confirm(client, conversation)["Location"])
    html = response.content.decode()
    assert "Close Date must not be in the past" in html
    assert '"errors"' not in html, "never the API's raw text"
    assert attempt_of(conversation).outcome == ConfirmationAttempt.Outcome.FAILED


def test_a_deeply_nested_answer_never_gives_a_500_or_locks_the_review(
    sandbox, login, rep, conversation
):
    sandbox.state.add_fault(kind="deep_json", path_contains="/crm/confirm", apply_first=True)
    client = login(rep)
    response = confirm(client, conversation)
    assert response.status_code == 302
    assert attempt_of(conversation).outcome == ConfirmationAttempt.Outcome.SUCCEEDED
    one_post(sandbox, conversation)


def test_a_200_that_stored_another_value_is_recorded_and_shown(sandbox, login, rep, conversation):
    sandbox.state.confirm_stores = "other_value"
    client = login(rep)
    html = client.get(confirm(client, conversation)["Location"]).content.decode()
    attempt = attempt_of(conversation)
    assert attempt.outcome == ConfirmationAttempt.Outcome.SUCCEEDED
    (difference,) = attempt.stored_differently
    assert difference["stored"] != difference["sent"]
    assert "Attention stored" in html
    assert f"for {difference['title']}, not" in html.replace("&#x27;", "'")


# What the rep sees afterwards -----------------------------------------------------------


def test_the_result_and_my_confirmations_show_each_value_sent_beside_the_previous_one(
    sandbox, api, login, rep, conversation
):
    client = login(rep)
    budget, _, _ = first_round(client, sandbox, conversation)
    sandbox.state.reextract(conversation.attention_id, change={budget.key: "AI's second budget"})
    conversation_sync(client=api, full=True)
    save(client, budget, "REP 150k")
    html = client.get(confirm(client, conversation)["Location"]).content.decode()
    assert "What was sent" in html
    assert "REP 120k" in html, "the value in the CRM before"
    assert "REP 150k" in html, "the value sent"

    history = client.get(reverse("reviews:my-confirmations")).content.decode()
    assert history.count(conversation.title) == 2
    assert "REP 150k" in history
    assert "not sent (excluded)" in history


def test_a_failed_export_comes_back_to_the_rep_with_attentions_reason(
    sandbox, login, rep, manager, conversation, settings, client_factory
):
    settings.ATTENTION_EXPORT_FIRST_CHECK_SECONDS = 0
    sandbox.state.export_delay = 0.2
    sandbox.state.export_outcome = "failed"
    sandbox.state.export_error = "Salesforce refused Close Date: it is in the past"
    client = login(rep)
    html = client.get(confirm(client, conversation)["Location"]).content.decode()
    assert "Export pending" in html, "confirmed is not yet in the CRM"

    time.sleep(0.3)
    follow_exports_task.enqueue()
    conversation.refresh_from_db()
    assert conversation.export_failed
    reason = "Salesforce refused Close Date: it is in the past"
    assert reason in page(client, conversation)
    queue = client.get(reverse("reviews:queue")).content.decode()
    assert "Export failed" in queue
    assert reason in queue
    ledger = client_factory(manager).get(reverse("reviews:audit")).content.decode()
    assert "Export failed" in ledger


def test_an_export_that_succeeds_reads_exported(sandbox, login, rep, conversation, settings):
    settings.ATTENTION_EXPORT_FIRST_CHECK_SECONDS = 0
    sandbox.state.export_delay = 0.2
    client = login(rep)
    confirm(client, conversation)
    time.sleep(0.3)
    follow_exports_task.enqueue()
    conversation.refresh_from_db()
    assert conversation.export_state == "exported"
    assert not conversation.export_failed
    assert "Exported" in page(client, conversation)
