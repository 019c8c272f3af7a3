"""/metrics: hidden without a token setting, refused without the token, and in the
Prometheus text format with the request, Attention API, sync and queue metrics."""

import math
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from attention_review.operations.metrics import record_attention_call
from attention_review.reviews.models import SyncRun
from tests.factories import make_conversation

from .helpers import parse_samples, run_django, sample

TOKEN = "scrape-token-5b1e0c"
REQUESTS = "attention_review_http_request_duration_seconds_count"


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client: Client):
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse_samples(response.content.decode())


def test_without_a_token_setting_there_is_no_metrics_page(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", "Bearer ", f"Basic {TOKEN}", TOKEN],
    ids=["none", "longer", "shorter", "empty", "basic", "bare"],
)
def test_a_missing_or_wrong_token_is_refused(client, token, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"attention_review" not in response.content


@pytest.mark.django_db
def test_the_right_token_gets_every_metric_and_requests_are_counted(client, token):
    client.get("/healthz")
    before = scrape(client)
    names = {name for name, _labels in before}
    for metric in (
        "attention_review_http_request_duration_seconds_bucket",
        REQUESTS,
        "attention_review_sync_lag_seconds",
        "attention_review_queue_depth",
    ):
        assert metric in names, metric
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no-such-page/")
    after = scrape(client)
    healthz = {"view": "reviews:healthz", "method": "GET", "status": "2xx"}
    assert sample(after, REQUESTS, **healthz) == sample(before, REQUESTS, **healthz) + 2
    unresolved = {"view": "<unresolved>", "method": "GET", "status": "4xx"}
    assert sample(after, REQUESTS, **unresolved) == sample(before, REQUESTS, **unresolved) + 1
    scrapes = {"view": "metrics", "method": "GET", "status": "2xx"}
    assert sample(after, REQUESTS, **scrapes) == sample(before, REQUESTS, **scrapes) + 1


@pytest.mark.django_db
def test_sync_lag_is_read_from_the_last_successful_sync(client, token):
    assert sample(scrape(client), "attention_review_sync_lag_seconds") == math.inf
    SyncRun.objects.create(
        status=SyncRun.Status.SUCCEEDED, finished_at=timezone.now() - timedelta(hours=1)
    )
    SyncRun.objects.create(status=SyncRun.Status.FAILED, finished_at=timezone.now())
    lag = sample(scrape(client), "attention_review_sync_lag_seconds")
    assert 3600 <= lag < 3660


@pytest.mark.django_db
def test_queue_depth_counts_what_awaits_review_up_to_the_cap(client, token, settings):
    for _ in range(3):
        make_conversation(awaiting=True)
    make_conversation(awaiting=False)
    assert sample(scrape(client), "attention_review_queue_depth") == 3
    settings.METRICS_QUEUE_DEPTH_CAP = 2
    with CaptureQueriesContext(connection) as queries:
        assert sample(scrape(client), "attention_review_queue_depth") == 2
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1
    assert "LIMIT 2" in counts[0].upper(), "counted through a LIMITed subquery"


@pytest.mark.django_db
def test_attention_calls_errors_and_retries_are_counted(client, token):
    path = "/conversations/{id}"
    before = scrape(client)
    record_attention_call("GET", path, 200, 0.2, 0)
    record_attention_call("GET", path, None, 5.0, 1)
    record_attention_call("GET", path, 503, 0.1, 2)
    record_attention_call("get", path, 200, 0.3, 3)
    after = scrape(client)

    def grew(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    calls = "attention_review_attention_api_calls_total"
    assert grew(calls, method="GET", path=path, status="200") == 2
    assert grew(calls, method="GET", path=path, status="none") == 1
    assert grew(calls, method="GET", path=path, status="503") == 1
    assert grew("attention_review_attention_api_errors_total", method="GET", path=path) == 2
    assert grew("attention_review_attention_api_retries_total", method="GET", path=path) == 3
    seconds = "attention_review_attention_api_call_duration_seconds"
    assert grew(f"{seconds}_count", method="GET", path=path) == 4
    assert grew(f"{seconds}_sum", method="GET", path=path) == pytest.approx(5.6)


def test_an_unreachable_database_leaves_out_its_figures_but_still_answers(tmp_path):
    result = run_django(
        f"""
        from django.test import Client
        response = Client().get("/metrics", headers={{"Authorization": "Bearer {TOKEN}"}})
        print(response.status_code)
        print(response.content.decode())
        """,
        database=tmp_path / "absent" / "db.sqlite3",
        METRICS_TOKEN=TOKEN,
    )
    assert result.returncode == 0, result.stderr
    status, _, body = result.stdout.partition("\n")
    assert status == "200"
    names = {name for name, _labels in parse_samples(body)}
    assert "attention_review_sync_lag_seconds" not in names
    assert "attention_review_queue_depth" not in names
    assert "Metrics: the database did not answer" in result.stderr


def test_multiprocess_mode_adds_up_every_worker(tmp_path):
    """Two processes sharing PROMETHEUS_MULTIPROC_DIR, as two gunicorn workers would: a
    scrape of either reports the requests both answered."""
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(shared), "METRICS_TOKEN": TOKEN}
    database = tmp_path / "absent" / "db.sqlite3"
    first = run_django(
        """
        from django.test import Client
        for _ in range(2):
            Client().get("/healthz")
        """,
        database=database,
        **env,
    )
    assert first.returncode == 0, first.stderr
    second = run_django(
        f"""
        from django.test import Client
        Client().get("/healthz")
        response = Client().get("/metrics", headers={{"Authorization": "Bearer {TOKEN}"}})
        print(response.content.decode())
        """,
        database=database,
        **env,
    )
    assert second.returncode == 0, second.stderr
    samples = parse_samples(second.stdout)
    healthz = {"view": "reviews:healthz", "method": "GET", "status": "2xx"}
    assert sample(samples, REQUESTS, **healthz) == 3
    assert any(path.name.startswith("histogram_") for path in shared.iterdir())


@pytest.mark.parametrize("folder", ["", "no-such-folder"])
def test_a_multiprocess_folder_that_is_not_there_is_refused(tmp_path, folder):
    result = run_django(
        "",
        database=tmp_path / "db.sqlite3",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / folder) if folder else "",
    )
    assert result.returncode != 0
    assert "PROMETHEUS_MULTIPROC_DIR must name an existing folder" in result.stderr
