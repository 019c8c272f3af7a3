"""Driving a running app over real HTTP from many threads, and reading its database.

Two kinds of target run the same scenarios (`test_concurrency`):

* `OrmTarget`: pytest-django's `live_server` on the test database (PostgreSQL in CI),
  read back through Django's connection;
* `DemoTarget`: the demo as `make run` serves it, in child processes: SQLite in WAL
  mode with IMMEDIATE transactions, `manage.py runserver`, `DEBUG=1`, syncs run by
  `manage.py sync_conversations` in their own process. Read back with `sqlite3`.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from attention_review.reviews.values import ValueKind, value_kind

ROOT = Path(__file__).resolve().parents[2]
MANAGE = [sys.executable, str(ROOT / "manage.py")]


class AppSession:
    """A logged-in browser, minus the browser: cookies, CSRF header, htmx header."""

    def __init__(self, base_url: str, cookies: dict[str, str] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = requests.Session()
        if cookies:
            self.http.cookies.update(cookies)

    def log_in(self, username: str, password: str) -> AppSession:
        self.http.get(self.url("/accounts/login/"), timeout=30)
        response = self.http.post(
            self.url("/accounts/login/"),
            data={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": self.http.cookies["csrftoken"],
            },
            allow_redirects=False,
            timeout=30,
        )
        assert response.status_code == 302, f"login of {username} failed: {response.status_code}"
        return self

    def clone(self) -> AppSession:
        """Another connection with the same login (a second tab)."""
        return AppSession(self.base_url, dict(self.http.cookies))

    def url(self, path: str) -> str:
        return self.base_url + path

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self.url(path), timeout=30, **kwargs)

    def post(self, path: str, data: dict[str, Any], *, htmx: bool = True) -> requests.Response:
        headers = {"X-CSRFToken": self.http.cookies["csrftoken"]}
        if htmx:
            headers["HX-Request"] = "true"
        return self.http.post(
            self.url(path), data=data, headers=headers, allow_redirects=False, timeout=60
        )


def run_together(count: int, action: Callable[[int], Any]) -> list[Any]:
    """Run `action(i)` on `count` threads released at the same instant; their results."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def worker(index: int) -> None:
        barrier.wait()
        try:
            results[index] = action(index)
        except Exception as error:  # reported by the caller's assertions
            results[index] = error

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


class Target:
    """What the scenarios need of a running app."""

    base_url: str

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        raise NotImplementedError

    def run_sync(self) -> None:
        raise NotImplementedError

    def user_id(self, username: str) -> int:
        return self.query("SELECT id FROM auth_user WHERE username = %s", (username,))[0][0]

    def fresh_conversation(self, owner: str) -> tuple[int, int]:
        """(pk, review round) of a conversation of `owner` awaiting review, with three or
        more items, that no test has confirmed yet."""
        rows = self.query(
            "SELECT c.id, c.review_round FROM reviews_conversation c "
            "WHERE c.owner_id = %s AND c.awaiting_review AND c.items_to_review >= 3 "
            "AND NOT EXISTS (SELECT 1 FROM reviews_confirmationattempt a "
            "WHERE a.conversation_id = c.id) "
            "AND NOT EXISTS (SELECT 1 FROM reviews_intelligenceitem i "
            "WHERE i.conversation_id = c.id AND (i.choice <> '' OR i.is_excluded)) "
            "ORDER BY c.started_at DESC LIMIT 1",
            (self.user_id(owner),),
        )
        return rows[0]

    def sign_off(self, rep: AppSession, conversation_pk: int) -> int:
        """Decide, as the rep must before a confirm, each proposal of an explicit-tier
        field that asks for review: "Keep CRM value" where the CRM holds one, else
        "Accept AI" (what the confirm would have sent). Returns how many were decided."""
        rows = self.query(
            "SELECT i.id, i.version, i.is_confirmed FROM reviews_intelligenceitem i "
            "JOIN reviews_fieldsetting f ON f.key = i.key "
            "WHERE i.conversation_id = %s AND f.tier = 'explicit' AND i.needs_review "
            "AND NOT i.refreshing AND NOT i.withdrawn AND i.choice = '' AND NOT i.is_excluded",
            (conversation_pk,),
        )
        for item_pk, version, is_confirmed in rows:
            response = rep.post(
                f"/conversations/{conversation_pk}/items/{item_pk}/choose/",
                {"choice": "keep" if is_confirmed else "accept", "version": version},
            )
            assert response.status_code == 200, response.status_code
        return len(rows)

    def items(self, conversation_pk: int) -> list[dict[str, Any]]:
        rows = self.query(
            "SELECT id, item_id, ai_value, choice, decision_value, is_excluded, reviewed_by_id, "
            "options "
            "FROM reviews_intelligenceitem WHERE conversation_id = %s AND NOT refreshing "
            "ORDER BY position, id",
            (conversation_pk,),
        )
        return [
            {
                "pk": row[0],
                "item_id": row[1],
                "ai_value": _json(row[2]),
                "choice": row[3],
                "decision_value": _json(row[4]),
                "is_excluded": bool(row[5]),
                "reviewed_by_id": row[6],
                # Edited as plain text: not a date, a number or a picklist.
                "free_text": value_kind(_json(row[2]), _json(row[7])) == ValueKind.TEXT,
            }
            for row in rows
        ]

    def item(self, pk: int) -> dict[str, Any]:
        rows = self.query(
            "SELECT conversation_id FROM reviews_intelligenceitem WHERE id = %s", (pk,)
        )
        return next(item for item in self.items(rows[0][0]) if item["pk"] == pk)

    def attention_id(self, conversation_pk: int) -> str:
        sql = "SELECT attention_id FROM reviews_conversation WHERE id = %s"
        return self.query(sql, (conversation_pk,))[0][0]

    def attempts(self, conversation_pk: int) -> list[str]:
        rows = self.query(
            "SELECT outcome FROM reviews_confirmationattempt WHERE conversation_id = %s "
            "ORDER BY id",
            (conversation_pk,),
        )
        return [row[0] for row in rows]

    def has_live_attempt(self, conversation_pk: int) -> bool:
        return any(outcome in {"pending", "unknown"} for outcome in self.attempts(conversation_pk))

    def sync_runs(self) -> list[str]:
        return [row[0] for row in self.query("SELECT status FROM reviews_syncrun ORDER BY id")]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


