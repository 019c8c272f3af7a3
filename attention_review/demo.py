"""The demo personas, in one place: who the demo's people are in Attention and in the app.

The sandbox builds its calls around these Attention users, `create_demo_accounts` makes
the app accounts, and the benchmark and the tests use the same people. Plain data with no
Django or sandbox import, so any of them may import it without a cycle.
"""

import uuid
from dataclasses import dataclass
from functools import lru_cache

# Every demo UUID hangs off this namespace, so ids are stable across runs and machines.
DEMO_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "attention-demo.test")
DEMO_DOMAIN = "attention-demo.test"
DEMO_PASSWORD = "review-demo"  # noqa: S105 - the published password of demo-only accounts


@lru_cache(maxsize=4096)
def stable_uuid(*parts: object) -> str:
    """A UUID fixed by its name parts: the same on every run and machine."""
    return str(uuid.uuid5(DEMO_NAMESPACE, ":".join(str(part) for part in parts)))


@dataclass(frozen=True)
class DemoTeam:
    uuid: str
    name: str


@dataclass(frozen=True)
class DemoAttentionUser:
    """A user of Attention who owns calls."""

    uuid: str
    email: str
    name: str
    team_uuid: str


@dataclass(frozen=True)
class DemoAccount:
    """An account of the app; `group` is its role group (None for the admin)."""

    username: str
    email: str
    first_name: str
    last_name: str
    group: str | None
    is_admin: bool = False
    role: str = ""


DEMO_TEAMS: tuple[DemoTeam, ...] = (
    DemoTeam(uuid=stable_uuid("team", "enterprise-east"), name="Enterprise East"),
    DemoTeam(uuid=stable_uuid("team", "mid-market-west"), name="Mid-Market West"),
)


def _attention_user(local_part: str, name: str, team: DemoTeam) -> DemoAttentionUser:
    email = f"{local_part}@{DEMO_DOMAIN}"
    return DemoAttentionUser(
        uuid=stable_uuid("user", email), email=email, name=name, team_uuid=team.uuid
    )


# The reps who own calls. rep and rep2 have accounts in the app; dana and lee do not, so
# the dashboard also shows calls whose owner it cannot link to a user.
DEMO_ATTENTION_USERS: tuple[DemoAttentionUser, ...] = (
    _attention_user("rep", "Riley Park", DEMO_TEAMS[0]),
    _attention_user("rep2", "Sam Ortega", DEMO_TEAMS[1]),
    _attention_user("dana", "Dana Whitfield", DEMO_TEAMS[0]),
    _attention_user("lee", "Lee Marsh", DEMO_TEAMS[1]),
)

DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("rep", f"rep@{DEMO_DOMAIN}", "Riley", "Park", "Reps", role="sales rep"),
    DemoAccount("rep2", f"rep2@{DEMO_DOMAIN}", "Sam", "Ortega", "Reps", role="sales rep"),
    DemoAccount("manager", f"manager@{DEMO_DOMAIN}", "Morgan", "Lee", "Managers", role="manager"),
    DemoAccount("admin", f"admin@{DEMO_DOMAIN}", "Alex", "Admin", None, True, role="admin"),
)


def demo_account(username: str) -> DemoAccount:
    """The demo account with this username."""
    return next(account for account in DEMO_ACCOUNTS if account.username == username)
