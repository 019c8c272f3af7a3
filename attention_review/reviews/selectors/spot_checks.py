"""Spot checks as a manager sees them: the items a sample may be drawn from, the checks
about reps they may see, each sampled item with its call and evidence, and each rep's
agreement rate."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from ..models import (
    ConfirmationAttempt,
    ConfirmedItem,
    IntelligenceItem,
    SpotCheck,
    SpotCheckItem,
)
from .access import AnyUser, visibility
from .audit import RepSummary
from .evidence import annotate_evidence

AGREED = Q(items__verdict=SpotCheckItem.Verdict.AGREE)
DECIDED = ~Q(items__verdict=SpotCheckItem.Verdict.PENDING)


def sampleable_items(user: AnyUser, *, rep_id: int) -> QuerySet[ConfirmedItem]:
    """The rep's confirmed items a sample may take: sent (not excluded) by a successful
    confirm of a call the user may see, and not in a spot check already."""
    items = ConfirmedItem.objects.filter(
        attempt__user_id=rep_id,
        attempt__outcome=ConfirmationAttempt.Outcome.SUCCEEDED,
        is_excluded=False,
    ).exclude(pk__in=SpotCheckItem.objects.values("confirmed_item_id"))
    condition = visibility(user, prefix="attempt__conversation__")
    return items if condition is None else items.filter(condition)


def _about_visible_reps(user: AnyUser) -> Q | None:
    """Spot checks about reps the user may see: who confirmed a call the user may see.
    None: all of them."""
    condition = visibility(user, prefix="conversation__")
    if condition is None:
        return None
    confirmers = ConfirmationAttempt.objects.filter(condition).values("user_id")
    return Q(rep_id__in=confirmers)


def spot_checks_for_user(user: AnyUser) -> QuerySet[SpotCheck]:
    """Spot checks about reps the user may see, newest first, with their counts."""
    checks = SpotCheck.objects.select_related("rep", "manager").annotate(
        size=Count("items"),
        decided=Count("items", filter=DECIDED),
        agreed=Count("items", filter=AGREED),
    )
    condition = _about_visible_reps(user)
    return checks if condition is None else checks.filter(condition)


def get_spot_check_for_user(user: AnyUser, pk: int) -> SpotCheck:
    """The spot check if it is about a rep the user may see; otherwise 404."""
    try:
        return spot_checks_for_user(user).get(pk=pk)
    except SpotCheck.DoesNotExist:
        raise Http404("No such spot check") from None


def _visible_items(user: AnyUser) -> QuerySet[SpotCheckItem]:
    items = SpotCheckItem.objects.all()
    condition = visibility(user, prefix="confirmed_item__attempt__conversation__")
    return items if condition is None else items.filter(condition)


def get_spot_check_item_for_user(user: AnyUser, check_pk: int, item_pk: int) -> SpotCheckItem:
    """A sampled item of a check about a rep the user may see, from a call the user may
    see; otherwise 404."""
    checks = spot_checks_for_user(user).filter(pk=check_pk).values("pk")
    try:
        return _visible_items(user).get(pk=item_pk, spot_check__in=checks)
    except SpotCheckItem.DoesNotExist:
        raise Http404("No such item") from None


@dataclass(frozen=True)
class SpotCheckEntry:
    """A sampled item as the page shows it: the call, the field, the AI's value, the
    value sent, the evidence (the item as it now stands, when it still exists)."""

    item: SpotCheckItem
    confirmed: ConfirmedItem
    intelligence: IntelligenceItem | None

    @property
    def evidence_view(self) -> Any:
        return getattr(self.intelligence, "evidence_view", None)


def spot_check_entries(user: AnyUser, check: SpotCheck) -> list[SpotCheckEntry]:
    """The check's items with their calls, in two queries (three with evidence)."""
    items = list(
        _visible_items(user)
        .filter(spot_check=check)
        .select_related("confirmed_item__attempt__conversation")
        .defer(
            "confirmed_item__attempt__request_body",
            "confirmed_item__attempt__response_body",
            "confirmed_item__attempt__conversation__raw",
        )
        .order_by("pk")
    )
    conversation_ids = {item.confirmed_item.attempt.conversation_id for item in items}
    item_ids = {item.confirmed_item.item_id for item in items}
    current = {
        (row.conversation_id, row.item_id): row
        for row in IntelligenceItem.objects.filter(
            conversation_id__in=conversation_ids, item_id__in=item_ids
        )
        .only("pk", "conversation_id", "item_id", "evidence", "ai_value")
        .order_by()
    }
    annotate_evidence([row for row in current.values() if row.evidence])
    return [
        SpotCheckEntry(
            item=item,
            confirmed=item.confirmed_item,
            intelligence=current.get(
                (item.confirmed_item.attempt.conversation_id, item.confirmed_item.item_id)
            ),
        )
        for item in items
    ]


@dataclass(frozen=True)
class Agreement:
    agreed: int
    decided: int

    @property
    def rate(self) -> float | None:
        """Agreed of decided; None before any verdict."""
        return self.agreed / self.decided if self.decided else None


def agreement_by_rep(user: AnyUser) -> dict[int, Agreement]:
    """Per rep: how many sampled items the manager agreed with, of those decided; over
    every spot check about reps the user may see. One query."""
    checks = SpotCheck.objects.all()
    condition = _about_visible_reps(user)
    if condition is not None:
        checks = checks.filter(condition)
    rows = (
        checks.order_by()
        .values("rep_id")
        .annotate(agreed=Count("items", filter=AGREED), decided=Count("items", filter=DECIDED))
    )
    return {row["rep_id"]: Agreement(row["agreed"], row["decided"]) for row in rows}


@dataclass(frozen=True)
class RepSpotCheckRow:
    """One rep on the overview: their spot-check agreement beside their quick approvals."""

    rep_id: int
    name: str
    agreement: Agreement | None
    summary: RepSummary | None


def spot_check_overview(
    reps: list[tuple[int, str]],
    summaries: list[RepSummary],
    agreements: dict[int, Agreement],
) -> list[RepSpotCheckRow]:
    """Every rep the user may see who confirmed in the period or was spot-checked."""
    by_rep = {summary.user_id: summary for summary in summaries}
    return [
        RepSpotCheckRow(rep_id, name, agreements.get(rep_id), by_rep.get(rep_id))
        for rep_id, name in reps
        if rep_id in by_rep or rep_id in agreements
    ]
