import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from attention_review.attention.client import AttentionError, client_from_settings
from attention_review.reviews.models import SyncRun
from attention_review.reviews.services.sync import conversation_sync


class Command(BaseCommand):
    help = "Pull conversations and their CRM intelligence from Attention."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--full",
            action="store_true",
            help="Sync everything, not only what changed since the last successful sync.",
        )

    def handle(self, *args: Any, full: bool, **options: Any) -> None:
        show_progress = self.stdout.isatty()

        def progress(run: SyncRun) -> None:
            if not show_progress:
                return
            total = run.pages_total or run.pages
            done = run.pages + run.start_page - 1
            width = 30
            filled = int(width * done / total) if total else width
            bar = "#" * filled + "-" * (width - filled)
            sys.stdout.write(
                f"\r[{bar}] page {done}/{total} · {run.created} new · {run.updated} updated"
            )
            sys.stdout.flush()

        try:
            with client_from_settings() as client:
                run = conversation_sync(client=client, full=full, on_page=progress)
        except AttentionError as error:
            if show_progress:
                sys.stdout.write("\n")
            raise CommandError(f"Sync failed: {error.user_message} ({error.detail})") from None
        if show_progress:
            sys.stdout.write("\n")
        self.stdout.write(
            self.style.SUCCESS(
                f"Synced {run.pages} page{'s' if run.pages != 1 else ''}: "
                f"{run.created} new, {run.updated} updated conversations."
            )
        )
