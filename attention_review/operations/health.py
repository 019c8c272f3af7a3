"""Readiness: may this app server take traffic? `/healthz` (reviews.views) says the
process answers; `/readyz` also checks what the app needs to be useful:

- the database answers a `SELECT 1`;
- no migration on disk is unapplied (Django's MigrationExecutor plan is empty);
- the last successful sync is at most `READY_MAX_SYNC_AGE_MINUTES` old (0 turns the
  check off). An installation that has never run a sync is ready (there is nothing to
  be stale yet); one that has run syncs but none succeeded is not.

The page costs three to four small queries and a walk of the migration graph (about
3 ms), needs no login, is never cached, and answers 503 with one reason per line rather
than failing: any error in a check is itself a reason.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from attention_review.reviews.models import SyncRun

logger = logging.getLogger(__name__)

DATABASE_UNREACHABLE = "database unreachable"


def _database_reachable() -> bool:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.warning("Readiness: the database did not answer", exc_info=True)
        return False
    return True


def _pending_migrations() -> list[str]:
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def _sync_problem(max_age_minutes: int) -> str | None:
    if max_age_minutes <= 0:
        return None
    # The newest successful run by id: runs are one at a time, and the primary key is
    # the only index the table needs for this.
    last_success = (
        SyncRun.objects.filter(
            kind=SyncRun.Kind.SYNC, status=SyncRun.Status.SUCCEEDED, finished_at__isnull=False
        )
        .order_by("-pk")
        .values_list("finished_at", flat=True)
        .first()
    )
    if last_success is None:
        return (
            "no successful sync yet"
            if SyncRun.objects.filter(kind=SyncRun.Kind.SYNC).exists()
            else None
        )
    age = timezone.now() - last_success
    if age > timedelta(minutes=max_age_minutes):
        return (
            f"last successful sync is {int(age.total_seconds() // 60)} minutes old "
            f"(limit {max_age_minutes})"
        )
    return None


def readiness_problems() -> list[str]:
    """Why this app server should not take traffic; empty when it is ready."""
    if not _database_reachable():
        return [DATABASE_UNREACHABLE]
    problems: list[str] = []
    try:
        pending = _pending_migrations()
    except DatabaseError:
        logger.warning("Readiness: the migration history could not be read", exc_info=True)
        problems.append("migration state unreadable")
    else:
        if pending:
            shown = ", ".join(pending[:5]) + (", ..." if len(pending) > 5 else "")
            problems.append(f"migrations pending: {shown}")
    try:
        sync = _sync_problem(settings.READY_MAX_SYNC_AGE_MINUTES)
    except DatabaseError:
        logger.warning("Readiness: the sync history could not be read", exc_info=True)
        sync = "sync state unreadable"
    if sync:
        problems.append(sync)
    return problems


@login_not_required
@never_cache
@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    try:
        problems = readiness_problems()
    except Exception:
        logger.exception("Readiness check failed")
        problems = ["readiness check failed"]
    if not problems:
        return HttpResponse("ready", content_type="text/plain")
    return HttpResponse("\n".join(problems) + "\n", status=503, content_type="text/plain")
