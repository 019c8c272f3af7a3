"""Writes docs/benchmarks.md from var/bench/results.json (every figure from the run)."""

import sys
from pathlib import Path
from typing import Any

from .common import RESULTS_FILE, ROOT, read_json

DOC = ROOT / "docs" / "benchmarks.md"
BIG_TABLES = {
    "reviews_conversation",
    "reviews_intelligenceitem",
    "reviews_confirmationattempt",
    "reviews_confirmeditem",
}
# Each page's share of the floor's throughput (the logged-in reference page, measured
# around it in the same run).
PAGE_TARGETS = {
    "queue_rep": 0.5,
    "queue_manager": 0.5,
    "queue_filtered": 0.5,
    "item_save": 0.5,
    "review": 0.4,
    "audit": 0.25,
    "accuracy": 0.25,
    "my_confirmations": 0.25,
}
MAX_QUERIES = 12
CSV_ROWS_PER_SECOND = 50_000
SYNC_SHARE_OF_COPY = 0.5
P99_OVER_P50 = 4


def _ms(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _met(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def _baseline(results: dict[str, Any]) -> float:
    values = [run["rps"] for run in results["baselines"]]
    return sum(values) / len(values)


def _results_table(results: dict[str, Any]) -> list[str]:
    load, pages, floors = results["load"], results.get("pages", {}), results["baselines"]
    rates = [run["rps"] for run in floors]
    lines = [
        "| endpoint | as | req/s | x floor | p50 ms | p99 ms | p99 / p50 | queries "
        "| app CPU ms/req | unexpected statuses |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    first = floors[0]
    lines.append(
        f"| {first['label']} | {first['user']} | {first['rps']:,.1f} (all {len(rates)} runs: "
        f"{min(rates):,.0f} to {max(rates):,.0f}) | 1 | {_ms(first['p50_ms'])} | "
        f"{_ms(first['p99_ms'])} | {_spread(first)} | 2 | {_app_ms(first)} | "
        f"{first['non_200'] or 'none'} |"
    )
    for key, figures in load.items():
        queries = _queries(pages.get("baseline" if key == "healthz" else key, {}))
        lines.append(
            f"| {figures['label']} | {figures['user']} | {figures['rps']:,.1f} | "
            f"{figures['floor_ratio']:.3f} | {_ms(figures['p50_ms'])} | "
            f"{_ms(figures['p99_ms'])} | {_spread(figures)} | {queries} | {_app_ms(figures)} | "
            f"{figures['non_200'] or 'none'} |"
        )
    return lines


def _spread(figures: dict[str, Any]) -> str:
    return f"{figures['p99_ms'] / figures['p50_ms']:.1f}" if figures["p50_ms"] else ""


def _queries(page: dict[str, Any]) -> str:
    """Queries as the test suite counts them (CaptureQueriesContext), and the SQL
    statements among them when BEGIN/COMMIT are counted too."""
    if not page:
        return ""
    total, statements = page["queries"], page.get("statements", page["queries"])
    return str(total) if total == statements else f"{total} ({statements} + BEGIN/COMMIT)"


def _app_ms(figures: dict[str, Any]) -> str:
    if not figures["rps"]:
        return ""
    return f"{figures['cpu_cores']['gunicorn'] / figures['rps'] * 1000:.1f}"


def _cold_table(results: dict[str, Any]) -> list[str]:
    """The cached pages with the fragment cache off, beside the same pages with it on."""
    cold, hot = results.get("load_cold"), results["load"]
    if not cold:
        return []
    lines = [
        "**The fragment cache, measured.** The pages whose content is cached per reader "
        "until the next write (`reviews/fragment_cache.py`) were measured again in the same "
        "run with the cache off, so every view costs what the first view after a change "
        "costs:",
        "",
        "| page | x floor, cache on | x floor, every view a miss | p50 ms on / miss "
        "| p99 ms on / miss | app CPU ms/req on / miss |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, figures in cold.items():
        if key not in hot:
            continue
        lines.append(
            f"| {key} | {hot[key]['floor_ratio']:.3f} | {figures['floor_ratio']:.3f} | "
            f"{_ms(hot[key]['p50_ms'])} / {_ms(figures['p50_ms'])} | "
            f"{_ms(hot[key]['p99_ms'])} / {_ms(figures['p99_ms'])} | "
            f"{_app_ms(hot[key])} / {_app_ms(figures)} |"
        )
    return [*lines, ""]


def _cpu_table(results: dict[str, Any]) -> list[str]:
    lines = [
        "| run | gunicorn (2 workers) | postgres (all) | wrk | everything else | machine |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    runs = [("floor (first run)", results["baselines"][0]), *results["load"].items()]
    for key, figures in runs:
        cpu = figures["cpu_cores"]
        lines.append(
            f"| {key} | {cpu['gunicorn']} | {cpu['postgres']} | {cpu['wrk']} | "
            f"{cpu['other']} | {cpu['machine']} |"
        )
    return lines


def _targets(results: dict[str, Any]) -> list[str]:
    load, pages = results["load"], results.get("pages", {})
    lines = ["| target | measured | verdict |", "|---|---|---|"]
    for key, share in PAGE_TARGETS.items():
        if key not in load:
            continue
        ratio = load[key]["floor_ratio"]
        lines.append(
            f"| {load[key]['label']}: >= {share:g} of the floor "
            f"| {ratio:.2f} ({load[key]['rps']:,.1f} of {load[key]['floor_rps']:,.0f} req/s) "
            f"| {_met(ratio >= share)} |"
        )
    spread = [
        (key, figures["p99_ms"] / figures["p50_ms"])
        for key, figures in load.items()
        if figures["p50_ms"] and key != "admin_changelist"
    ]
    worst_spread = max(spread, key=lambda pair: pair[1])
    over_spread = [f"{key} {ratio:.1f}" for key, ratio in spread if ratio >= P99_OVER_P50]
    lines.append(
        f"| p99 below {P99_OVER_P50}x p50 on every app page under the load "
        f"| worst {worst_spread[0]} {worst_spread[1]:.1f}x"
        + (f"; over: {', '.join(over_spread)}" if over_spread else "")
        + f" | {_met(not over_spread)} |"
    )
    csv = results.get("csv_stream")
    if csv:
        lines.append(
            f"| CSV export of {csv['rows']:,} ledger rows >= {CSV_ROWS_PER_SECOND:,} rows/s, "
            "worker memory flat "
            f"| {csv['rows_per_second']:,.0f} rows/s (median of {csv['runs']} downloads, "
            f"{csv['seconds']:.2f} s each); worker peak RSS {csv['peak_before_mb']:.0f} -> "
            f"{csv['peak_after_mb']:.0f} MB "
            f"| {_met(csv['rows_per_second'] >= CSV_ROWS_PER_SECOND and csv['flat'])} |"
        )
    app_pages = {key: page for key, page in pages.items() if key != "admin_changelist"}
    worst = max((page["queries"], key) for key, page in app_pages.items())
    over = [
        f"{key} {_queries(page)}"
        for key, page in app_pages.items()
        if page["queries"] > MAX_QUERIES
    ]
    over_text = f"; over: {', '.join(over)}" if over else ""
    lines.append(
        f"| every page's query count constant in rows, at most {MAX_QUERIES} "
        f"| at most {worst[0]} ({worst[1]}) at full size{over_text}"
        " (constancy in rows is pinned in `tests/reviews/test_query_counts.py`) "
        f"| {_met(worst[0] <= MAX_QUERIES)} at this size |"
    )
    scanned = [
        f"{key} ({', '.join(sorted(BIG_TABLES & set(page['seq_scans'])))})"
        for key, page in app_pages.items()
        if BIG_TABLES & set(page["seq_scans"])
    ]
    lines.append(
        "| every query of the app pages on the four big tables served by an index "
        f"| sequential scans of a big table: {', '.join(scanned) or 'none'} "
        f"| {_met(not scanned)} |"
    )
    # A whole-table count is one with no condition at all; a page's capped count and an
    # aggregate over a chosen period are bounded by their conditions (rows shown).
    counts = [
        (
            key,
            query.get("rows_visited", 0),
            not query.get("conditioned", " WHERE " in query["sql"].upper()),
        )
        for key, page in app_pages.items()
        for query in page["detail"]
        if query.get("count")
    ]
    described = ", ".join(
        f"{key} {visited:,} rows" + (" (no condition)" if whole else "")
        for key, visited, whole in counts
    )
    lines.append(
        "| no `COUNT` over a whole table per request (app pages) "
        f"| rows visited by each page's counting query: {described or 'none'} "
        f"| {_met(not [key for key, _, whole in counts if whole])} |"
    )
    syncs = results.get("sync", [])
    if syncs:
        largest = max(syncs, key=lambda run: run["served"])
        peaks = ", ".join(f"{run['peak_rss_mb']} MB at {run['served']:,}" for run in syncs)
        copy = largest.get("copy_per_second") or 0
        share = largest["per_second"] / copy if copy else 0
        lines.append(
            f"| sync >= {SYNC_SHARE_OF_COPY} of a raw `COPY` of the same rows into the same "
            "tables "
            f"| {share:.2f}: {largest['per_second']:,}/s against COPY {copy:,}/s at "
            f"{largest['served']:,} | {_met(share >= SYNC_SHARE_OF_COPY)} |"
        )
        flat = max(run["peak_rss_mb"] for run in syncs) <= 1.2 * min(
            run["peak_rss_mb"] for run in syncs
        )
        lines.append(
            f"| sync peak memory flat in the number of conversations | {peaks} | {_met(flat)} |"
        )
    backfill = results.get("backfill")
    if backfill:
        lines.append(
            f"| backfill of {backfill['conversations']:,} at "
            f"{backfill['latency_seconds'] * 1000:.0f} ms a call: at most 1/3 of the time "
            "of one page at a time "
            f"| {backfill['concurrent']['seconds']} s vs {backfill['one_at_a_time']['seconds']} s "
            f"(ratio {backfill['ratio']}) | {_met(backfill['ratio'] <= 1 / 3)} |"
        )
    memory = results.get("worker_memory_kb", {})
    if memory:
        peak = max(values.get("VmRSS", 0) for values in memory.values()) / 1024
        lines.append(
            f"| a gunicorn worker < 200 MB resident after the load "
            f"| {peak:.0f} MB (largest worker) | {_met(peak < 200)} |"
        )
    return lines


def _pages_table(pages: dict[str, Any]) -> list[str]:
    lines = [
        "| page | as | queries | COUNT queries (rows they visit) | sequential scans "
        "| database time (EXPLAIN ANALYZE, sum) |",
        "|---|---|---:|---:|---|---:|",
    ]
    for key, page in pages.items():
        scans = ", ".join(
            f"**{table}**" if table in BIG_TABLES else table for table in page["seq_scans"]
        )
        visited = [q.get("rows_visited", 0) for q in page["detail"] if q.get("count")]
        counted = f" ({', '.join(f'{v:,}' for v in visited)})" if visited else ""
        lines.append(
            f"| {key} (`{page['path']}`) | {page['user']} | {_queries(page)} | "
            f"{page['count_queries']}{counted} | {scans or 'none'} | {page['db_ms']} ms |"
        )
    return lines


def _plans(plans: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for scenario in plans:
        lines += ["", f"### {scenario['title']}", ""]
        for query in scenario["queries"]:
            sql = query["sql"]
            if "django_session" in sql or '"auth_user"."password"' in sql:
                continue
            lines += ["```sql", sql if len(sql) < 1500 else sql[:1500] + " …", "```", "```"]
            lines += [line for line in query["plan"]]
            lines += ["```", ""]
    return lines


def _sync(syncs: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| served by the sandbox | stored | seconds | conversations/s | raw COPY of the same "
        "rows, s | COPY conversations/s | sync / COPY | peak RSS of the sync "
        "| sync CPU s | sandbox CPU s | postgres CPU s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in syncs:
        copy = run.get("copy_per_second") or 0
        lines.append(
            f"| {run['served']:,} | {run['conversations']:,} ({run['items']:,} items) | "
            f"{run['seconds']} | {run['per_second']:,} | {run.get('copy_seconds', '')} | "
            f"{copy:,} | {run['per_second'] / copy if copy else 0:.2f} | "
            f"{run['peak_rss_mb']} MB | "
            f"{run['cpu_seconds']} | {run['sandbox_cpu_seconds']} | {run['postgres_cpu_seconds']} |"
        )
    return lines


def _scale_out(scale: dict[str, Any]) -> list[str]:
    names = {
        "one_server": "A. one app process (2 workers)",
        "two_servers": "B. two app processes (2 workers each)",
        "two_servers_two_workers": "C. as B, plus two db_workers syncing back to back",
    }
    lines = [
        f"Mix: {scale['mix']}; {scale['connections_per_server']} connections per app process, "
        f"{scale['seconds']} s per phase.",
        "",
        "| phase | req/s (all servers) | p50 ms | p99 ms | gunicorn cores | postgres cores "
        "| db_workers cores | sandbox cores | everything else | app CPU ms/req |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, phase in scale["phases"].items():
        cpu = phase["cpu_cores"]
        lines.append(
            f"| {names.get(key, key)} | {phase['rps']:,.1f} | {_ms(phase['p50_ms'])} | "
            f"{_ms(phase['p99_ms'])} | {cpu['gunicorn']} | {cpu['postgres']} | "
            f"{cpu['db_workers']} | {cpu['sandbox']} | {cpu['other']} | "
            f"{cpu['gunicorn'] / phase['rps'] * 1000 if phase['rps'] else 0:.1f} |"
        )
    syncs = scale["syncs"]
    lines += [
        "",
        f"Syncs during phase C: {syncs.get('runs')} runs ({', '.join(syncs.get('statuses', []))}), "
        f"{syncs.get('conversations', 0):,} conversations stored at "
        f"{syncs.get('per_second', 0):,}/s while the pages were under load; tasks per worker: "
        f"{syncs.get('tasks_per_worker')}.",
    ]
    if syncs.get("errors"):
        lines.append(f"Sync errors: {syncs['errors']}")
    memory = scale["memory_kb"]
    rss = [m.get("VmRSS", 0) // 1024 for m in memory["gunicorn_workers"]]
    workers = [m.get("VmRSS", 0) // 1024 for m in memory["db_workers"]]
    lines.append(f"Resident memory afterwards: gunicorn workers {rss} MB, db_workers {workers} MB.")
    return lines


def _limits(results: dict[str, Any]) -> list[str]:
    """Per endpoint: CPU per request in the app and in PostgreSQL, what saturated, and
    where the app's time goes (cProfile shares from bench/explain.py)."""
    profiles = results.get("profiles", {})
    lines = [
        "| endpoint | app CPU ms/req | PostgreSQL CPU ms/req | limited by | where the app's time "
        "goes (share of the request, overlapping) |",
        "|---|---:|---:|---|---|",
    ]
    for key, figures in results["load"].items():
        cpu, rps = figures["cpu_cores"], figures["rps"] or 1
        app_ms, db_ms = cpu["gunicorn"] / rps * 1000, cpu["postgres"] / rps * 1000
        if db_ms > app_ms:
            limit = "PostgreSQL"
        elif cpu["gunicorn"] >= 1.4:
            limit = "the app workers' CPU"
        elif cpu["gunicorn"] + cpu["postgres"] + cpu["wrk"] >= 1.7:
            limit = "the 2 cores, shared by the app workers and PostgreSQL"
        else:
            limit = "waiting: neither the app nor PostgreSQL used the cores"
        if cpu["other"] >= 0.3:
            limit += f" (and {cpu['other']} cores of other work on the machine)"
        profile = profiles.get(key, {})
        where = "; ".join(
            [f"{name} {share:.0%}" for name, share in profile.get("shares", {}).items()]
            + [f"`{name}` {share:.0%}" for name, share in profile.get("app_functions", [])]
        )
        lines.append(f"| {key} | {app_ms:.1f} | {db_ms:.1f} | {limit} | {where} |")
    return lines


def _sizes(sizes: dict[str, dict[str, int]]) -> list[str]:
    if not sizes:
        return []
    mb = 1024 * 1024
    lines = [
        "Size on disk after the build (`VACUUM ANALYZE`d):",
        "",
        "| table | total | rows (heap) | TOAST (JSON payloads) | indexes |",
        "|---|---:|---:|---:|---:|",
    ]
    for table, size in sizes.items():
        lines.append(
            f"| {table} | {size['total'] / mb:,.0f} MB | {size['heap'] / mb:,.0f} MB | "
            f"{size['toast'] / mb:,.0f} MB | {size['indexes'] / mb:,.0f} MB |"
        )
    return [*lines, ""]


def _backfill(backfill: dict[str, Any]) -> list[str]:
    """The backfill section: one page at a time against pages fetched ahead."""
    latency = backfill["latency_seconds"] * 1000
    rows = [
        f"| {run['concurrency']} | {run['pages']} | {run['conversations']:,} | {run['seconds']} |"
        for run in (backfill["one_at_a_time"], backfill["concurrent"])
    ]
    return [
        f"## Backfill at {latency:.0f} ms per API call",
        "",
        "`python -m bench.backfill_bench`: a full sync of "
        f"{backfill['conversations']:,} conversations from a sandbox that waits "
        f"{latency:.0f} ms before answering every call (its `latency_seconds` switch), into a "
        "fresh database, first one page at a time, then with pages fetched ahead "
        "concurrently (`ATTENTION_SYNC_CONCURRENCY`) and stored in order.",
        "",
        "| pages fetched at once | pages | stored | seconds |",
        "|---:|---:|---:|---:|",
        *rows,
        "",
        f"Concurrent / one at a time: **{backfill['ratio']}** (target: at most 0.33).",
        "",
    ]


def summary(results: dict[str, Any], *, with_targets: bool = True) -> list[str]:
    """The ratios to the floor and the verdicts, for the terminal."""
    lines = ["", "page ratios to the floor (logged-in reference page):"]
    for key, figures in results["load"].items():
        target = PAGE_TARGETS.get(key)
        verdict = ""
        if target is not None:
            verdict = "  met" if figures["floor_ratio"] >= target else "  MISSED"
        lines.append(
            f"  {key:18} {figures['floor_ratio']:6.3f}"
            + (f"  (target {target:g})" if target else "")
            + f"  p50 {figures['p50_ms']} ms  p99 {figures['p99_ms']} ms{verdict}"
        )
    if with_targets:
        lines += ["", *_targets(results)]
    return lines


def write(results: dict[str, Any], path: Path = DOC) -> Path:
    machine, build = results["machine"], results["build"]
    load_settings = results["load_settings"]
    counts = build["counts"]
    memory = results.get("worker_memory_kb", {})
    pg = machine["postgres_settings"]
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `make bench` ({machine['date']}); every figure below is from that run. "
        "Run it again to refresh this file (it is overwritten).",
        "",
        "## Machine, versions, command",
        "",
        "| | |",
        "|---|---|",
        f"| machine | {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB "
        f"(Linux {machine['kernel']}) |",
        f"| software | Python {machine['python']}, Django {machine['django']}, gunicorn "
        f"{machine['gunicorn']}, psycopg {machine['psycopg']}, PostgreSQL {machine['postgres']} "
        f"(stock settings: {', '.join(f'{k}={v}' for k, v in pg.items())}), {machine['wrk']} |",
        f"| code | commit `{machine['commit']}`"
        + (
            f" with {machine['uncommitted_files']} uncommitted files in the working tree"
            if machine["uncommitted_files"]
            else ""
        )
        + " |",
        f"| load average before the run | {' '.join(machine['loadavg_before'])} |",
        "| command | `make bench` (DATABASE_URL defaults to "
        "`postgres://postgres@127.0.0.1:5432/attention_bench`; the database is dropped and "
        "rebuilt) |",
        "| app settings | production: `DEBUG=0`, a random `SECRET_KEY`, "
        "`ALLOWED_HOSTS=127.0.0.1,localhost`; plain HTTP on loopback, so `SECURE_SSL_REDIRECT=0`, "
        "`SESSION_COOKIE_SECURE=0`, `CSRF_COOKIE_SECURE=0`; `DATABASE_CONN_MAX_AGE=60`; "
        + (
            f"`CACHE_URL={machine['cache']}` (shared Redis cache: sessions `cached_db`) |"
            if machine.get("cache")
            else "no `CACHE_URL` (per-process memory cache, sessions in the database) |"
        ),
        "| server | `gunicorn attention_review.wsgi:application --workers 2 --worker-class sync` "
        "on 127.0.0.1 |",
        f"| load | wrk, 1 thread, {load_settings['connections']} connections, "
        f"{load_settings['seconds']} s per endpoint after a {load_settings['warmup']} s warm-up, "
        f"runs of the floor of {load_settings['baseline_seconds']} s between endpoints; "
        "real session cookies (made with Django's SessionStore) and the CSRF token on the POST; "
        "every response's status counted (a redirect or 403 would show as non-200) |",
        f"| whole run | {results.get('total_seconds', '?')} s |",
        "",
        "wrk, gunicorn, PostgreSQL and the sandbox share the same 2 cores, and other work on "
        "the machine shows in the *everything else* column below: absolute figures are those "
        "of a small, busy machine. Ratios to the floor are measured in the same minutes "
        "and are the figures to compare across runs. CPU is read per process from `/proc`: "
        "PostgreSQL processes that start and end inside a measurement (parallel query "
        "workers, the connection of a task that reconnects) are missed by the *postgres* "
        "column and land in *everything else*.",
        "",
        "## Data",
        "",
        f"Built in {build['seconds']} s (COPY {build['copy_seconds']} s, migrations "
        f"{results.get('migrate_seconds', '?')} s before it) by `bench/build_db.py`: "
        f"{counts['conversations']:,} conversations (the sandbox's own payloads, dates spread "
        f"over the last year), {counts['awaiting_review']:,} of them awaiting review, "
        f"{counts['intelligence_items']:,} intelligence items, "
        f"{counts['confirmation_attempts']:,} confirmation attempts with "
        f"{counts['confirmed_items']:,} confirmed items ({counts['edited_confirmed_items']:,} "
        "edited). `rep` owns 35% of the calls, `rep2` 30%, two reps without accounts the rest; "
        "`manager` manages rep's team; `admin` is a superuser. "
        f"The CSV export uses `{build['csv_query']}`: {build['csv_rows']:,} rows.",
        "",
        *_sizes(build.get("sizes", {})),
        "## Results",
        "",
        "The *floor* is a logged-in `GET /accounts/login/`, which loads the session and the "
        "user and redirects: what any authenticated page pays before its own work. Every "
        "endpoint is measured between two shorter runs of the floor, and its ratio is to the "
        "mean of those two (other work on a shared machine drifts; the floor's runs average "
        f"{_baseline(results):,.0f} req/s here). *queries* is what a fresh render of the page "
        "asks at this size (next section; a view served by the fragment cache asks fewer); "
        "*app CPU ms/req* is the gunicorn workers' CPU time divided by the requests served.",
        "",
        *_results_table(results),
        "",
        *_cold_table(results),
        "CPU used during each measurement, in cores (of 2):",
        "",
        *_cpu_table(results),
        "",
        "## Targets",
        "",
        *_targets(results),
        "",
        "## What limits each figure",
        "",
        "CPU per request from the load runs above; the shares come from cProfile over "
        "repeated in-process requests of each page (`bench/explain.py`) rendered afresh (the "
        "fragment cache off: what a miss costs, the same in-process figures as the "
        "*Queries per page* section), so they add up to more than 100% where one part runs "
        "inside another (`fragment` wraps the whole render).",
        "",
        *_limits(results),
        "",
        *TRIED,
    ]
    if memory:
        lines += [
            "Gunicorn workers after the load: "
            + ", ".join(
                f"{values.get('VmRSS', 0) / 1024:.0f} MB resident "
                f"(peak {values.get('VmHWM', 0) / 1024:.0f} MB)"
                for values in memory.values()
            )
            + ".",
            "",
        ]
    lines += [
        "## Queries per page at full size",
        "",
        "Each page requested in-process as its user (Django's test client, same database, "
        "the fragment cache off so every page is rendered), once to warm up, then counted; "
        "every SELECT is run again under `EXPLAIN (ANALYZE, BUFFERS)`. Sequential scans of "
        "the four big tables are in bold.",
        "",
        *_pages_table(results["pages"]),
        "",
        "## Index use: EXPLAIN ANALYZE of the queue and the audit filters",
        "",
        "Each page is requested as its user, and every query its selectors sent to the big "
        "tables (`review_queue(user)`: the page and its count; `audit_ledger_page` and "
        "`audit_summary` with the filters of the query string) is run again under "
        "`EXPLAIN (ANALYZE, BUFFERS)`. The indexes named in the plans are the migrations' "
        "(`conversation_queue_by_owner`, `conversation_queue_all`, `attempt_outcome_recent`, "
        "...).",
        *_plans(results["plans"]),
    ]
    if results.get("sync"):
        lines += [
            "## Sync from the sandbox",
            "",
            "`conversation_sync(full=True)` in a child process, from `python -m "
            "attention_review.sandbox --conversations N` (its own process) over HTTP, into a "
            "fresh, migrated database; pages of 50. Peak RSS is the child's `ru_maxrss`.",
            "",
            *_sync(results["sync"]),
            "",
        ]
    if results.get("backfill"):
        lines += _backfill(results["backfill"])
    if results.get("scale_out"):
        lines += [
            "## Scale-out run (two app processes, two task workers, one database)",
            "",
            *_scale_out(results["scale_out"]),
            "",
            "See `docs/operations.md` for what these figures mean for more users.",
            "",
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines).rstrip() + "\n")
    return path


# What was done about the targets, kept with the generator so every regenerated report
# says it. Each figure was measured before and after the change named: with
# `make bench-quick` (10,000 conversations), or at full size on the database `make bench`
# left behind with `BENCH_ONLY=<keys> python -m bench.run --pages-only`.
TRIED = [
    "## Levers tried, and their measured effect",
    "",
    "Each change was measured before and after, as ratios to the floor: with `make "
    "bench-quick` (10,000 conversations) or, marked *full size*, on the database `make "
    "bench` leaves behind (`BENCH_ONLY=review python -m bench.run --pages-only` measures "
    "only the pages named, against the same floor). The table *The fragment cache, "
    "measured* above compares the cached pages with and without the cache in this run.",
    "",
    "- **Where the time went.** Before this work (commit 469c787) a page was 6 to 45 times "
    "the floor: queue 0.16 (rep), 0.11 (manager), 0.12 (searched and filtered); review "
    "page 0.06; item save 0.09; audit 0.03; accuracy 0.02; My confirmations 0.10. cProfile "
    "(`bench/explain.py`) put template rendering at half of every read page and the "
    "content's queries at a quarter; the session and user load, which the floor also pays, "
    "was the rest.",
    "- **Kept: the read pages cached per reader (`reviews/fragment_cache.py`).** The queue, "
    "the review page, the audit, the accuracy page and My confirmations keep their "
    "rendered HTML (the whole page, and the part htmx swaps) in the shared Redis cache "
    "under the reader, the full URL, htmx or not, the time zone, the minute and a *data "
    "version*. The version is bumped after every unsafe request (middleware), every sync "
    "page, every export check, every save of a sync's progress and every change of roles "
    "or teams, so a view never shows data older than the last write (anything written "
    "outside the app shows within the minute). The review page also varies with who "
    "holds its lock. Every CSRF token on a cached page is stored as a placeholder and each "
    "view writes its own browser's token in; a view with a one-time message is rendered "
    "afresh. The test suite runs with the cache on, so each of its page-after-a-change "
    "tests also checks that nothing is stale. Steps, each measured: the queue's list "
    "alone cached, 0.16/0.11/0.12 -> 0.49/0.41/0.41 (quick); the version and the entry "
    "read in one `get_many`, the failed exports and the last sync inside the cached part, "
    "-> 0.54/0.51/0.51 (quick); the audit, accuracy and My confirmations cached the same "
    "way, 0.03/0.02/0.10 -> 0.52/0.55/0.57 (quick); the review page's body, 0.06 -> 0.22 "
    "(quick); then the whole page instead of its content (no template rendered on a "
    "repeat view): queue 0.50/0.44 -> 0.71/0.70, review 0.29 -> 0.39, My confirmations "
    "0.50 -> 0.77 (full size).",
    "- **Kept: a cached review page reads only what its key needs.** Its scope, the lock "
    "and the holder's name, the first-open mark: a narrow row instead of the conversation "
    "with its payload, owner and team (read when the page is rendered); and the reader's "
    "own lock with more than two thirds of its time left is not written again on every "
    "open. Review page 0.22 -> 0.24 (quick, the lock) and 0.39 -> 0.43 (full size, the "
    "narrow row).",
    "- **Not measured: the Jinja2 backend or precomputed display values.** Both shorten "
    "a render; with the pages cached a repeat view renders nothing, so they would only "
    "change the miss figures of the table above (a miss is the first view after any "
    "write), and they would add a second template language. Left for when those figures "
    "matter more than they do now.",
    "- **Review page.** A cached view still loads the session, the user and the role, "
    "reads the narrow row and the entry from Redis, and writes the CSRF token in: about "
    "the floor again plus a query.",
    "- **Item save (missed, 0.5).** A save is a write and cannot be served from a cache: "
    "it checks the lock and the confirm in flight, writes the decision in a transaction "
    "and answers with the card, the progress and the confirm panel, which read the items, "
    "the field settings, the email domains, the field's history and the latest attempt "
    "(12 statements, profile above). Reading the evidence and the history of the saved "
    "card only (not of every card) took it from 0.07 to 0.10 in a pages-only run at full "
    "size (0.08 in this run's figures). The history "
    "query alone is about 5 ms in PostgreSQL here because the benchmark's opportunities "
    "have about 400 confirmations each. Half the floor would leave the save about 1 ms "
    "of its own on these two cores; not reachable without giving up the card's answer.",
    "- **CSV export.** Each row used to be its own write to the socket, and each cell made "
    "safe one at a time: 20,490 rows/s (quick). Rows now go out in batches of 500, an "
    "attempt's cells are made once for all its items, repeated texts are made safe once "
    "(a bounded cache, so memory stays flat), the server-side cursor fetches 5,000 rows at "
    "a time, and the two values are read as their JSON text, a plain string taken between "
    "its quotes without a parser: 31,000 -> 63,000 rows/s for 100,000 rows (full size; "
    "same bytes).",
    "- **The rep menu of the audit and accuracy pages.** One EXISTS over the OR of the "
    "manager's scope scanned the conversations once per person (200 ms at 100,000 calls); "
    "one EXISTS per part of the scope, each an index lookup (`conversation_owner_team`), "
    "takes 79 ms, and the menu is now cached like the field menu.",
    "- **Sync (missed, 0.5 of COPY).** The sync parses each page from the sandbox with "
    "pydantic, maps it, and writes it as one JSON document per table that PostgreSQL "
    "unpacks into an upsert; a raw binary COPY of the same rows skips the HTTP, the "
    "parsing, the mapping and the upsert. In a profile of 2,850 conversations, PostgreSQL "
    "executing the upserts is 4.5 s of 10.3 s, pydantic parsing 2.7 s (in the fetching "
    "threads), reading the stored items to compare 1.3 s. Not done: skip unchanged rows "
    "by a payload hash (a re-sync would then write almost nothing); drop the per-item copy "
    "of the raw payload (most of the items table, and of both the sync's and COPY's "
    "work).",
    "- **Every query index-served (missed where named in the targets).** Three plans "
    "remain sequential scans by the planner's choice: the manager queue's capped count "
    "(an OR of the team and the assignee; it stops after 1,001 rows), the accuracy "
    "aggregates' hash join on the conversations (12 weeks of confirmations), and the "
    "100,000-row CSV (half the attempts). The accuracy period now has its own index "
    "(`attempt_succeeded_finished`).",
    "",
]


if __name__ == "__main__":
    path = write(read_json(Path(sys.argv[1]) if sys.argv[1:] else RESULTS_FILE))
    print(f"wrote {path}")
