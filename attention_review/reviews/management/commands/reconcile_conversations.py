from typing import Any

from django.core.management.base import BaseCommand, CommandError

from attention_review.attention.client import AttentionError, client_from_settings
from attention_review.reviews.services.reconcile import conversations_reconcile


class Command(BaseCommand):
    help = (
        "Re-read the conversations not read within ATTENTION_RECONCILE_EVERY_HOURS, in chunks: "
        "picks up confirmations made in Attention and conversations deleted there. "
        "Stopped half-way, the next run carries on."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--chunk-size", type=int, default=200)
        parser.add_argument("--max-chunks", type=int, default=None)

    def handle(self, *args: Any, chunk_size: int, max_chunks: int | None, **options: Any) -> None:
        try:
            with client_from_settings() as client:
                run = conversations_reconcile(
                    client=client, chunk_size=max(1, chunk_size), max_chunks=max_chunks
                )
        except AttentionError as error:
            raise CommandError(f"Reconcile failed: {error.user_message}") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Re-read {run.records_seen} conversations: {run.updated} updated, "
                f"{run.gone} gone from Attention, {run.set_aside} set aside."
            )
        )
        for warning in run.warnings:
            self.stdout.write(self.style.WARNING(warning))
