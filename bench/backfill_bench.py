"""Backfill at the speed the API allows: a full sync of N conversations from a sandbox
that takes 300 ms to answer every call, one page at a time against pages fetched ahead
concurrently (ATTENTION_SYNC_CONCURRENCY), each into a fresh PostgreSQL database.

The sandbox runs as its own process with `latency_seconds` set through its control API;
the sync runs in a child process, as in `bench.sync_bench`.

Usage: python -m bench.backfill_bench [CONVERSATIONS] [LATENCY_SECONDS]
(DATABASE_URL names the base database; `<name>_backfill` is created and dropped here)
"""

import json
import subprocess
import sys
import time
from typing import Any

import requests

from .common import API_KEY, ROOT, setup_django, update_results
from .run_support import (
    bench_env,
    create_database,
    database_url_for,
    drop_database,
    migrate,
    stop,
)
from .sync_bench import _start_sandbox

PYTHON = sys.executable


def child(base_url: str, concurrency: int) -> None:
    """In the child: one full sync at the given concurrency, timed."""
    setup_django()
    from attention_review.attention.client import AttentionClient
    from attention_review.reviews.models import Conversation
    from attention_review.reviews.services.sync import conversation_sync

    client = AttentionClient(base_url=base_url, api_key=API_KEY, read_timeout=120)
    started = time.monotonic()
    run = conversation_sync(client=client, full=True, concurrency=concurrency)
    seconds = time.monotonic() - started
    client.close()
    stored = Conversation.objects.count()
    print(
        "BACKFILL_JSON "
        + json.dumps(
            {
                "concurrency": concurrency,
                "status": run.status,
                "pages": run.pages,
                "conversations": stored,
                "seconds": round(seconds, 1),
            }
        )
    )


def measure(count: int, latency: float, concurrency: int, base_env: dict[str, str]) -> Any:
    url = database_url_for(base_env["DATABASE_URL"], suffix="_backfill")
    env = {**base_env, "DATABASE_URL": url}
    drop_database(url)
    create_database(url)
    migrate(env)
    sandbox, base_url = _start_sandbox(count, env)
    try:
        control = base_url.removesuffix("/v2") + "/_sandbox/settings"
        requests.post(control, json={"latency_seconds": latency}, timeout=10).raise_for_status()
        result = subprocess.run(  # noqa: S603
            [PYTHON, "-m", "bench.backfill_bench", "--child", base_url, str(concurrency)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        stop(sandbox)
        drop_database(url)
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("BACKFILL_JSON ")), None)
    if line is None:
        raise SystemExit(f"The backfill failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return json.loads(line.removeprefix("BACKFILL_JSON "))


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        child(argv[1], int(argv[2]))
        return
    count = int(argv[0]) if argv else 10_000
    latency = float(argv[1]) if len(argv) > 1 else 0.3
    env = bench_env()
    concurrent = int(env.get("ATTENTION_SYNC_CONCURRENCY", "4"))
    one_at_a_time = measure(count, latency, 1, env)
    ahead = measure(count, latency, concurrent, env)
    ratio = round(ahead["seconds"] / one_at_a_time["seconds"], 2)
    print(
        f"  backfill of {count:,} at {latency * 1000:.0f} ms a call: one page at a time "
        f"{one_at_a_time['seconds']} s, {concurrent} ahead {ahead['seconds']} s "
        f"(ratio {ratio}, target <= 0.33)"
    )
    update_results(
        backfill={
            "conversations": count,
            "latency_seconds": latency,
            "one_at_a_time": one_at_a_time,
            "concurrent": ahead,
            "ratio": ratio,
        }
    )


if __name__ == "__main__":
    main(sys.argv[1:])
