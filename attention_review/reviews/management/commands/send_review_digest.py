from typing import Any

from django.core.management.base import BaseCommand

from attention_review.reviews.services.digest import digest_send


class Command(BaseCommand):
    help = (
        "Email each reviewer the calls overdue for review, once a day (a second run the "
        "same day sends nothing more). For cron, where schedule_sync does not run."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        sent = digest_send()
        self.stdout.write(f"Sent {sent} digest email{'' if sent == 1 else 's'}.")
