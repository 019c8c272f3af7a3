"""`make bench`: the whole benchmark, end to end, on a fresh clone.

1. drop, create and migrate the bench database (DATABASE_URL; its name must contain
   "bench"), then build 100,000 conversations in it (`bench.build_db`);
2. count every page's queries and EXPLAIN ANALYZE them (`bench.explain`);
3. serve the app with gunicorn as in production (DEBUG off, 2 sync workers) and drive
   each endpoint with wrk from its own process (`bench.load`);
4. time the sync from a sandbox at two sizes (`bench.sync_bench`);
5. run two app processes and two task workers on the one database (`bench.scale_out`);
6. write docs/benchmarks.md (`bench.report`).
Everything it starts it stops, by pid, on success, error or Ctrl-C.

`--quick` (`make bench-quick`) is the same run at 10,000 conversations with 4 s per
endpoint, the sync at 2,000 and 10,000, no backfill and no scale-out, on its own database
(`attention_bench_quick`): the same ratios in a few minutes, printed and written to
var/bench/benchmarks-quick.md (docs/benchmarks.md is left alone).

Knobs (environment): BENCH_CONVERSATIONS (100000), BENCH_SECONDS per endpoint (12),
BENCH_CONNECTIONS (4), BENCH_SYNC_SIZES (10000,100000), BENCH_SCALE_OUT (1), BENCH_BACKFILL (1),
BENCH_COLD (1),
BENCH_CACHE_URL (default: CACHE_URL, else a Redis on 127.0.0.1:6379 if one answers, db 15;
set it empty to measure without a shared cache).
"""

import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import load, report, run_support
from .common import CONTEXT_FILE, RESULTS_FILE, ROOT, WORK, read_json, update_results
from .procstat import children, pids_named, rss_kb

PYTHON = sys.executable
WARMUP_SECONDS = 2
CSV_DOWNLOADS = 3


