"""Who a manager may hand a call to for review."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, Q, QuerySet

from ..models import Conversation, Team
from .access import MANAGERS_GROUP, REPS_GROUP, AnyUser, user_is_manager, user_role, visibility


def assignable_reviewers(manager: AnyUser) -> QuerySet[User]:
    """The active reps and managers `manager` may assign a call to, by name.

    A manager of teams assigns within those teams (people who own calls of the teams or
    manage them); a manager of no team, and an admin, may assign to any reviewer. Anyone
    else assigns to nobody.
    """
    users = get_user_model().objects.filter(is_active=True)
    if not user_is_manager(manager):
        return users.none()
    reviewers = users.filter(groups__name__in=[REPS_GROUP, MANAGERS_GROUP]).distinct()
    if visibility(manager) is not None:
        team_ids = user_role(manager).managed_team_ids
        owns_a_call = Conversation.objects.filter(owner=OuterRef("pk"), team_id__in=team_ids)
        manages = Team.managers.through.objects.filter(user=OuterRef("pk"), team_id__in=team_ids)
        reviewers = reviewers.filter(Q(Exists(owns_a_call)) | Q(Exists(manages)))
    return reviewers.order_by("first_name", "last_name", "username")
