"""Sync throughput and memory: `conversation_sync(full=True)` from a sandbox serving N
conversations, over real HTTP, into a fresh PostgreSQL database.

The sandbox runs as its own process (`python -m attention_review.sandbox`), so its CPU is
measured apart from the sync's. The sync runs in a child process that reports its own
peak resident memory (`getrusage(RUSAGE_SELF).ru_maxrss`): run at two sizes, equal
peaks show the pages are streamed, not accumulated.

Usage: python -m bench.sync_bench 10000 100000   (DATABASE_URL names the base database;
the sync uses `<name>_sync`, created and dropped here)
"""

import json
import os
import re
import resource
import subprocess
import sys
import time
from typing import Any

from .common import API_KEY, ROOT, SEED, WORK, setup_django, update_results
from .procstat import TICKS, process_ticks
from .run_support import create_database, database_url_for, drop_database, migrate, stop

PYTHON = sys.executable


def child(base_url: str) -> None:
    """In the child: link the personas, then time one full sync."""
    setup_django()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from attention_review.attention.client import AttentionClient
    from attention_review.reviews.models import Conversation, IntelligenceItem
    from attention_review.reviews.services.sync import conversation_sync

    user_model = get_user_model()
    for username in ("rep", "rep2"):
        user_model.objects.create(username=username, email=f"{username}@attention-demo.test")
    client = AttentionClient(base_url=base_url, api_key=API_KEY, read_timeout=120)
    with connection.cursor() as cursor:  # this process's PostgreSQL backend, on this machine
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    backend_before = process_ticks(backend)
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    run = conversation_sync(client=client, full=True)
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    backend_seconds = (process_ticks(backend) - backend_before) / TICKS
    client.close()
    stored = Conversation.objects.count()
    copy_seconds = _raw_copy_seconds([Conversation, IntelligenceItem])
    print(
        "SYNC_JSON "
        + json.dumps(
            {
                "status": run.status,
                "pages": run.pages,
                "conversations": stored,
                "items": IntelligenceItem.objects.count(),
                "seconds": round(seconds, 1),
                "per_second": round(stored / seconds),
                "cpu_seconds": round(
                    after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1
                ),
                "peak_rss_mb": round(after.ru_maxrss / 1024, 1),
                "postgres_cpu_seconds": round(backend_seconds, 1),
                "copy_seconds": round(copy_seconds, 1),
                "copy_per_second": round(stored / copy_seconds),
            }
        )
    )


def _raw_copy_seconds(models: list[Any]) -> float:
    """The physical limit for the same rows: the tables the sync filled are copied out
    (binary COPY, to a file), emptied, and the time of a raw `COPY ... FROM` of every row
    back into them (indexes and constraints as the sync had them) is returned."""
    import tempfile

    from django.db import connection

    tables = [model._meta.db_table for model in models]
    with tempfile.TemporaryDirectory(dir=WORK) as folder, connection.cursor() as cursor:
        raw = cursor.connection  # psycopg 3: COPY streams through the cursor
        files = {}
        with raw.cursor() as copy_cursor:
            for table in tables:
                files[table] = os.path.join(folder, table)
                with (
                    open(files[table], "wb") as out,
                    copy_cursor.copy(f'COPY "{table}" TO STDOUT (FORMAT BINARY)') as copy,
                ):
                    for chunk in copy:
                        out.write(chunk)
            copy_cursor.execute(f"TRUNCATE {', '.join(f'"{t}"' for t in tables)} CASCADE")
            raw.commit()
            started = time.monotonic()
            for table in tables:  # parents first: the foreign keys are checked
                with (
                    open(files[table], "rb") as source,
                    copy_cursor.copy(f'COPY "{table}" FROM STDIN (FORMAT BINARY)') as copy,
                ):
                    while chunk := source.read(1 << 20):
                        copy.write(chunk)
            raw.commit()
            return time.monotonic() - started


def _start_sandbox(count: int, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    command = [
        PYTHON,
        "-m",
        "attention_review.sandbox",
        "--port",
        "0",
        "--conversations",
        str(count),
        "--seed",
        str(SEED),
        "--api-key",
        API_KEY,
    ]
    process = subprocess.Popen(  # noqa: S603
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    line = process.stdout.readline() if process.stdout else ""
    found = re.search(r"(http://\S+/v2)", line)
    if not found:
        stop(process)
        raise SystemExit(f"The sandbox did not start: {line!r}")
    return process, found.group(1)


def measure(count: int, base_env: dict[str, str]) -> dict[str, Any]:
    url = database_url_for(base_env["DATABASE_URL"], suffix="_sync")
    env = {**base_env, "DATABASE_URL": url}
    drop_database(url)
    create_database(url)
    migrate(env)
    sandbox, base_url = _start_sandbox(count, env)
    try:
        sandbox_before = process_ticks(sandbox.pid)
        started = time.monotonic()
        result = subprocess.run(  # noqa: S603
            [PYTHON, "-m", "bench.sync_bench", "--child", base_url],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.monotonic() - started
        sandbox_cpu = (process_ticks(sandbox.pid) - sandbox_before) / TICKS
    finally:
        stop(sandbox)
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("SYNC_JSON ")), None)
    if line is None:
        raise SystemExit(f"The sync failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    figures = json.loads(line.removeprefix("SYNC_JSON "))
    figures.update(
        served=count,
        sandbox_cpu_seconds=round(sandbox_cpu, 1),
        process_seconds=round(wall, 1),
    )
    drop_database(url)
    return figures


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        child(argv[1])
        return
    counts = [int(value) for value in argv] or [10_000, 100_000]
    env = dict(os.environ)
    runs = []
    for count in counts:
        figures = measure(count, env)
        runs.append(figures)
        print(
            f"  sync of {count:,}: {figures['conversations']:,} stored in {figures['seconds']} s "
            f"= {figures['per_second']:,}/s, peak RSS {figures['peak_rss_mb']} MB "
            f"(sync CPU {figures['cpu_seconds']} s, sandbox {figures['sandbox_cpu_seconds']} s, "
            f"postgres {figures['postgres_cpu_seconds']} s)"
        )
    update_results(sync=runs)


if __name__ == "__main__":
    main(sys.argv[1:])