def _setting(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _step(title: str) -> float:
    print(f"== {title}", flush=True)
    return time.monotonic()


def machine_info(env: dict[str, str], wrk: str) -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    git = ["git", "-C", str(ROOT)]
    commit = subprocess.run(  # noqa: S603
        [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    changed = subprocess.run(  # noqa: S603
        [*git, "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split("\n")
    url = env["DATABASE_URL"]
    cache = urlsplit(env.get("CACHE_URL", ""))
    return {
        "cache": f"{cache.scheme}://{cache.hostname}:{cache.port}{cache.path}"
        if cache.scheme
        else "",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": metadata.version("django"),
        "gunicorn": metadata.version("gunicorn"),
        "psycopg": metadata.version("psycopg"),
        "postgres": run_support.server_version(url),
        "postgres_settings": run_support.server_settings(url),
        "wrk": load.wrk_version(wrk),
        "commit": commit,
        "uncommitted_files": len([line for line in changed if line.strip()]),
        "loadavg_before": Path("/proc/loadavg").read_text().split()[:3],
    }


def build(env: dict[str, str], conversations: int) -> None:
    url = env["DATABASE_URL"]
    started = _step(f"database {run_support.database_name(url)}: drop, create, migrate")
    run_support.drop_database(url)
    run_support.create_database(url)
    run_support.migrate(env)
    migrated = time.monotonic() - started
    _step(f"building {conversations:,} conversations with COPY")
    subprocess.run(  # noqa: S603
        [PYTHON, "-m", "bench.build_db", str(conversations)], cwd=ROOT, env=env, check=True
    )
    update_results(migrate_seconds=round(migrated, 1))


# The pages whose content the fragment cache keeps (reviews/fragment_cache.py).
CACHED_PAGES = (
    "queue_rep",
    "queue_manager",
    "queue_filtered",
    "review",
    "audit",
    "accuracy",
    "my_confirmations",
)


def load_phase(env: dict[str, str], wrk: str, *, cold: bool = False) -> None:
    """Each endpoint between two short runs of the floor (the logged-in reference page):
    on a shared machine the load from elsewhere drifts, so each ratio is taken against
    the floor measured around it.

    `cold`: the cached pages again, served with the fragment cache off, so every view
    costs what the first view after a change costs (results under `load_cold`)."""
    if cold:
        env = {**env, "FRAGMENT_CACHE": "0"}
    context = read_json(CONTEXT_FILE)
    seconds = _setting("BENCH_SECONDS", 12)
    floor_seconds = max(seconds // 2, 3)
    connections = _setting("BENCH_CONNECTIONS", 4)
    port = run_support.free_port()
    _step(f"gunicorn, 2 sync workers, on 127.0.0.1:{port}")
    gunicorn = run_support.start_gunicorn(env, port=port, workers=2, name="gunicorn")
    base_url = f"http://127.0.0.1:{port}"
    groups = {
        "gunicorn": lambda: [gunicorn.pid, *children(gunicorn.pid)],
        "postgres": lambda: pids_named("postgres"),
    }
    endpoints = load.endpoints(context)
    for endpoint in endpoints:
        load.check(base_url, endpoint, context)
    healthz, floor = endpoints[0], endpoints[1]
    only = [key for key in os.environ.get("BENCH_ONLY", "").split(",") if key]
    if cold:
        only = [key for key in only or CACHED_PAGES if key in CACHED_PAGES]
    others = [endpoint for endpoint in endpoints[2:] if not only or endpoint.key in only]

    def measure(endpoint: load.Endpoint, key: str, duration: float) -> dict[str, Any]:
        requests = load.requests_for(endpoint, context)
        load.run_wrk(
            wrk, base_url, key, requests, seconds=WARMUP_SECONDS, connections=2,
            status=endpoint.status,
        )  # fmt: skip
        figures = load.run_wrk(
            wrk,
            base_url,
            key,
            requests,
            seconds=duration,
            connections=connections,
            cpu_groups=groups,
            status=endpoint.status,
        )
        figures.update(label=endpoint.label, user=endpoint.user, target=endpoint.target)
        cpu = figures["cpu_cores"]
        print(
            f"  {key:18} {figures['rps']:8.1f} req/s  p50 {figures['p50_ms']:7.1f} ms  "
            f"p99 {figures['p99_ms']:7.1f} ms  unexpected {figures['non_200'] or 0}  "
            f"cores: gunicorn {cpu['gunicorn']} postgres {cpu['postgres']} "
            f"wrk {cpu['wrk']} other {cpu['other']}",
            flush=True,
        )
        return figures

    results: dict[str, Any] = {"healthz": measure(healthz, "healthz", floor_seconds)}
    floors = [measure(floor, "floor", seconds)]
    for endpoint in others:
        figures = measure(endpoint, endpoint.key, seconds)
        floors.append(measure(floor, "floor", floor_seconds))
        if endpoint.key == "csv":
            figures.update(csv_worker_peak_kb=_worker_peaks(gunicorn.pid))
        around = (floors[-2]["rps"] + floors[-1]["rps"]) / 2
        figures["floor_rps"] = round(around, 1)
        figures["floor_ratio"] = figures["ratio"] = round(figures["rps"] / around, 4)
        results[endpoint.key] = figures
        print(f"  {'':18} {figures['floor_ratio']:.3f} of the floor", flush=True)
    healthz_figures = results["healthz"]
    healthz_figures["floor_rps"] = floors[0]["rps"]
    healthz_figures["floor_ratio"] = healthz_figures["ratio"] = round(
        healthz_figures["rps"] / floors[0]["rps"], 4
    )
    if cold:
        run_support.stop(gunicorn)
        update_results(load_cold=results, baselines_cold=floors)
        return
    csv_stream = (
        _csv_stream(base_url, endpoints, context, gunicorn.pid)
        if not only or "csv" in only
        else None
    )
    memory = {str(pid): rss_kb(pid) for pid in children(gunicorn.pid)}
    run_support.stop(gunicorn)
    update_results(
        load=results,
        baselines=floors,
        csv_stream=csv_stream,
        load_settings={
            "seconds": seconds,
            "baseline_seconds": floor_seconds,
            "connections": connections,
            "warmup": WARMUP_SECONDS,
        },
        worker_memory_kb=memory,
    )


def _worker_peaks(master: int) -> list[int]:
    return [rss_kb(pid).get("VmHWM", 0) for pid in children(master)]


def _csv_stream(
    base_url: str, endpoints: list[load.Endpoint], context: dict[str, Any], master: int
) -> dict[str, Any]:
    """The CSV export downloaded alone, start to end, a few times: rows per second of one
    download, and the workers' peak resident memory before and after (flat when the
    export streams instead of building the file in memory)."""
    endpoint = next(e for e in endpoints if e.key == "csv")
    _step(f"CSV export streamed alone: {context['csv_rows']:,} rows")
    peak_before = max(_worker_peaks(master))
    timings = []
    for _ in range(CSV_DOWNLOADS):
        started = time.monotonic()
        size = load.download(base_url, endpoint, context)
        timings.append(time.monotonic() - started)
    seconds = sorted(timings)[len(timings) // 2]
    peak_after = max(_worker_peaks(master))
    figures = {
        "rows": context["csv_rows"],
        "bytes": size,
        "runs": len(timings),
        "seconds": round(seconds, 3),
        "rows_per_second": round(context["csv_rows"] / seconds),
        "peak_before_mb": round(peak_before / 1024, 1),
        "peak_after_mb": round(peak_after / 1024, 1),
        # Flat: the downloads (after the load already ran it) add at most 10 MB.
        "flat": peak_after - peak_before <= 10 * 1024,
    }
    print(
        f"  csv: {figures['rows_per_second']:,} rows/s ({seconds:.2f} s a download), worker "
        f"peak {figures['peak_before_mb']} -> {figures['peak_after_mb']} MB",
        flush=True,
    )
    return figures


QUICK_SETTINGS = {
    "BENCH_CONVERSATIONS": "10000",
    "BENCH_SECONDS": "4",
    "BENCH_SYNC_SIZES": "2000,10000",
    "BENCH_SCALE_OUT": "0",
    "BENCH_BACKFILL": "0",
}


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    if quick:
        for name, value in QUICK_SETTINGS.items():
            os.environ.setdefault(name, value)
        os.environ.setdefault("DATABASE_URL", run_support.DEFAULT_DATABASE_URL + "_quick")
    # `--pages-only`: the load step alone, on the database and sessions the last run
    # built (for checking a change to a page in a minute); BENCH_ONLY=key,key narrows it.
    pages_only = "--pages-only" in argv
    run_support.install_signal_handlers()
    env = run_support.bench_env(new_key=not pages_only)
    if pages_only:
        load_phase(env, load.ensure_wrk())
        results = read_json(RESULTS_FILE)
        print("\n".join(report.summary(results, with_targets=False)))
        return
    url = env["DATABASE_URL"]
    if "bench" not in run_support.database_name(url):
        raise SystemExit(f"DATABASE_URL must name a database with 'bench' in it, not {url!r}")
    WORK.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.unlink(missing_ok=True)
    started = time.monotonic()
    wrk = load.ensure_wrk()
    conversations = _setting("BENCH_CONVERSATIONS", 100_000)
    sync_sizes = os.environ.get("BENCH_SYNC_SIZES", "10000,100000").split(",")
    run_support.ensure_postgres(url)
    try:
        update_results(machine=machine_info(env, wrk), conversations=conversations)
        build(env, conversations)
        _step("queries per page and EXPLAIN ANALYZE")
        # A fresh render's queries and plans, and where its time goes: the cache off.
        explain_env = {**env, "FRAGMENT_CACHE": "0"}
        subprocess.run([PYTHON, "-m", "bench.explain"], cwd=ROOT, env=explain_env, check=True)  # noqa: S603
        load_phase(env, wrk)
        if _setting("BENCH_COLD", 1):
            _step("the cached pages again with the fragment cache off (every view a miss)")
            load_phase(env, wrk, cold=True)
        _step(f"sync from the sandbox at {' and '.join(sync_sizes)} conversations")
        subprocess.run(  # noqa: S603
            [PYTHON, "-m", "bench.sync_bench", *sync_sizes], cwd=ROOT, env=env, check=True
        )
        if _setting("BENCH_BACKFILL", 1):
            _step("backfill of 10,000 conversations at 300 ms a call, one page at a time and ahead")
            subprocess.run(  # noqa: S603
                [PYTHON, "-m", "bench.backfill_bench", "10000", "0.3"],
                cwd=ROOT,
                env=env,
                check=True,
            )
        if _setting("BENCH_SCALE_OUT", 1):
            from . import scale_out

            _step("scale-out: two app processes and two task workers on one database")
            scale_out.run(env, wrk)
    finally:
        run_support.stop_all()
    update_results(total_seconds=round(time.monotonic() - started), quick=quick)
    results = read_json(RESULTS_FILE)
    path = report.write(results, WORK / "benchmarks-quick.md" if quick else report.DOC)
    print("\n".join(report.summary(results)))
    print(f"== wrote {path.relative_to(ROOT)} in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except KeyboardInterrupt:
        run_support.stop_all()
        raise SystemExit(130) from None
