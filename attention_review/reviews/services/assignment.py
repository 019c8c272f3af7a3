"""A manager hands a call to another reviewer, or back to its owner."""

from django.contrib.auth.models import User
from django.utils import timezone

from ..models import Conversation
from . import locks


def conversation_assign(
    *, conversation: Conversation, assignee: User | None, assigned_by: User
) -> None:
    """Assign the call to `assignee` (None: back to its owner alone). Who may assign to
    whom is the view's form (`selectors.assignment.assignable_reviewers`)."""
    changes = {
        "assigned_to": assignee,
        "assigned_by": assigned_by if assignee else None,
        "assigned_at": timezone.now() if assignee else None,
    }
    Conversation.objects.filter(pk=conversation.pk).update(**changes)
    # Handing the call over ends the manager's own look at it: their review lock (taken
    # when they opened the page to assign it) would otherwise hold the assignee off.
    locks.review_lock_release(conversation_pk=conversation.pk, user=assigned_by)
    for name, value in changes.items():
        setattr(conversation, name, value)
