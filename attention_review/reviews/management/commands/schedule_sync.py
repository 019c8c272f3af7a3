import time
from typing import Any

from django.core.management.base import BaseCommand

from attention_review.reviews.services.background import sync_enqueue
from attention_review.reviews.services.reconcile import reconcile_due
from attention_review.reviews.tasks import (
    follow_exports_task,
    reconcile_task,
    review_digest_task,
)


class Command(BaseCommand):
    help = (
        "Queue a background sync every --interval seconds (skipped while one is under way), "
        "a check of the exports to the CRM that are not final yet, and the periodic "
        "reconcile of older conversations when it is due, and the daily digest of overdue "
        "reviews (once a day per reviewer). "
        "Run one of these beside the db_worker processes; cron running it with --once works too."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=int, default=600, help="Seconds between syncs.")
        parser.add_argument("--once", action="store_true", help="Queue one sync and exit.")

    def handle(self, *args: Any, interval: int, once: bool, **options: Any) -> None:
        while True:
            run, queued = sync_enqueue()
            state = "queued" if queued else "already under way"
            self.stdout.write(f"Sync {run.pk} {state}.")
            # The sweep behind the per-confirm export checks (a worker restart loses none).
            follow_exports_task.enqueue()
            # Older conversations, re-read once a period (ATTENTION_RECONCILE_EVERY_HOURS).
            if reconcile_due():
                reconcile_task.enqueue()
                self.stdout.write("Reconcile queued.")
            # The daily digest of overdue reviews: sent once a day per reviewer, so the
            # runs after the first of the day find nobody left to write to.
            review_digest_task.enqueue()
            if once:
                return
            time.sleep(max(interval, 30))
