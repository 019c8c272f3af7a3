"""What a manager needs to know went wrong: failed syncs and reconciles, what Attention
sent that could not be used, and confirmations that did not land."""

from dataclasses import dataclass

from django.db.models import Q

from ..models import ConfirmationAttempt, SetAsideRecord, SyncRun
from .access import AnyUser, visibility

RECENT = 25


@dataclass(frozen=True)
class Problems:
    runs: list[SyncRun]
    set_aside: list[SetAsideRecord]
    confirms: list[ConfirmationAttempt]

    @property
    def count(self) -> int:
        return len(self.runs) + len(self.set_aside) + len(self.confirms)


def problems_for(user: AnyUser) -> Problems:
    """The recent problems a manager may see: runs that failed or warned, open set-aside
    records, and failed or unresolved confirmations of the conversations they may see."""
    runs = list(
        SyncRun.objects.filter(Q(status=SyncRun.Status.FAILED) | ~Q(warnings=[]))
        .defer("from_datetime")
        .order_by("-started_at", "-id")[:RECENT]
    )
    set_aside = list(
        SetAsideRecord.objects.filter(resolved_at__isnull=True)
        .defer("raw")
        .order_by("-last_seen", "-id")[:RECENT]
    )
    attempts = ConfirmationAttempt.objects.filter(
        outcome__in=[ConfirmationAttempt.Outcome.FAILED, ConfirmationAttempt.Outcome.UNKNOWN]
    )
    condition = visibility(user, prefix="conversation__")
    if condition is not None:
        attempts = attempts.filter(condition)
    confirms = list(
        attempts.select_related("conversation", "user")
        .defer("request_body", "response_body", "conversation__raw")
        .order_by("-started_at", "-id")[:RECENT]
    )
    return Problems(runs=runs, set_aside=set_aside, confirms=confirms)
