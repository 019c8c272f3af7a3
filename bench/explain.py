"""Queries per page at full size, and EXPLAIN ANALYZE of the queue and audit queries.

Every page is requested in-process (Django's test client, against the bench database),
twice: the second request's queries are counted and each SELECT is EXPLAIN ANALYZEd, so
a query count or a scan that grows with the rows shows here. The queue and audit
selectors are then run as the pages run them, and their plans are kept for the report.

Usage: python -m bench.explain
"""

import re
import time
from datetime import timedelta
from typing import Any

from .common import CONTEXT_FILE, read_json, setup_django, update_results

_COUNT = re.compile(r"\bCOUNT\(", re.IGNORECASE)
_DECLARE = re.compile(r"\s*DECLARE .*? CURSOR .*?FOR (SELECT .*)", re.IGNORECASE | re.DOTALL)


def _explain(sql: str) -> tuple[list[str], float]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        lines = [row[0] for row in cursor.fetchall()]
    execution = next((ln for ln in lines if ln.startswith("Execution Time")), "")
    ms = float(re.findall(r"[\d.]+", execution)[0]) if execution else 0.0
    return lines, ms


def _captured(callable_: Any) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        callable_()
    return [query["sql"] for query in captured.captured_queries]


def _select(sql: str) -> str | None:
    """The SELECT in a query (a server-side cursor's DECLARE holds one), else None."""
    if sql.lstrip(" (").upper().startswith("SELECT"):
        return sql
    declared = _DECLARE.match(sql)
    return declared.group(1) if declared else None


_FROM = re.compile(r'\bFROM "(\w+)"')
_TRANSACTION = re.compile(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)
_SCAN = re.compile(
    r"(?:Seq Scan|Index Scan|Index Only Scan|Bitmap Heap Scan) .*rows=(\d+) loops=(\d+)"
)
_REMOVED = re.compile(r"Rows Removed by Filter: (\d+)")


def _rows_visited(plan: list[str]) -> int:
    """Rows the plan's scans touched: returned plus filtered out, over all loops."""
    visited = 0
    for line in plan:
        if scan := _SCAN.search(line):
            visited += int(scan.group(1)) * int(scan.group(2))
        elif removed := _REMOVED.search(line):
            visited += int(removed.group(1))
    return visited


def _queries_report(sqls: list[str]) -> list[dict[str, Any]]:
    rows = []
    for sql in sqls:
        entry: dict[str, Any] = {
            "sql": sql if len(sql) < 600 else sql[:600] + " …",
            "conditioned": " WHERE " in sql.upper(),
        }
        select = _select(sql)
        if select is not None:
            plan, ms = _explain(select)
            entry.update(
                ms=ms,
                count=bool(_COUNT.search(sql.split(" FROM ")[0])),
                rows_visited=_rows_visited(plan),
                seq_scans=sorted(set(re.findall(r"Seq Scan on (\w+)", "\n".join(plan)))),
                plan_top=plan[0].strip(),
            )
        rows.append(entry)
    return rows


def page_queries(context: dict[str, Any]) -> dict[str, Any]:
    """Every page of the load, requested in-process: its queries and their plans."""
    pages = {
        "baseline": ("rep", "get", "/healthz", None),
        "queue_rep": ("rep", "get", "/", None),
        "queue_manager": ("manager", "get", "/", None),
        "queue_filtered": ("rep", "get", f"/?{context['queue_query']}", None),
        "review": ("rep", "get", context["review_paths"][0], None),
        "item_save": ("rep", "post", context["item_paths"][0], {"value": "Bench edit"}),
        "audit": ("manager", "get", "/audit/", None),
        "accuracy": ("manager", "get", "/accuracy/", None),
        "my_confirmations": ("rep", "get", "/confirmations/", None),
        "csv": ("admin", "get", f"/audit/export.csv?{context['csv_query']}", None),
        "admin_changelist": ("admin", "get", "/admin/reviews/conversation/", None),
    }
    report = {}
    for key, (username, method, path, data) in pages.items():
        client = _client(username)
        headers = {"HX-Request": "true"} if key == "item_save" else {}

        def request(
            client: Any = client,
            method: str = method,
            path: str = path,
            data: Any = data,
            headers: dict = headers,
        ) -> Any:
            response = getattr(client, method)(path, data, headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code}")
            if response.streaming:
                b"".join(response.streaming_content)
            return response

        request()  # warm: first-open writes, caches
        sqls = _captured(request)
        queries = _queries_report(sqls)
        report[key] = {
            "path": path,
            "user": username,
            "queries": len(sqls),
            "statements": sum(1 for sql in sqls if not _TRANSACTION.match(sql)),
            "count_queries": sum(1 for q in queries if q.get("count")),
            "seq_scans": sorted({table for q in queries for table in q.get("seq_scans", [])}),
            "db_ms": round(sum(q.get("ms", 0.0) for q in queries), 1),
            "detail": queries,
        }
    return report


def _client(username: str) -> Any:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    backends = settings.AUTHENTICATION_BACKENDS
    backend = next((name for name in backends if name.endswith("ModelBackend")), backends[-1])
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(get_user_model().objects.get(username=username), backend=backend)
    return client


