"""Prometheus metrics, served at `/metrics` in the text format by prometheus_client.

- `attention_review_http_request_duration_seconds{view,method,status}`: a histogram of
  every request, by the resolved view's name (`reviews:queue`; `<unresolved>` for a 404
  or a redirect before routing), the method and the status class (`2xx`). Its `_count`
  is the number of requests.
- `attention_review_attention_api_calls_total{method,path,status}`,
  `..._errors_total{method,path}`, `..._retries_total{method,path}` and the histogram
  `attention_review_attention_api_call_duration_seconds{method,path}`: every HTTP call
  to Attention, reported by the API client through `record_attention_call`.
- `attention_review_sync_lag_seconds` and `attention_review_queue_depth`: read from the
  database when Prometheus scrapes (see `AppStateCollector`).

One process (the default) keeps its metrics in memory. Under gunicorn with several
workers set `PROMETHEUS_MULTIPROC_DIR` to an empty directory before the app starts:
every worker then writes its samples there and a scrape of any worker reads all of
them (prometheus_client's multiprocess mode; docs/operations.md).
"""

import hmac
import logging
import math
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.django import PrometheusDjangoView
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from attention_review.reviews.models import Conversation, SyncRun

logger = logging.getLogger(__name__)

# The rule prometheus_client itself follows (settings.py refuses an empty or missing
# folder).
MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR" in os.environ or "prometheus_multiproc_dir" in os.environ
# No `_created` series beside each counter and histogram: Prometheus does not need them
# in the text format, and they double the lines of a scrape.
disable_created_metrics()

# Requests to this app: most answer in tens of milliseconds, a confirm can wait minutes
# on Attention (docs/operations.md, gunicorn timeout).
HTTP_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180)
API_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNRESOLVED = "<unresolved>"

HTTP_REQUEST_SECONDS = Histogram(
    "attention_review_http_request_duration_seconds",
    "Time to answer a request, by view, method and status class.",
    ["view", "method", "status"],
    buckets=HTTP_BUCKETS,
)
ATTENTION_CALLS = Counter(
    "attention_review_attention_api_calls",
    "HTTP calls to the Attention API, by method, path template and status ('none' when "
    "no answer came).",
    ["method", "path", "status"],
)
ATTENTION_ERRORS = Counter(
    "attention_review_attention_api_errors",
    "Attention API calls that got no answer or a 4xx/5xx status.",
    ["method", "path"],
)
ATTENTION_RETRIES = Counter(
    "attention_review_attention_api_retries",
    "Attention API calls that were retries of an earlier call.",
    ["method", "path"],
)
ATTENTION_SECONDS = Histogram(
    "attention_review_attention_api_call_duration_seconds",
    "Time of one HTTP call to the Attention API, by method and path template.",
    ["method", "path"],
    buckets=API_BUCKETS,
)


def record_attention_call(
    method: str, path_template: str, status: int | None, seconds: float, retries: int
) -> None:
    """Count one HTTP call to Attention: call it once per request sent, retries
    included. `path_template` must be a template (`/conversations/{id}`), never a path
    with ids in it, so the series stay few; `status` is None when no answer came
    (timeout, refused or dropped connection); `retries` is how many tries of the same
    call came before this one (0 for the first)."""
    method = method.upper() if method.upper() in KNOWN_METHODS else "other"
    path = path_template[:100]
    answered = status is not None and 100 <= status <= 599
    ATTENTION_CALLS.labels(method, path, str(status) if answered else "none").inc()
    if not answered or (status is not None and status >= 400):
        ATTENTION_ERRORS.labels(method, path).inc()
    if retries > 0:
        ATTENTION_RETRIES.labels(method, path).inc()
    ATTENTION_SECONDS.labels(method, path).observe(max(0.0, seconds))


class MetricsMiddleware:
    """Times each request, from just inside the request id middleware to the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        view = (match.view_name or UNRESOLVED) if match else UNRESOLVED
        method = request.method if request.method in KNOWN_METHODS else "other"
        HTTP_REQUEST_SECONDS.labels(view, method, f"{response.status_code // 100}xx").observe(
            time.perf_counter() - started
        )
        return response


class AppStateCollector(Collector):
    """Figures read from the database at scrape time, by whichever process is scraped:

    - `attention_review_sync_lag_seconds`: seconds since the newest successful sync
      finished; +Inf when none has succeeded yet.
    - `attention_review_queue_depth`: conversations awaiting review, counted up to
      `METRICS_QUEUE_DEPTH_CAP` (a LIMITed subquery, so a scrape never counts a whole
      table); the value equals the cap when there are at least that many.

    When the database does not answer, both are left out of the scrape (and a warning
    logged) rather than failing it.
    """

    def describe(self) -> Iterable[Metric]:
        return [self._lag(), self._depth()]

    def collect(self) -> Iterable[Metric]:
        lag, depth = self._lag(), self._depth()
        try:
            last_success = (
                SyncRun.objects.filter(
                    kind=SyncRun.Kind.SYNC,
                    status=SyncRun.Status.SUCCEEDED,
                    finished_at__isnull=False,
                )
                .order_by("-pk")
                .values_list("finished_at", flat=True)
                .first()
            )
            cap = settings.METRICS_QUEUE_DEPTH_CAP
            awaiting = Conversation.objects.filter(awaiting_review=True).order_by()[:cap].count()
        except DatabaseError:
            logger.warning("Metrics: the database did not answer", exc_info=True)
            return []
        seconds = (timezone.now() - last_success).total_seconds() if last_success else math.inf
        lag.add_metric([], max(0.0, seconds))
        depth.add_metric([], awaiting)
        return [lag, depth]

    @staticmethod
    def _lag() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "attention_review_sync_lag_seconds",
            "Seconds since the last successful sync finished (+Inf before the first).",
        )

    @staticmethod
    def _depth() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "attention_review_queue_depth",
            "Conversations awaiting review, counted up to METRICS_QUEUE_DEPTH_CAP.",
        )


class _ThisProcess(Collector):
    """This process's metrics (the default registry), for a one-process server."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def scrape_registry() -> CollectorRegistry:
    """What one scrape reports: every worker's metrics in multiprocess mode, else this
    process's, and the figures read from the database."""
    registry = CollectorRegistry()
    if MULTIPROCESS:
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(AppStateCollector())
    return registry


def bearer_token_matches(authorization: str, token: str) -> bool:
    """Whether an `Authorization: Bearer <token>` header carries `token`, compared in
    constant time."""
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


class MetricsView(PrometheusDjangoView):
    """prometheus_client's Django view (content negotiation, gzip), behind a token:
    404 while `METRICS_TOKEN` is unset, 401 without the right bearer token."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        token = settings.METRICS_TOKEN
        if not token:
            raise Http404
        if not bearer_token_matches(request.headers.get("Authorization", ""), token):
            response = HttpResponse("unauthorized\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        self.registry = scrape_registry()
        return super().dispatch(request, *args, **kwargs)


metrics = login_not_required(never_cache(MetricsView.as_view()))
