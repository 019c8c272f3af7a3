"""Factories for data the sandbox does not produce directly: audit history with known
figures. They write through the models, as the services would."""

import itertools
from datetime import datetime, timedelta

from django.utils import timezone

from attention_review.reviews.models import (
    ConfirmationAttempt,
    ConfirmedItem,
    Conversation,
    IntelligenceItem,
    Team,
)

_sequence = itertools.count(1)


def make_team(name: str) -> Team:
    return Team.objects.create(attention_uuid=f"team-{next(_sequence)}", name=name)


def make_conversation(
    *, owner=None, team=None, title=None, awaiting=True, **fields
) -> Conversation:
    number = next(_sequence)
    return Conversation.objects.create(
        attention_id=f"conv-{number}",
        title=title or f"Call {number}",
        started_at=fields.pop("started_at", timezone.now() - timedelta(days=1)),
        owner=owner,
        team=team,
        awaiting_review=awaiting,
        items_to_review=1 if awaiting else 0,
        **fields,
    )


def make_item(conversation: Conversation, *, key="next_steps", value="Follow up", **fields):
    return IntelligenceItem.objects.create(
        conversation=conversation,
        item_id=f"intel-{next(_sequence)}",
        key=key,
        title=fields.pop("title", key.replace("_", " ").title()),
        category=fields.pop("category", "CRM"),
        ai_value=value,
        **fields,
    )


def make_attempt(
    *,
    conversation: Conversation,
    user,
    finished_at: datetime | None = None,
    review_seconds: float | None = 120,
    outcome: str = ConfirmationAttempt.Outcome.SUCCEEDED,
    items: list[tuple[str, object, object, bool, bool]] = (),
    api_milliseconds: int = 250,
    opportunity_id: str = "",
    reasons: dict[str, str] | None = None,
) -> ConfirmationAttempt:
    """An attempt with items given as (key, ai_value, sent_value, edited, excluded);
    `reasons` gives an item's change reason by its key."""
    finished_at = finished_at or timezone.now()
    attempt = ConfirmationAttempt.objects.create(
        conversation=conversation,
        review_round=next(_sequence),
        user=user,
        started_at=finished_at - timedelta(seconds=1),
        outcome=ConfirmationAttempt.Outcome.PENDING,
        review_opened_at=(
            finished_at - timedelta(seconds=review_seconds) if review_seconds is not None else None
        ),
        items_sent=sum(1 for item in items if not item[4]),
        items_edited=sum(1 for item in items if item[3] and not item[4]),
        items_excluded=sum(1 for item in items if item[4]),
        api_milliseconds=api_milliseconds,
        opportunity_id=opportunity_id,
    )
    for key, ai_value, sent_value, edited, excluded in items:
        ConfirmedItem.objects.create(
            attempt=attempt,
            item_id=f"intel-{next(_sequence)}",
            key=key,
            title=key.replace("_", " ").title(),
            ai_value=ai_value,
            sent_value=None if excluded else sent_value,
            is_edited=edited,
            is_excluded=excluded,
            change_reason=(reasons or {}).get(key, ""),
        )
    # Finish it the way the service does: one save from pending to its outcome.
    attempt.outcome = outcome
    attempt.finished_at = finished_at
    attempt.save(update_fields=["outcome", "finished_at"])
    return attempt