def selector_plans(context: dict[str, Any]) -> list[dict[str, Any]]:
    """EXPLAIN ANALYZE of what the queue and audit pages ask through their selectors
    (`review_queue`, `audit_ledger_page`, `audit_summary`): each page is requested as its
    user and the queries on the big tables are explained."""
    from django.utils import timezone

    today = timezone.localdate()
    last_30 = f"date_from={today - timedelta(days=29)}&date_to={today}"
    quarter = f"date_from={today - timedelta(days=120)}&date_to={today - timedelta(days=30)}"
    rep_id = context["user_ids"]["rep"]
    team_id = next(iter(context["team_ids"].values()))
    queue_tables = ("reviews_conversation",)
    audit_tables = ("reviews_confirmationattempt", "reviews_confirmeditem")
    scenarios = [
        ("Queue as a rep: `review_queue(rep)`, first page and its count", "rep", "/", queue_tables),
        (
            "Queue searched and filtered as a rep: `triage_queue(rep, filters)`",
            "rep",
            f"/?{context['queue_query']}",
            queue_tables,
        ),
        (
            "Queue as a rep, most items first",
            "rep",
            "/?sort=items",
            queue_tables,
        ),
        (
            "Queue as a manager of one team: `review_queue(manager)`, first page and its count",
            "manager",
            "/",
            queue_tables,
        ),
        (
            "Audit, default period (last 30 days): `audit_ledger_page` + `audit_summary`",
            "manager",
            "/audit/",
            audit_tables,
        ),
        (
            "Audit by rep (last 30 days)",
            "manager",
            f"/audit/?rep={rep_id}&{last_30}",
            audit_tables,
        ),
        (
            "Audit by team (last 30 days)",
            "manager",
            f"/audit/?team={team_id}&{last_30}",
            audit_tables,
        ),
        (
            "Field accuracy, default period (12 weeks): `field_accuracy`",
            "manager",
            "/accuracy/",
            audit_tables,
        ),
        (
            "My confirmations as a rep",
            "rep",
            "/confirmations/",
            audit_tables,
        ),
        (
            "Audit by date range (a quarter: 120 to 30 days ago)",
            "manager",
            f"/audit/?{quarter}",
            audit_tables,
        ),
    ]
    plans = []
    for title, username, path, tables in scenarios:
        client = _client(username)

        def run(client: Any = client, path: str = path) -> None:
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code}")

        run()  # warm
        queries = []
        for sql in _captured(run):
            select = _select(sql)
            if select is None:
                continue
            main_table = _FROM.search(select)
            if main_table is None or main_table.group(1) not in tables:
                continue
            plan, ms = _explain(select)
            queries.append({"sql": select, "plan": plan, "ms": ms})
        plans.append({"title": f"{title} — `GET {path}` as {username}", "queries": queries})
    return plans


_MARKERS = {
    "template rendering": ("django/template/backends/django.py", "render"),
    "SQL: compile, run, fetch": ("django/db/models/sql/compiler.py", "execute_sql"),
    "session and user load": ("django/contrib/auth/__init__.py", "get_user"),
    "pydantic parsing": ("pydantic/main.py", "model_validate"),
    "CSV rows": ("attention_review/reviews/exports.py", "audit_csv_rows"),
}


def page_profiles(context: dict[str, Any]) -> dict[str, Any]:
    """Where each page's Python time goes: cProfile over repeated in-process requests,
    as shares of the request (the shares overlap: a template may run a query)."""
    import cProfile
    import pstats

    pages = {
        "queue_rep": ("rep", "get", "/", None, 30),
        "queue_manager": ("manager", "get", "/", None, 30),
        "queue_filtered": ("rep", "get", f"/?{context['queue_query']}", None, 30),
        "review": ("rep", "get", context["review_paths"][0], None, 30),
        "item_save": ("rep", "post", context["item_paths"][1], {"value": "Profiled edit"}, 30),
        "audit": ("manager", "get", "/audit/", None, 10),
        "accuracy": ("manager", "get", "/accuracy/", None, 10),
        "my_confirmations": ("rep", "get", "/confirmations/", None, 30),
        "csv": ("admin", "get", f"/audit/export.csv?{context['csv_query']}", None, 1),
    }
    report = {}
    for key, (username, method, path, data, repeat) in pages.items():
        client = _client(username)
        headers = {"HX-Request": "true"} if method == "post" else {}

        def requests(
            client: Any = client,
            method: str = method,
            path: str = path,
            data: Any = data,
            headers: dict = headers,
            repeat: int = repeat,
        ) -> None:
            for _ in range(repeat):
                response = getattr(client, method)(path, data, headers=headers)
                if response.streaming:
                    b"".join(response.streaming_content)

        requests()
        profile = cProfile.Profile()
        profile.runcall(requests)
        # Stats.stats (function -> timing tuple) is what pstats itself reads; typeshed
        # leaves the undocumented attribute out.
        stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
        total = sum(entry[2] for entry in stats.values())  # all own time
        shares = {}
        for name, (path_part, function) in _MARKERS.items():
            cumulative = sum(
                entry[3]
                for (filename, _, func), entry in stats.items()
                if func == function and filename.endswith(path_part)
            )
            if cumulative / total >= 0.02:
                shares[name] = round(cumulative / total, 3)
        app = sorted(
            (
                (entry[3] / total, f"{filename.split('attention_review/')[-1]}:{func}")
                for (filename, _, func), entry in stats.items()
                if "/attention_review/" in filename
                and "views.py" not in filename
                and func != "__call__"  # the middlewares, around everything
                and "reviews/http.py" not in filename  # the view helpers, around the page
            ),
            reverse=True,
        )[:4]
        report[key] = {
            "shares": shares,
            "app_functions": [(name, round(share, 3)) for share, name in app if share >= 0.02],
        }
    return report


def main() -> None:
    setup_django()
    context = read_json(CONTEXT_FILE)
    started = time.monotonic()
    pages = page_queries(context)
    plans = selector_plans(context)
    profiles = page_profiles(context)
    update_results(pages=pages, plans=plans, profiles=profiles)
    for key, page in pages.items():
        print(
            f"  {key:18} {page['queries']} queries, {page['count_queries']} COUNT, "
            f"{page['db_ms']} ms in the database, seq scans: {page['seq_scans'] or 'none'}"
        )
    print(f"Plans taken in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
