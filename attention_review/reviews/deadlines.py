"""Review deadlines: the one rule for when a call's review is due, due soon or overdue.

A call is due REVIEW_DEADLINE_HOURS after it started (`Conversation.started_at`). It is
"due soon" from REVIEW_DUE_SOON_HOURS before that moment up to and including the moment
itself, and overdue from the first instant after it. Every function takes `now`, so the
queue, the per-rep summary and the daily digest agree to the second and tests can name
the boundary times.
"""

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings


class DeadlineState(enum.StrEnum):
    ON_TIME = "on_time"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


def deadline_for(started_at: datetime) -> datetime:
    """When the review of a call that started at `started_at` is due."""
    return started_at + timedelta(hours=settings.REVIEW_DEADLINE_HOURS)


def due_soon_from(started_at: datetime) -> datetime:
    """When a call's review starts to count as due soon."""
    return deadline_for(started_at) - timedelta(hours=settings.REVIEW_DUE_SOON_HOURS)


def is_overdue(started_at: datetime, now: datetime) -> bool:
    """Past the deadline: the deadline itself is still on time (due now)."""
    return now > deadline_for(started_at)


def overdue_started_before(now: datetime) -> datetime:
    """Calls that started strictly before this moment are overdue at `now`: the same rule
    as `is_overdue`, as a bound a query can compare `started_at` with."""
    return now - timedelta(hours=settings.REVIEW_DEADLINE_HOURS)


def deadline_state(started_at: datetime, now: datetime) -> DeadlineState:
    if is_overdue(started_at, now):
        return DeadlineState.OVERDUE
    if now >= due_soon_from(started_at):
        return DeadlineState.DUE_SOON
    return DeadlineState.ON_TIME


def span_text(span: timedelta) -> str:
    """A span as the queue writes it, coarsely: '12 min', '5 h', '3 d' (rounded down,
    never under one minute)."""
    seconds = max(int(span.total_seconds()), 0)
    if seconds < 3600:
        return f"{max(seconds // 60, 1)} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


@dataclass(frozen=True)
class AgeBadge:
    """How long a call has waited, as the queue shows it: words first, colour second."""

    text: str
    state: DeadlineState
    # The badge's colour class in app.css: '' (plain), 'warn' or 'bad'.
    tone: str


def age_badge(started_at: datetime, now: datetime) -> AgeBadge:
    """'3 d' while on time, 'Due in 5 h' when due soon ('Due now' at the deadline),
    'Overdue by 1 d' after it."""
    state = deadline_state(started_at, now)
    deadline = deadline_for(started_at)
    if state is DeadlineState.OVERDUE:
        return AgeBadge(f"Overdue by {span_text(now - deadline)}", state, "bad")
    if state is DeadlineState.DUE_SOON:
        text = "Due now" if now == deadline else f"Due in {span_text(deadline - now)}"
        return AgeBadge(text, state, "warn")
    return AgeBadge(span_text(now - started_at), state, "")
