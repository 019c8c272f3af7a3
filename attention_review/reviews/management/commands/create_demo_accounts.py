from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from attention_review.demo import DEMO_PASSWORD, demo_account
from attention_review.reviews.services.accounts import demo_accounts_create


class Command(BaseCommand):
    help = "Create the demo accounts (only with ATTENTION_DEMO=1)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_MODE:
            raise CommandError("Demo accounts are created only when ATTENTION_DEMO=1.")
        usernames = demo_accounts_create(password=DEMO_PASSWORD)
        self.stdout.write(f"Demo accounts (password: {DEMO_PASSWORD}):")
        for username in usernames:
            self.stdout.write(f"  {username:<8} {demo_account(username).role}")
