from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

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
        # A progress bar (rate, time left, records set aside) on a terminal only: cron
        # and CI logs get the summary line alone.
        bar = tqdm(
            unit=" conversations",
            disable=not self.stdout.isatty(),
            dynamic_ncols=True,
            leave=True,
        )

        def progress(run: SyncRun) -> None:
            if run.total_reported:
                bar.total = max(run.total_reported, run.records_seen)
            bar.update(run.records_seen - bar.n)
            bar.set_postfix(
                new=run.created, updated=run.updated, set_aside=run.set_aside, refresh=False
            )

        try:
            with client_from_settings() as client:
                run = conversation_sync(client=client, full=full, on_page=progress)
        except AttentionError as error:
            raise CommandError(f"Sync failed: {error.user_message} ({error.detail})") from None
        finally:
            bar.close()
        self.stdout.write(
            self.style.SUCCESS(
                f"Synced {run.pages} page{'s' if run.pages != 1 else ''}: "
                f"{run.created} new, {run.updated} updated conversations"
                + (f", {run.set_aside} set aside." if run.set_aside else ".")
            )
        )
        for warning in run.warnings:
            self.stdout.write(self.style.WARNING(warning))
