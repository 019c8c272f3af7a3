"""The load driver: wrk (Debian's) against the app on loopback, one endpoint at a time.

Each endpoint gets a generated Lua script: the session cookie of its user, the CSRF
header for the POST, paths rotated over many conversations, and a count of response
statuses, so a redirect to the login page or a 403 can never pass for a fast page.
Before the load each URL is fetched once and checked (status, and that it is the page
and not the login form).
"""

import json
import resource
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from .common import WORK
from .procstat import CpuWindow


@dataclass
class Endpoint:
    key: str
    label: str
    user: str
    paths: list[str]
    method: str = "GET"
    body: str | None = None
    htmx: bool = False
    expect: str = ""  # text the checked response must contain
    target: str = ""  # the brief's target, as text
    status: int = 200  # the status every response must have
    headers: dict[str, str] = field(default_factory=dict)


def ensure_wrk() -> str:
    """wrk from Debian, installed when missing (root on Debian, as on this machine)."""
    found = shutil.which("wrk")
    if found:
        return found
    print("== installing wrk (Debian package)")
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)  # noqa: S607
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)  # noqa: S607
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk could not be installed")
    return found


def wrk_version(wrk: str) -> str:
    result = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)  # noqa: S603
    return (result.stdout or result.stderr).split("\n")[0].split(" Copyright")[0].strip()


def endpoints(context: dict[str, Any]) -> list[Endpoint]:
    """What is measured, as whom. Paths rotate so no single row is all the work."""
    csv = f"/audit/export.csv?{context['csv_query']}"
    return [
        Endpoint(
            "baseline",
            "Baseline: GET /healthz (full middleware stack, logged-in session)",
            "rep",
            ["/healthz"],
            expect="ok",
        ),
        Endpoint(
            "session_baseline",
            "Reference: GET /accounts/login/ when logged in (session + user loaded, 302)",
            "rep",
            ["/accounts/login/"],
            status=302,
        ),
        Endpoint(
            "queue_rep",
            "Queue page `/` as a rep",
            "rep",
            ["/"],
            expect="awaiting review",
            target=">= 0.5 of the floor",
        ),
        Endpoint(
            "queue_manager",
            "Queue page `/` as a manager",
            "manager",
            ["/"],
            expect="awaiting review",
            target=">= 0.5 of the floor",
        ),
        Endpoint(
            "queue_filtered",
            f"Queue page searched and filtered as a rep (`/?{context['queue_query']}`)",
            "rep",
            [f"/?{context['queue_query']}"],
            expect="awaiting review",
            target=">= 0.5 of the floor",
        ),
        Endpoint(
            "review",
            f"Review page `/conversations/<pk>/` (rep, {len(context['review_paths'])} calls)",
            "rep",
            context["review_paths"],
            expect="Confirm",
            target=">= 0.4 of the floor",
        ),
        Endpoint(
            "item_save",
            f"htmx item save `POST .../items/<pk>/` (rep, {len(context['item_paths'])} items)",
            "rep",
            context["item_paths"],
            method="POST",
            body="value=Checked+on+the+call%3A+bench+edit",
            htmx=True,
            expect="Checked on the call",
            target=">= 0.5 of the floor",
        ),
        Endpoint(
            "audit",
            "Audit page `/audit/` as a manager (default: last 30 days)",
            "manager",
            ["/audit/"],
            expect="Audit",
            target=">= 0.25 of the floor",
        ),
        Endpoint(
            "accuracy",
            "Field accuracy `/accuracy/` as a manager (default: last 12 weeks)",
            "manager",
            ["/accuracy/"],
            expect="accuracy",
            target=">= 0.25 of the floor",
        ),
        Endpoint(
            "my_confirmations",
            "My confirmations `/confirmations/` as a rep",
            "rep",
            ["/confirmations/"],
            expect="confirm",
            target=">= 0.25 of the floor",
        ),
        Endpoint(
            "csv",
            f"CSV export, {context['csv_rows']:,} rows (`{csv}`)",
            "admin",
            [csv],
            expect="attempt_id",
        ),
    ]


def _headers(endpoint: Endpoint, context: dict[str, Any]) -> dict[str, str]:
    headers = {"Cookie": context["cookies"][endpoint.user], **endpoint.headers}
    if endpoint.method == "POST":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers[context["csrf_header"]] = context["csrf_token"]
    if endpoint.htmx:
        headers["HX-Request"] = "true"
    return headers


def check(base_url: str, endpoint: Endpoint, context: dict[str, Any]) -> dict[str, Any]:
    """Fetch the endpoint once as the load will; fail loudly unless it is the real page."""
    request = urllib.request.Request(  # noqa: S310 - a loopback URL built here
        base_url + endpoint.paths[0],
        data=endpoint.body.encode() if endpoint.body else None,
        method=endpoint.method,
        headers=_headers(endpoint, context),
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=120) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    text = body.decode(errors="replace")
    if status != endpoint.status or endpoint.expect not in text:
        raise SystemExit(
            f"{endpoint.key}: {endpoint.method} {endpoint.paths[0]} answered {status} "
            f"without {endpoint.expect!r}: {text[:300]!r}"
        )
    return {"status": status, "bytes": len(body)}


