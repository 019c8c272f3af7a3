"""Field context: what earlier calls of the same opportunity confirmed for each field,
so a reviewer sees a proposal beside the values already agreed ("Close date: Nov 30,
from the call of Oct 2") and notices one that contradicts the latest of them."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import F, Window
from django.db.models.functions import RowNumber

from ..models import ConfirmationAttempt, ConfirmedItem, Conversation, IntelligenceItem
from ..values import same_value

# Earlier values shown per field, latest first.
SHOWN_PER_FIELD = 3
# Rows read per field: a call confirmed again in a later round gives a row per round, and
# only its latest counts, so a few more rows than are shown are read. The bound keeps the
# read constant however long the opportunity's history grows.
READ_PER_FIELD = 12


@dataclass(frozen=True)
class EarlierValue:
    """A value confirmed for a field on another call of the same opportunity."""

    value: Any
    call_started_at: datetime
    conversation_id: int


def field_history(conversation: Conversation, keys: set[str]) -> dict[str, list[EarlierValue]]:
    """For each key, the values confirmed (sent, not excluded) on other calls of the
    opportunity this review confirms against: one per call, its latest confirmation,
    the latest calls first, at most SHOWN_PER_FIELD. One query whatever the number of
    keys and of earlier confirmations; none when the call names no opportunity."""
    opportunity_id = conversation.opportunity_id
    if not opportunity_id or not keys:
        return {}
    latest_first = [
        F("attempt__conversation__started_at").desc(),
        F("attempt__finished_at").desc(),
        F("pk").desc(),
    ]
    rows = (
        ConfirmedItem.objects.filter(
            attempt__opportunity_id=opportunity_id,
            attempt__outcome=ConfirmationAttempt.Outcome.SUCCEEDED,
            key__in=keys,
            is_excluded=False,
        )
        .exclude(attempt__conversation_id=conversation.pk)
        .annotate(
            call_started_at=F("attempt__conversation__started_at"),
            call_id=F("attempt__conversation_id"),
            rank=Window(RowNumber(), partition_by=[F("key")], order_by=latest_first),
        )
        .filter(rank__lte=READ_PER_FIELD)
        .order_by("key", "rank")
        .values_list("key", "sent_value", "call_started_at", "call_id")
    )
    history: dict[str, list[EarlierValue]] = {}
    seen: set[tuple[str, int]] = set()
    for key, value, started_at, call_id in rows:
        entries = history.setdefault(key, [])
        if (key, call_id) in seen or len(entries) >= SHOWN_PER_FIELD:
            continue  # an earlier round of a call already listed, or enough shown
        seen.add((key, call_id))
        entries.append(EarlierValue(value, started_at, call_id))
    return history


def contradicts(item: IntelligenceItem, earlier: list[EarlierValue]) -> bool:
    """The AI proposes something other than the latest value confirmed for the field."""
    if not earlier or not item.is_confirmable or item.ai_value is None:
        return False
    return not same_value(item.ai_value, earlier[0].value)


def annotate_field_history(conversation: Conversation, items: list[IntelligenceItem]) -> None:
    """Each item's `field_history` (list of EarlierValue, latest first) and
    `contradicts_history` (the proposal differs from the latest of them)."""
    history = field_history(conversation, {item.key for item in items})
    for item in items:
        earlier = history.get(item.key, [])
        item.field_history = earlier  # type: ignore[attr-defined]
        item.contradicts_history = contradicts(item, earlier)  # type: ignore[attr-defined]