class OrmTarget(Target):
    """The test database behind pytest-django's live server."""

    def __init__(self, base_url: str, sync: Callable[[], None]) -> None:
        self.base_url = base_url
        self._sync = sync

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def run_sync(self) -> None:
        from django.db import connection

        try:
            self._sync()
        finally:
            connection.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DemoTarget(Target):
    """`make run`'s setup in child processes, on a SQLite file of its own."""

    PASSWORD = "review-demo"

    def __init__(self, workdir: Path, api_base_url: str, api_key: str) -> None:
        self.workdir = workdir
        self.db_path = workdir / "demo.sqlite3"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE"))},
            "DJANGO_SETTINGS_MODULE": "attention_review.settings",
            "DEBUG": "1",
            "ATTENTION_DEMO": "1",
            "DATABASE_URL": f"sqlite:///{self.db_path}",
            "ATTENTION_API_BASE_URL": api_base_url,
            "ATTENTION_API_KEY": api_key,
            "ATTENTION_BACKOFF_SECONDS": "0.01",
            "ATTENTION_PAGE_SIZE": "10",
            "AXES_ENABLED": "1",
            "LOG_LEVEL": "WARNING",
        }
        self.server: subprocess.Popen | None = None
        self.log = workdir / "server.log"

    def manage(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        result = subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
            [*MANAGE, *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert result.returncode == 0, f"manage.py {' '.join(args)}: {result.stderr[-2000:]}"
        return result

    def start(self) -> DemoTarget:
        self.manage("migrate", "--noinput")
        self.manage("create_demo_accounts")
        self.manage("sync_conversations")
        with self.log.open("w") as log:
            self.server = subprocess.Popen(  # noqa: S603 - our own manage.py
                [*MANAGE, "runserver", f"127.0.0.1:{self.port}", "--noreload"],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            assert self.server.poll() is None, self.log.read_text()[-2000:]
            assert time.monotonic() < deadline, "the demo server did not start"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()

    def journal_mode(self) -> str:
        with sqlite3.connect(self.db_path) as db:
            return db.execute("PRAGMA journal_mode").fetchone()[0]

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        db = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=20)
        try:
            return db.execute(sql.replace("%s", "?"), params).fetchall()
        finally:
            db.close()

    def run_sync(self) -> None:
        self.manage("sync_conversations", "--full")
