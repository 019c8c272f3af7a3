"""Rendered fragments of the busiest read pages, kept in the shared cache per reader.

Template rendering is most of what the queue costs (docs/benchmarks.md), and the same
reader asks for the same view again and again between two changes. A fragment's key
holds:

- the *data version*, one counter in the cache bumped by every write: every unsafe
  request (`DataVersionMiddleware`: saves, confirms, assignments, the admin), every
  page a sync stores, every background check that writes, a sync's progress, a change
  of roles or teams. The version is read before the data and bumped after the commit,
  so a fragment rendered from data older than a write is never found under a version
  read after it;
- the reader (what they may see, their time zone), the full query string and whether
  htmx asked for a part of the page;
- the minute: waiting times and deadlines move with the clock, so no fragment outlives
  the minute it was rendered in.

Only a shared cache (Redis, `CACHE_URL`) can carry the version from the process that
writes to the ones that read, so without one (`FRAGMENT_CACHE` defaults to whether a
shared cache is set) every fragment is rendered each time. No CSRF token is ever
cached: the token belongs to the browser, not to the reader, so it is stored as a
placeholder and each view writes its own request's token in.
"""

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

VERSION_KEY = "fragments:data-version"
# A fragment is valid for its minute at most; the cache may drop it sooner.
FRAGMENT_SECONDS = 90


def enabled() -> bool:
    return bool(getattr(settings, "FRAGMENT_CACHE", False))


def data_version() -> int:
    """The current data version; a fresh cache starts at a random one, so an entry left
    from before a flush can never match."""
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, secrets.randbits(48), timeout=None)
        version = cache.get(VERSION_KEY, 0)
    return int(version)


def data_changed() -> None:
    """Every cached fragment is out of date: bump the version now and again once the
    current transaction (if any) has committed. The second bump is the one that counts
    for readers: one that renders between the write and the commit still reads the old
    rows, and caches them under the first bump's version."""
    if enabled():
        _bump()
        if transaction.get_connection().in_atomic_block:
            transaction.on_commit(_bump, robust=True)


def _bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # gone from the cache: a new random start is as good
        cache.add(VERSION_KEY, secrets.randbits(48), timeout=None)


def fragment(
    request: HttpRequest,
    name: str,
    render: Callable[[], str],
    *,
    vary: Iterable[str] = (),
    use_cache: bool = True,
) -> SafeString:
    """`render()`'s HTML for this reader and this URL, from the cache when it is there.

    The entry is stored with the version it was rendered under, and the version and the
    entry are read in one round trip: a stored version other than the current one is a
    miss. The forms' CSRF token is stored as a placeholder and each view gets its own
    reader's token. `use_cache=False` renders and stores nothing (a page showing a
    one-time message)."""
    if not enabled() or not use_cache:
        return mark_safe(render())  # noqa: S308 - rendered by our templates
    parts = [
        name,
        str(request.user.pk),
        request.get_full_path(),
        "htmx" if request.headers.get("HX-Request") else "page",
        timezone.get_current_timezone_name(),
        timezone.now().strftime("%Y%m%d%H%M"),
        *vary,
    ]
    key = "fragment:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    found = cache.get_many([VERSION_KEY, key])
    version = found.get(VERSION_KEY)
    if version is None:
        version = data_version()
    entry = found.get(key)
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == version:
        return mark_safe(_with_token(request, entry[1]))  # noqa: S308 - our templates
    html = render()
    cache.set(key, (version, _without_token(html)), FRAGMENT_SECONDS)
    return mark_safe(html)  # noqa: S308 - rendered by our templates


# Where a CSRF token is written: `{% csrf_token %}`'s input and htmx's request header.
# Each rendering (the page, its body) masks the token afresh, so there may be several.
_CSRF_TOKENS = re.compile(
    r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]+)"|"x-csrftoken": "([A-Za-z0-9]+)"'
)
_CSRF_PLACEHOLDER = "csrf-token-of-the-reader"


def _without_token(html: str) -> str:
    tokens = {token for pair in _CSRF_TOKENS.findall(html) for token in pair if token}
    for token in tokens:
        html = html.replace(token, _CSRF_PLACEHOLDER)
    return html


def _with_token(request: HttpRequest, html: str) -> str:
    if _CSRF_PLACEHOLDER not in html:
        return html
    return html.replace(_CSRF_PLACEHOLDER, get_token(request))


class DataVersionMiddleware:
    """Bumps the data version after every request that may have written (any method
    but GET, HEAD, OPTIONS and TRACE), whatever the view, the admin included."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"):
            data_changed()
        return response
