"""Processes and databases for the benchmark: create/drop/migrate, start gunicorn, stop
what was started (by pid, never by name)."""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

from .common import API_KEY, ROOT, WORK

PYTHON = sys.executable
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/attention_bench"

_started: list[subprocess.Popen] = []


def bench_env(*, new_key: bool = False) -> dict[str, str]:
    """Production settings, except plain HTTP on loopback (no TLS redirect, no secure
    cookies): DEBUG off, a SECRET_KEY of this run, explicit hosts.

    The key is random per `make bench` and kept in var/bench/ (the sessions built for the
    load are signed with it), so a step re-run alone finds the same one.
    """
    key_file = WORK / "secret_key"
    if new_key or not key_file.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    if "BENCH_CACHE_URL" in env:  # "" measures without a shared cache
        env["CACHE_URL"] = env["BENCH_CACHE_URL"]
    elif "CACHE_URL" not in env:
        # As production is advised to run: with the shared cache, when one is at hand.
        env["CACHE_URL"] = local_redis_url()
    env.setdefault("CACHE_KEY_PREFIX", "attention-bench")
    env.update(
        DJANGO_SETTINGS_MODULE="attention_review.settings",
        DEBUG="0",
        SECRET_KEY=key_file.read_text().strip(),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
        ATTENTION_DEMO="0",
        ATTENTION_API_KEY=API_KEY,
        LOG_LEVEL="WARNING",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def local_redis_url() -> str:
    """A Redis database on this machine's default port, when one answers PING."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as probe:
            probe.sendall(b"PING\r\n")
            if probe.recv(16).startswith(b"+PONG"):
                return "redis://127.0.0.1:6379/15"
    except OSError:
        pass
    return ""


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def database_url_for(url: str, *, suffix: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path + suffix))


def _guard(url: str) -> None:
    name = database_name(url)
    if "bench" not in name:
        raise SystemExit(
            f"Refusing to drop database {name!r}: the benchmark only drops and creates "
            "databases whose name contains 'bench' (set DATABASE_URL to one)."
        )


def _admin_connection(url: str) -> Any:
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname="postgres",
        autocommit=True,
    )


def ensure_postgres(url: str) -> None:
    """A local PostgreSQL that is installed but stopped is started (as .ci/run does)."""
    try:
        _admin_connection(url).close()
        return
    except Exception:  # noqa: S110 - any failure to connect: try starting it below
        pass
    clusters = Path("/etc/postgresql")
    if urlsplit(url).hostname not in ("127.0.0.1", "localhost") or not clusters.is_dir():
        raise SystemExit(f"PostgreSQL at {urlsplit(url).hostname} does not answer")
    for version in sorted(path.name for path in clusters.iterdir()):
        print(f"== starting the local PostgreSQL {version}")
        subprocess.run(  # noqa: S603
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],  # noqa: S607
            check=False,
        )
    for _ in range(30):
        try:
            _admin_connection(url).close()
            return
        except Exception:
            time.sleep(1)
    raise SystemExit("The local PostgreSQL did not start")


def drop_database(url: str) -> None:
    _guard(url)
    with _admin_connection(url) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database_name(url)}" WITH (FORCE)')


def create_database(url: str) -> None:
    _guard(url)
    with _admin_connection(url) as connection:
        connection.execute(f'CREATE DATABASE "{database_name(url)}"')


def server_version(url: str) -> str:
    with _admin_connection(url) as connection:
        return str(connection.execute("SHOW server_version").fetchone()[0])


def server_settings(url: str) -> dict[str, str]:
    names = ["shared_buffers", "work_mem", "effective_cache_size", "synchronous_commit"]
    with _admin_connection(url) as connection:
        return {name: str(connection.execute(f"SHOW {name}").fetchone()[0]) for name in names}


def migrate(env: dict[str, str]) -> None:
    subprocess.run(  # noqa: S603
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start a process we own; it is stopped by `stop_all` whatever happens."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    _started.append(process)
    return process


def stop(process: subprocess.Popen, timeout: float = 15) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process in _started:
        _started.remove(process)


def stop_all() -> None:
    for process in reversed(list(_started)):
        stop(process)


def install_signal_handlers() -> None:
    """SIGTERM and SIGHUP end the run like Ctrl-C does, so `finally` stops everything."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)


def start_gunicorn(env: dict[str, str], *, port: int, workers: int, name: str) -> subprocess.Popen:
    command = [
        PYTHON,
        "-m",
        "gunicorn",
        "attention_review.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--timeout",
        "120",
    ]
    process = start(command, env, WORK / f"{name}.log")
    wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
    return process


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            # Typed as any command form; every process here is started from a list.
            command = cast("list[str]", process.args)
            raise SystemExit(f"{command[:4]} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status < 500:
                    return
        except urllib.error.HTTPError as error:
            if error.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up in {seconds:.0f} s")