def download(base_url: str, endpoint: Endpoint, context: dict[str, Any]) -> int:
    """GET the endpoint's first path to the end (the body read and dropped); its size."""
    request = urllib.request.Request(  # noqa: S310 - a loopback URL built here
        base_url + endpoint.paths[0], headers=_headers(endpoint, context)
    )
    size = 0
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
        while chunk := response.read(1 << 16):
            size += len(chunk)
    return size


_LUA = """
local specs = {specs}
local threads = {{}}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  statuses = {{}}
  counter = 0
  prepared = {{}}
  for i, spec in ipairs(specs) do
    prepared[i] = wrk.format(spec.method, spec.path, spec.headers, spec.body)
  end
end
function request()
  counter = counter + 1
  return prepared[(counter % #prepared) + 1]
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local codes = {{}}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      codes[#codes + 1] = string.format('"%d": %d', status, count)
    end
  end
  io.write(string.format(
    'BENCH_JSON {{"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "mean_us": %.1f, "errors": {{"connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d, "status": %d}}, "codes": {{%s}}}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout,
    summary.errors.status, table.concat(codes, ", ")))
end
"""


def _lua(value: Any) -> str:
    """A Lua literal: strings (JSON's escapes are Lua's for ASCII), nil, tables."""
    if value is None:
        return "nil"
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "{" + ", ".join(_lua(v) for v in value) + "}"
    return json.dumps(str(value))


def requests_for(endpoint: Endpoint, context: dict[str, Any]) -> list[dict[str, Any]]:
    """The raw requests wrk cycles through for an endpoint."""
    headers = _headers(endpoint, context)
    return [
        {"method": endpoint.method, "path": path, "headers": headers, "body": endpoint.body}
        for path in endpoint.paths
    ]


def lua_script(requests: list[dict[str, Any]]) -> str:
    return _LUA.format(specs=_lua(requests))


def start_wrk(
    wrk: str,
    base_url: str,
    key: str,
    requests: list[dict[str, Any]],
    *,
    seconds: float,
    connections: int,
) -> subprocess.Popen:
    """Start one wrk run (one thread, `connections` connections) in the background."""
    script = WORK / f"wrk-{key}-{base_url.rsplit(':', 1)[-1]}.lua"
    script.write_text(lua_script(requests))
    command = [
        wrk,
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{seconds:g}s",
        "--timeout",
        "60s",
        "--script",
        str(script),
        base_url,
    ]
    return subprocess.Popen(  # noqa: S603
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish_wrk(
    process: subprocess.Popen, key: str, connections: int, status: int = 200
) -> dict[str, Any]:
    """Wait for a wrk run and return its figures (only `status` answers count as served)."""
    stdout, stderr = process.communicate()
    line = next((ln for ln in stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if process.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed for {key}: {stderr or stdout}")
    figures = json.loads(line.removeprefix("BENCH_JSON "))
    ok = figures["codes"].get(str(status), 0)
    bad = {code: count for code, count in figures["codes"].items() if code != str(status)}
    duration = figures["duration_us"] / 1e6
    return {
        "requests": figures["requests"],
        "ok": ok,
        "non_200": bad,
        "socket_errors": {k: v for k, v in figures["errors"].items() if k != "status" and v},
        "seconds": round(duration, 2),
        "rps": round(ok / duration, 1),
        "p50_ms": round(figures["p50_us"] / 1000, 1),
        "p90_ms": round(figures["p90_us"] / 1000, 1),
        "p99_ms": round(figures["p99_us"] / 1000, 1),
        "max_ms": round(figures["max_us"] / 1000, 1),
        "connections": connections,
    }


def run_wrk(
    wrk: str,
    base_url: str,
    key: str,
    requests: list[dict[str, Any]],
    *,
    seconds: float,
    connections: int,
    cpu_groups: dict[str, Any] | None = None,
    status: int = 200,
) -> dict[str, Any]:
    """One wrk run; its figures, and the cores each process group used meanwhile."""
    window = CpuWindow(cpu_groups or {})
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    process = start_wrk(wrk, base_url, key, requests, seconds=seconds, connections=connections)
    figures = finish_wrk(process, key, connections, status)
    elapsed = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cores = window.stop(elapsed)
    wrk_seconds = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    cores["wrk"] = round(wrk_seconds / elapsed, 2)
    cores["other"] = round(max(cores["other"] - cores["wrk"], 0.0), 2)
    figures["cpu_cores"] = cores
    return figures
