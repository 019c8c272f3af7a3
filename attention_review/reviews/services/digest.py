"""The daily digest: one email a day to each reviewer with calls overdue for review."""

import logging
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from ..deadlines import span_text
from ..models import ReviewDigest
from ..selectors.digest import ReviewerDigest, digests_due

logger = logging.getLogger(__name__)


def digest_subject(count: int) -> str:
    return f"{count} call{'' if count == 1 else 's'} overdue for review"


def digest_email(digest: ReviewerDigest) -> EmailMultiAlternatives:
    """The email: plain text, with an HTML alternative; every link absolute."""
    base = settings.APP_BASE_URL
    context = {
        "name": digest.user.first_name or digest.user.username,
        "calls": [
            {
                "title": call.title,
                "started_at": call.started_at,
                "overdue": f"Overdue by {span_text(call.overdue_by)}",
                "url": base + reverse("reviews:review", args=[call.conversation_id]),
            }
            for call in digest.calls
        ],
        "deadline_hours": settings.REVIEW_DEADLINE_HOURS,
        "queue_url": base + reverse("reviews:queue"),
    }
    email = EmailMultiAlternatives(
        subject=digest_subject(len(digest.calls)),
        body=render_to_string("reviews/email/digest.txt", context),
        to=[digest.user.email],
    )
    email.attach_alternative(render_to_string("reviews/email/digest.html", context), "text/html")
    return email


def digest_send(*, now: datetime | None = None) -> int:
    """Email each reviewer with an overdue call their list; returns how many were sent.

    At most one a day per reviewer: the `ReviewDigest` row is written in the same
    transaction as the email is handed to the backend, and the database refuses a second
    for the same day, so a repeated or concurrent run skips whoever already has theirs.
    A failed send leaves no row, and the next run tries again.
    """
    now = now or timezone.now()
    day = timezone.localdate(now)
    sent = 0
    for digest in digests_due(now=now, day=day):
        try:
            with transaction.atomic():
                ReviewDigest.objects.create(
                    user=digest.user, sent_on=day, overdue=len(digest.calls), sent_at=now
                )
                digest_email(digest).send()
        except IntegrityError:
            continue  # another run sent today's digest first
        except OSError:
            logger.warning("Digest to user %s not sent; the next run tries again", digest.user.pk)
            continue
        sent += 1
    return sent
