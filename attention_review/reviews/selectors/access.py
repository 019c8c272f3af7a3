"""Who may see what: roles, the visibility rule, and the one way to fetch an object the
user may see (404 otherwise, never a hint that it exists)."""

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, Group, User
from django.core.cache import cache
from django.db.models import Q, QuerySet, Value
from django.http import Http404

from ..models import Conversation, IntelligenceItem, Team

MANAGERS_GROUP = "Managers"
REPS_GROUP = "Reps"

type AnyUser = User | AnonymousUser


@dataclass(frozen=True)
class Role:
    """What the user may see, read once per request."""

    is_manager: bool
    managed_team_ids: tuple[int, ...]


ROLE_CACHE_SECONDS = 30
# Within a request the role is remembered on the user object under this name.
_ROLE_ATTRIBUTE = "_review_role"


def role_cache_key(user_id: int) -> str:
    return f"review-role:{user_id}"


def user_role(user: AnyUser) -> Role:
    """The user's role, in one query (group membership and managed teams together).

    It is read on every page, so it is kept in the cache for a short while; a change of
    groups or teams clears it (signals.py), and the timeout bounds what a per-process
    cache could miss. Within a request it is remembered on the user object.
    """
    cached: Role | None = getattr(user, _ROLE_ATTRIBUTE, None)
    if cached is not None:
        return cached
    if not user.is_authenticated:
        role = Role(is_manager=False, managed_team_ids=())
    elif (stored := cache.get(role_cache_key(user.pk))) is not None:
        role = Role(is_manager=stored[0], managed_team_ids=tuple(stored[1]))
    else:
        in_managers = Group.objects.filter(user=user.pk, name=MANAGERS_GROUP).values_list(
            Value("group"), "pk"
        )
        teams = Team.managers.through.objects.filter(user_id=user.pk).values_list(
            Value("team"), "team_id"
        )
        rows = list(in_managers.union(teams, all=True))
        role = Role(
            is_manager=user.is_staff
            or user.is_superuser
            or any(kind == "group" for kind, _ in rows),
            managed_team_ids=tuple(sorted(pk for kind, pk in rows if kind == "team")),
        )
        cache.set(
            role_cache_key(user.pk),
            (role.is_manager, list(role.managed_team_ids)),
            ROLE_CACHE_SECONDS,
        )
    setattr(user, _ROLE_ATTRIBUTE, role)
    return role


def user_is_manager(user: AnyUser) -> bool:
    """Managers and admins audit and may see beyond their own conversations."""
    if not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return user_role(user).is_manager


def visibility(user: AnyUser, prefix: str = "") -> Q | None:
    """The condition on conversations (reached through `prefix`) that `user` may see.

    None means everything; admins see all, managers their teams' conversations (all
    when no team is set for them), reps their own, anyone else nothing; and everyone
    sees the calls a manager assigned to them for review.
    """
    parts = visibility_parts(user, prefix)
    if parts is None:
        return None
    condition = Q(pk__in=[]) if not parts else parts[0]
    for part in parts[1:]:
        condition |= part
    return condition


def visibility_parts(user: AnyUser, prefix: str = "") -> list[Q] | None:
    """`visibility` as the conditions it is the union of (None: everything). A query
    that tests each part on its own (an EXISTS per part) lets each use its own index,
    where one OR of them would scan the table."""
    if not user.is_authenticated:
        return []
    if user.is_staff or user.is_superuser:
        return None
    role = user_role(user)
    if role.is_manager:
        if not role.managed_team_ids:
            return None
        return [Q(**{f"{prefix}team_id__in": role.managed_team_ids}), _assigned_to(user, prefix)]
    return [Q(**{f"{prefix}owner": user}), _assigned_to(user, prefix)]


def _assigned_to(user: AnyUser, prefix: str) -> Q:
    return Q(**{f"{prefix}assigned_to": user})


def conversations_visible_to(user: AnyUser) -> QuerySet[Conversation]:
    """Conversations the user may see (see `visibility`)."""
    condition = visibility(user)
    conversations = Conversation.objects.all()
    return conversations if condition is None else conversations.filter(condition)


def get_conversation_for_user(user: AnyUser, pk: int) -> Conversation:
    """The conversation if the user may see it; otherwise 404, never a hint it exists."""
    try:
        return conversations_visible_to(user).select_related("owner", "team").get(pk=pk)
    except Conversation.DoesNotExist:
        raise Http404("No such conversation") from None


# What the review page reads before it knows whether its cached copy will do: the
# access check, the lock and the first-open mark (the whole row only on a miss).
REVIEW_HEAD_FIELDS = (
    "id",
    "title",
    "awaiting_review",
    "owner",
    "assigned_to",
    "locked_by__first_name",
    "locked_by__last_name",
    "locked_by__username",
    "locked_until",
    "review_opened_at",
)


def get_review_head_for_user(user: AnyUser, pk: int) -> Conversation:
    """The conversation with only `REVIEW_HEAD_FIELDS` loaded (and the lock holder), if
    the user may see it; otherwise 404. Any other field read from it costs a query."""
    try:
        return (
            conversations_visible_to(user)
            .select_related("locked_by")
            .only(*REVIEW_HEAD_FIELDS)
            .get(pk=pk)
        )
    except Conversation.DoesNotExist:
        raise Http404("No such conversation") from None


def get_item_for_user(user: AnyUser, conversation_pk: int, item_pk: int) -> IntelligenceItem:
    """An item of a conversation the user may see, with its conversation, in one query;
    404 for any other pairing."""
    items = IntelligenceItem.objects.select_related(
        "conversation", "conversation__owner", "conversation__team"
    )
    condition = visibility(user, prefix="conversation__")
    if condition is not None:
        items = items.filter(condition)
    try:
        return items.get(pk=item_pk, conversation_id=conversation_pk)
    except IntelligenceItem.DoesNotExist:
        raise Http404("No such item") from None


def user_may_audit(user: AnyUser) -> bool:
    return user_is_manager(user)
