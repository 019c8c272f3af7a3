"""The demo accounts (demo only: refused unless ATTENTION_DEMO is on)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from attention_review.demo import DEMO_ACCOUNTS, DEMO_TEAMS

from ..models import Team


def demo_accounts_create(*, password: str) -> list[str]:
    """Create or reset the demo accounts and the demo teams; returns the usernames."""
    if not settings.DEMO_MODE:
        raise RuntimeError("Demo accounts are only created with ATTENTION_DEMO=1")
    user_model = get_user_model()
    created = []
    for account in DEMO_ACCOUNTS:
        user, _ = user_model.objects.get_or_create(
            username=account.username,
            defaults={
                "email": account.email,
                "first_name": account.first_name,
                "last_name": account.last_name,
            },
        )
        user.set_password(password)
        user.is_staff = user.is_superuser = account.is_admin
        user.save()
        if account.group:
            user.groups.add(Group.objects.get_or_create(name=account.group)[0])
        created.append(account.username)
    for team in DEMO_TEAMS:
        Team.objects.update_or_create(attention_uuid=team.uuid, defaults={"name": team.name})
    return created
