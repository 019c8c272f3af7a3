"""Who is reviewing a call right now: an expiring lock, so two people do not edit one call
at once without knowing.

The call's reviewer (its owner, or the person it is assigned to) opening the review page
takes the lock or renews it, and so does every decision and the page's poll while it
stays open; someone only looking in (a manager) takes nothing until they decide. Someone
else opening the call sees who holds it and until when; their changes are refused until
the lock expires, or until they take it over (the holder may have left without
confirming). A confirm releases it; expiry covers a holder who simply closed the tab.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone

from ..models import Conversation

# When the holder cannot be named (the lock changed hands twice while it was read).
SOMEONE_ELSE_REVIEWING = "Someone else is reviewing this call right now; try again in a moment."


@dataclass(frozen=True)
class ReviewLock:
    """The lock as one reviewer finds it: theirs, or held by someone else until when."""

    held_by_me: bool
    holder_name: str = ""
    until: datetime | None = None

    @property
    def since(self) -> datetime | None:
        """When the holder last opened, decided or polled: the lock runs a fixed time
        from then."""
        if self.until is None:
            return None
        return self.until - lock_duration()

    @property
    def refusal(self) -> str:
        """'Dana Cole is reviewing this call (since 14:02, until 14:17).'"""
        if self.held_by_me or self.until is None or self.since is None:
            return ""
        since = timezone.localtime(self.since)
        until = timezone.localtime(self.until)
        return (
            f"{self.holder_name} is reviewing this call (since {since:%H:%M}, until {until:%H:%M})."
        )


def lock_duration() -> timedelta:
    return timedelta(minutes=settings.REVIEW_LOCK_MINUTES)


def person_name(user: User) -> str:
    return user.get_full_name() or user.get_username()


def _free_or_mine(user: User, now: datetime) -> Q:
    """The lock is free (nobody, or expired: `locked_until` is the first moment it is
    free) or already the user's."""
    return Q(locked_by__isnull=True) | Q(locked_by=user) | Q(locked_until__lte=now)


def review_lock_take(
    *, conversation_pk: int, user: User, current: Conversation | None = None
) -> ReviewLock:
    """Take or renew the lock on a conversation for `user`, unless someone else holds it.

    One conditional UPDATE: of two people opening the call at once, the database lets
    exactly one of them through. When the lock is someone else's, their name and the end
    of their lock are read (one more query, only then). With `current`, the conversation
    as this request just read it, a lock of the user's with more than two thirds of its
    time left is kept as it is: reopening the page is no reason to write (the page's
    poll renews it well before it ends).
    """
    now = timezone.now()
    until = now + lock_duration()
    if (
        current is not None
        and current.locked_by_id == user.pk
        and current.locked_until is not None
        and current.locked_until - now > lock_duration() * 2 / 3
    ):
        return ReviewLock(
            held_by_me=True, holder_name=person_name(user), until=current.locked_until
        )
    for _ in range(2):
        taken = (
            Conversation.objects.filter(pk=conversation_pk)
            .filter(_free_or_mine(user, now))
            .update(locked_by=user, locked_until=until)
        )
        if taken:
            return ReviewLock(held_by_me=True, holder_name=person_name(user), until=until)
        holder = (
            Conversation.objects.filter(pk=conversation_pk)
            .select_related("locked_by")
            .only("locked_by", "locked_until")
            .get()
        )
        if holder.locked_by is not None and holder.locked_until is not None:
            break
        # Released between the two queries: try once more rather than refuse.
    else:
        return ReviewLock(held_by_me=False)
    return ReviewLock(
        held_by_me=False, holder_name=person_name(holder.locked_by), until=holder.locked_until
    )


def review_lock_peek(*, conversation: Conversation, user: User) -> ReviewLock | None:
    """The lock as someone who only looks finds it, without taking it: someone else's
    live lock, or None when it is free or theirs (their first decision takes it)."""
    if not lock_held_by_other(conversation, user) or conversation.locked_by is None:
        return None
    return ReviewLock(
        held_by_me=False,
        holder_name=person_name(conversation.locked_by),
        until=conversation.locked_until,
    )


def review_lock_take_over(*, conversation: Conversation, user: User) -> str:
    """Take the lock whoever holds it (they left without confirming); returns the name of
    the person it was taken from, or '' when it was free or the user's own."""
    current = (
        Conversation.objects.filter(pk=conversation.pk)
        .select_related("locked_by")
        .only("locked_by", "locked_until")
        .get()
    )
    now = timezone.now()
    previous = current.locked_by
    held_by_other = (
        previous is not None
        and previous.pk != user.pk
        and current.locked_until is not None
        and current.locked_until > now
    )
    until = now + lock_duration()
    Conversation.objects.filter(pk=conversation.pk).update(locked_by=user, locked_until=until)
    conversation.locked_by, conversation.locked_until = user, until
    return person_name(previous) if held_by_other and previous is not None else ""


def lock_held_by_other(conversation: Conversation, user: User) -> bool:
    """On a row read under the conversation's row lock: someone else holds a live lock."""
    return (
        conversation.locked_by_id is not None
        and conversation.locked_by_id != user.pk
        and conversation.locked_until is not None
        and conversation.locked_until > timezone.now()
    )


def lock_refusal_for(conversation: Conversation) -> str:
    """The sentence for a change refused because the lock is someone else's."""
    holder = conversation.locked_by
    if holder is None or conversation.locked_until is None:
        return ""
    return ReviewLock(
        held_by_me=False, holder_name=person_name(holder), until=conversation.locked_until
    ).refusal


def review_lock_release(*, conversation_pk: int, user: User) -> None:
    """Give the lock back (best effort: expiry covers a release that never comes)."""
    Conversation.objects.filter(pk=conversation_pk, locked_by=user).update(
        locked_by=None, locked_until=None
    )
