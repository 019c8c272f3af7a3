"""Spot checks: a manager's second look at a random sample of one rep's confirmed items,
and the manager's verdict on each."""

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from ..models import SpotCheck, SpotCheckItem
from ..selectors import spot_checks as spot_check_selectors

# The sample is drawn from the rep's latest confirmed items, at most this many: a random
# order over a bounded set keeps the draw cheap however long the rep's history is.
SAMPLE_POOL = 2000


class SpotCheckError(Exception):
    """A spot check that cannot be made; the message is for the manager."""


def spot_check_create(*, manager: User, rep_id: int, size: int) -> SpotCheck:
    """A spot check of `size` items drawn at random from the rep's confirmed items that
    were sent (not excluded), on calls the manager may see; items already in an earlier
    spot check are left for others. Fewer when fewer are left; SpotCheckError when none."""
    pool = (
        spot_check_selectors.sampleable_items(manager, rep_id=rep_id)
        .order_by("-pk")
        .values("pk")[:SAMPLE_POOL]
    )
    sampled = list(
        spot_check_selectors.sampleable_items(manager, rep_id=rep_id)
        .filter(pk__in=pool)
        .order_by("?")
        .values_list("pk", flat=True)[:size]
    )
    if not sampled:
        rep = User.objects.get(pk=rep_id)
        name = rep.get_full_name() or rep.get_username()
        raise SpotCheckError(f"{name} has no confirmed items left to sample.")
    with transaction.atomic():
        check = SpotCheck.objects.create(manager=manager, rep_id=rep_id)
        SpotCheckItem.objects.bulk_create(
            SpotCheckItem(spot_check=check, confirmed_item_id=pk) for pk in sorted(sampled)
        )
    return check


def spot_check_decide(*, item: SpotCheckItem, verdict: str, note: str) -> SpotCheckItem:
    """Record the manager's verdict (agree or disagree) and note on one sampled item; a
    later verdict replaces it. The check is finished once every item has a verdict."""
    if verdict not in (SpotCheckItem.Verdict.AGREE, SpotCheckItem.Verdict.DISAGREE):
        raise SpotCheckError("Choose Agree or Disagree.")
    now = timezone.now()
    with transaction.atomic():
        SpotCheckItem.objects.filter(pk=item.pk).update(
            verdict=verdict, note=note.strip(), decided_at=now
        )
        undecided = SpotCheckItem.objects.filter(
            spot_check_id=item.spot_check_id, verdict=SpotCheckItem.Verdict.PENDING
        )
        if not undecided.exists():
            SpotCheck.objects.filter(pk=item.spot_check_id, finished_at__isnull=True).update(
                finished_at=now
            )
    item.verdict, item.note, item.decided_at = verdict, note.strip(), now
    return item
