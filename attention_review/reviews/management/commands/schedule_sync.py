import time
from typing import Any

from django.core.management.base import BaseCommand

from attention_review.reviews.services.background import sync_enqueue


class Command(BaseCommand):
    help = (
        "Queue a background sync every --interval seconds (skipped while one is under way). "
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
            if once:
                return
            time.sleep(max(interval, 30))
