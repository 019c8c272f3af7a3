"""The scale-out run: two app processes and two task workers sharing one PostgreSQL.

Three 20-second phases under a mixed load of reps and a manager (queue, review, htmx
saves, audit), each measured with the same mix:
  A. one app process (gunicorn, 2 workers): the single-server reference;
  B. two app processes on two ports, each driven by its own wrk;
  C. as B, while two `manage.py db_worker` processes run periodic syncs back to back
     from a sandbox (an overlap window of about 1,700 conversations each), queued
     through `sync_enqueue` exactly as `schedule_sync` queues them.
The app processes share nothing but the database (sessions, CSRF, the task queue).

Also usable alone after `make bench` has built the database:
    python -m bench.scale_out   (with the bench environment; see bench/run.py)
"""

import json
import re
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

from . import load, run_support
from .common import API_KEY, CONTEXT_FILE, ROOT, SEED, WORK, read_json, update_results
from .procstat import CpuWindow, children, pids_named, rss_kb

PYTHON = sys.executable
PHASE_SECONDS = 20
CONNECTIONS_PER_SERVER = 4


def _overlap_minutes() -> int:
    """A sync window holding the sandbox's last day and a half of calls (about 1,700 of
    100,000): its data end at a fixed date, so the window grows with the calendar."""
    from datetime import UTC, datetime

    from attention_review.sandbox.demo_data import ANCHOR

    return int((datetime.now(UTC) - ANCHOR).total_seconds() // 60) + 36 * 60


def mixed_requests(context: dict[str, Any]) -> list[dict[str, Any]]:
    """A working day's mix, by weight: reps open the queue, a review, and save items;
    a manager looks at the queue and the audit page."""
    endpoints = {endpoint.key: endpoint for endpoint in load.endpoints(context)}
    weights = {"queue_rep": 2, "review": 3, "item_save": 4, "queue_manager": 1, "audit": 1}
    mix: list[dict[str, Any]] = []
    for key, weight in weights.items():
        requests = load.requests_for(endpoints[key], context)
        for round_ in range(weight * 10):
            mix.append(requests[round_ % len(requests)])
    # Interleave so every window of the cycle has the same mix.
    return [mix[index] for index in sorted(range(len(mix)), key=lambda i: (i * 7919) % len(mix))]


def _wrk_all(wrk: str, ports: list[int], mix: list[dict[str, Any]], groups: Any) -> dict:
    window = CpuWindow(groups)
    started = time.monotonic()
    processes = [
        load.start_wrk(
            wrk,
            f"http://127.0.0.1:{port}",
            "mix",
            mix,
            seconds=PHASE_SECONDS,
            connections=CONNECTIONS_PER_SERVER,
        )
        for port in ports
    ]
    figures = [load.finish_wrk(p, "mix", CONNECTIONS_PER_SERVER) for p in processes]
    cpu = window.stop(time.monotonic() - started)
    return {
        "servers": len(ports),
        "rps": round(sum(f["rps"] for f in figures), 1),
        "per_server": figures,
        "p50_ms": max(f["p50_ms"] for f in figures),
        "p99_ms": max(f["p99_ms"] for f in figures),
        "non_200": [f["non_200"] for f in figures if f["non_200"]],
        "cpu_cores": cpu,
    }


def run(env: dict[str, str], wrk: str) -> None:
    context = read_json(CONTEXT_FILE)
    count = context["counts"]["conversations"]
    sandbox = run_support.start(
        [
            PYTHON,
            "-m",
            "attention_review.sandbox",
            "--port",
            str(sandbox_port := run_support.free_port()),
            "--conversations",
            str(count),
            "--seed",
            str(SEED),
            "--api-key",
            API_KEY,
        ],
        env,
        WORK / "sandbox.log",
    )
    run_support.wait_until_up(f"http://127.0.0.1:{sandbox_port}/v2/conversations/list", sandbox)
    env = {
        **env,
        "ATTENTION_API_BASE_URL": f"http://127.0.0.1:{sandbox_port}/v2",
        "ATTENTION_SYNC_OVERLAP_MINUTES": str(_overlap_minutes()),
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    }
    subprocess.run(  # noqa: S603
        [PYTHON, "-m", "bench.scale_out", "--prepare"], cwd=ROOT, env=env, check=True
    )
    ports = [run_support.free_port(), run_support.free_port()]
    servers = [
        run_support.start_gunicorn(env, port=port, workers=2, name=f"gunicorn-{n}")
        for n, port in enumerate(ports, start=1)
    ]
    workers = [
        run_support.start(
            [
                PYTHON,
                "manage.py",
                "db_worker",
                "--worker-id",
                f"bench-worker-{n}",
                "--interval",
                "0.5",
                "--no-reload",
                "--no-startup-delay",
            ],
            env,
            WORK / f"db_worker-{n}.log",
        )
        for n in (1, 2)
    ]

    groups = {
        "gunicorn": lambda: [pid for s in servers for pid in (s.pid, *children(s.pid))],
        "db_workers": lambda: [worker.pid for worker in workers],
        "sandbox": lambda: [sandbox.pid],
        "postgres": lambda: pids_named("postgres"),
    }

    mix = mixed_requests(context)
    load.run_wrk(wrk, f"http://127.0.0.1:{ports[0]}", "warm", mix, seconds=3, connections=2)
    load.run_wrk(wrk, f"http://127.0.0.1:{ports[1]}", "warm", mix, seconds=3, connections=2)
    phases = {"one_server": _wrk_all(wrk, ports[:1], mix, groups)}
    phases["two_servers"] = _wrk_all(wrk, ports, mix, groups)
    enqueuer = subprocess.Popen(  # noqa: S603
        [PYTHON, "-m", "bench.scale_out", "--enqueue", str(PHASE_SECONDS)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    phases["two_servers_two_workers"] = _wrk_all(wrk, ports, mix, groups)
    output, _ = enqueuer.communicate(timeout=300)
    found = re.search(r"SYNCS_JSON (.*)", output)
    syncs = json.loads(found.group(1)) if found else {"error": output[-1000:]}
    memory = {
        "gunicorn_workers": [rss_kb(pid) for s in servers for pid in children(s.pid)],
        "db_workers": [rss_kb(worker.pid) for worker in workers],
    }
    for process in [*workers, *servers, sandbox]:
        run_support.stop(process)
    update_results(
        scale_out={
            "phases": phases,
            "syncs": syncs,
            "memory_kb": memory,
            "mix": "queue (rep) 2 : review 3 : htmx item save 4 : queue (manager) 1 : audit 1",
            "seconds": PHASE_SECONDS,
            "connections_per_server": CONNECTIONS_PER_SERVER,
        }
    )
    for name, phase in phases.items():
        print(
            f"  {name:24} {phase['rps']:7.1f} req/s  p50 {phase['p50_ms']} ms  "
            f"p99 {phase['p99_ms']} ms  cores {phase['cpu_cores']}"
        )
    print(f"  syncs during phase C: {syncs}")


def prepare() -> None:
    """A successful sync just now, so the workers' syncs read the overlap window only,
    as the periodic sync of a running installation does."""
    from django.utils import timezone

    from attention_review.reviews.models import SyncRun

    SyncRun.objects.create(status=SyncRun.Status.SUCCEEDED, finished_at=timezone.now())


def enqueue(seconds: float) -> None:
    """Keep a sync queued or running for `seconds` (one at a time, as `schedule_sync`
    allows), then wait for the last and summarise what the workers did."""
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from attention_review.reviews.models import SyncRun
    from attention_review.reviews.services.background import sync_enqueue

    since = timezone.now()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sync_enqueue()
        time.sleep(0.25)
    settle = time.monotonic() + 120
    while time.monotonic() < settle:
        if not SyncRun.objects.filter(
            started_at__gte=since, status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING]
        ).exists():
            break
        time.sleep(0.5)
    runs = list(SyncRun.objects.filter(started_at__gte=since).order_by("started_at"))
    finished = [(run, run.finished_at) for run in runs if run.finished_at]
    busy = sum((finished_at - run.started_at for run, finished_at in finished), timedelta())
    stored = sum(run.created + run.updated for run, _ in finished)
    per_worker: dict[str, int] = {}
    for worker_ids in DBTaskResult.objects.filter(enqueued_at__gte=since).values_list(
        "worker_ids", flat=True
    ):
        for worker_id in worker_ids:
            per_worker[worker_id] = per_worker.get(worker_id, 0) + 1
    summary = {
        "runs": len(runs),
        "statuses": sorted({run.status for run in runs}),
        "conversations": stored,
        "busy_seconds": round(busy.total_seconds(), 1),
        "per_second": round(stored / busy.total_seconds()) if busy else 0,
        "tasks_per_worker": per_worker,
        "errors": sorted({run.error[:200] for run in runs if run.error}),
    }
    print("SYNCS_JSON " + json.dumps(summary))


if __name__ == "__main__":
    from .common import setup_django

    if sys.argv[1:2] == ["--prepare"]:
        setup_django()
        prepare()
    elif sys.argv[1:2] == ["--enqueue"]:
        setup_django()
        enqueue(float(sys.argv[2]))
    else:
        run_support.install_signal_handlers()
        try:
            run(run_support.bench_env(), load.ensure_wrk())
        finally:
            run_support.stop_all()
