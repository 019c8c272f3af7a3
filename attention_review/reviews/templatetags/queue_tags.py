"""What the queue's rows show of review deadlines (the rule itself is `deadlines.py`)."""

from datetime import datetime

from django import template

from attention_review.reviews.deadlines import AgeBadge, age_badge

register = template.Library()


@register.simple_tag
def waiting_badge(started_at: datetime, now: datetime) -> AgeBadge:
    """`{% waiting_badge conversation.started_at now as badge %}`: the call's age badge at
    the moment the page was read (one `now` for every row)."""
    return age_badge(started_at, now)
