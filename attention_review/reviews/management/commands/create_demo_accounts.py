from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from attention_review.reviews.services import demo_accounts_create

DEMO_PASSWORD = "review-demo"  # noqa: S105 - the published password of demo-only accounts


class Command(BaseCommand):
    help = "Create the demo accounts (only with ATTENTION_DEMO=1)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_MODE:
            raise CommandError("Demo accounts are created only when ATTENTION_DEMO=1.")
        usernames = demo_accounts_create(password=DEMO_PASSWORD)
        self.stdout.write("Demo accounts (password: review-demo):")
        roles = {"rep": "sales rep", "rep2": "sales rep", "manager": "manager", "admin": "admin"}
        for username in usernames:
            self.stdout.write(f"  {username:<8} {roles.get(username, '')}")
