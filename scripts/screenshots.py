"""Takes the README's screenshots of the review page from the demo data, so they stay
current: `make screenshots` (or `.venv/bin/python scripts/screenshots.py`).

It runs everything it needs on its own, in a temporary folder: the Attention sandbox,
a fresh SQLite database synced from it with the demo accounts, and the app (DEBUG off,
as `make run` serves it). Then headless Chromium (the system's, never a download) logs
in as the demo rep, opens the call with the most items awaiting review, and writes
docs/screenshots/review-1440.png and review-390.png. Nothing outside the repository is
read or written besides the temporary folder and the two ports it picks.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
OUTPUT = REPOSITORY / "docs" / "screenshots"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
DEMO_USER, DEMO_PASSWORD = "rep", "review-demo"
WIDTHS = {"review-1440.png": (1440, 1000), "review-390.png": (390, 844)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(port: int, *, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing answered on port {port} within {seconds:.0f} s")


@contextmanager
def running(command: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    # Our own interpreter and fixed arguments: nothing from outside reaches the command.
    process = subprocess.Popen(command, cwd=REPOSITORY, env=env, stdout=subprocess.DEVNULL)  # noqa: S603
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


def demo_environment(folder: Path, sandbox_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
        ATTENTION_DEMO="1",
        ATTENTION_API_BASE_URL=f"http://127.0.0.1:{sandbox_port}/v2",
        ATTENTION_API_KEY="sandbox-demo-key",
        DATABASE_URL=f"sqlite:///{folder / 'screenshots.sqlite3'}",
        TASKS_BACKEND="django.tasks.backends.immediate.ImmediateBackend",
        AXES_ENABLED="0",
        LOG_LEVEL="WARNING",
    )
    return env


def manage(env: dict[str, str], *arguments: str) -> None:
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *arguments],
        cwd=REPOSITORY,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def shoot(base_url: str, output: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        for name, (width, height) in WIDTHS.items():
            context = browser.new_context(
                base_url=base_url,
                viewport={"width": width, "height": height},
                device_scale_factor=1,
                timezone_id="America/New_York",
            )
            page = context.new_page()
            page.goto("/accounts/login/")
            page.fill("input[name=username]", DEMO_USER)
            page.fill("input[name=password]", DEMO_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base_url}/")
            # The call with the most items waiting: the richest page to look at.
            rows = page.locator("table tbody tr")
            best, most = None, -1
            for index in range(rows.count()):
                row = rows.nth(index)
                link = row.locator("a").first
                waiting = row.locator("td.num").last.inner_text().split()
                count = int(waiting[0]) if waiting and waiting[0].isdigit() else 0
                if count > most:
                    best, most = link.get_attribute("href"), count
            if best is None:
                raise SystemExit("the demo queue is empty: no review page to show")
            page.goto(best)
            page.wait_for_load_state("networkidle")
            target = output / name
            page.screenshot(path=str(target), full_page=False)
            written.append(target)
            context.close()
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    arguments = parser.parse_args()
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")
    arguments.output.mkdir(parents=True, exist_ok=True)
    sandbox_port, app_port = free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="attention-screenshots-") as folder:
        env = demo_environment(Path(folder), sandbox_port)
        sandbox = [sys.executable, "-m", "attention_review.sandbox"]
        sandbox += ["--port", str(sandbox_port), "--export-delay", "0"]
        with running(sandbox, env):
            wait_for(sandbox_port)
            manage(env, "migrate", "--noinput")
            manage(env, "create_demo_accounts")
            manage(env, "sync_conversations")
            app = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{app_port}"]
            with running([*app, "--noreload", "--insecure"], env):
                base_url = f"http://127.0.0.1:{app_port}"
                wait_for(app_port)
                for path in shoot(base_url, arguments.output):
                    print(f"wrote {path}")


if __name__ == "__main__":
    main()
