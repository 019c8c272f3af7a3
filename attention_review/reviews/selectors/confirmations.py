"""A rep's own history: every confirmation they made, what it sent and what the CRM
held before, newest first."""

from django.contrib.auth.models import User
from django.db.models import Prefetch, QuerySet

from ..models import ConfirmationAttempt, ConfirmedItem, Conversation


def my_confirmations(user: User) -> QuerySet[ConfirmationAttempt]:
    """The user's confirmation attempts, newest first, each with its items."""
    return (
        ConfirmationAttempt.objects.filter(user=user)
        .select_related("conversation")
        .defer("request_body", "response_body", "conversation__raw")
        .prefetch_related(Prefetch("items", queryset=ConfirmedItem.objects.order_by("id")))
        .order_by("-started_at", "-id")
    )


def exports_failed(user: User) -> list[Conversation]:
    """The user's confirmed conversations whose write to the CRM failed, newest first."""
    return list(
        Conversation.objects.filter(owner=user, export_failed=True)
        .only("id", "title", "crm_export_error", "last_confirmed_at", "crm_export_status")
        .order_by("-last_confirmed_at")[:20]
    )
