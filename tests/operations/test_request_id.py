"""X-Request-ID: kept when acceptable, made up otherwise, sent back, and on every log line
written while the request runs, as text or as JSON."""

import json
import logging
import re

import pytest

from attention_review.operations.request_id import RequestIdLogFilter

from .helpers import run_django

GENERATED = re.compile(r"[0-9a-f]{32}")


def test_an_incoming_request_id_is_kept(client):
    response = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a 9c/01:trace"})
    assert response.status_code == 200
    assert response["X-Request-ID"] == "lb-7f3a 9c/01:trace"


def test_without_one_a_new_id_is_made_for_each_request(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert GENERATED.fullmatch(first)
    assert GENERATED.fullmatch(second)
    assert first != second


@pytest.mark.parametrize(
    "incoming",
    ["x" * 201, "bell\x07", "tab\there", "caf\u00e9", "   "],
    ids=["too-long", "control", "tab", "non-ascii", "blank"],
)
def test_an_unacceptable_id_is_replaced(client, incoming):
    response = client.get("/healthz", headers={"X-Request-ID": incoming})
    assert GENERATED.fullmatch(response["X-Request-ID"])


def test_two_hundred_printable_characters_are_kept(client):
    incoming = "a-" * 100
    assert client.get("/healthz", headers={"X-Request-ID": incoming})["X-Request-ID"] == incoming


def test_the_id_is_on_the_log_lines_of_its_request_and_only_those(client, caplog):
    caplog.handler.addFilter(RequestIdLogFilter())
    caplog.set_level(logging.INFO)
    response = client.get("/no-such-page/", headers={"X-Request-ID": "trace-404"})
    assert response.status_code == 404
    logging.getLogger("tests.after").info("after the request")
    ids = {record.getMessage(): record.request_id for record in caplog.records}
    assert ids["Not Found: /no-such-page/"] == "trace-404"
    assert ids["after the request"] == "-"


def log_lines_of_a_404(tmp_path, **env):
    result = run_django(
        """
        from django.test import Client
        Client().get("/no-such-page/", headers={"X-Request-ID": "trace-42"})
        """,
        database=tmp_path / "absent" / "db.sqlite3",
        **env,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr.splitlines()


def test_log_format_json_writes_one_json_object_per_line(tmp_path):
    lines = log_lines_of_a_404(tmp_path, LOG_FORMAT="json", LOG_LEVEL="INFO")
    records = [json.loads(line) for line in lines]  # every line is JSON
    not_found = next(r for r in records if r["message"] == "Not Found: /no-such-page/")
    assert not_found["request_id"] == "trace-42"
    assert not_found["level"] == "WARNING"
    assert not_found["logger"] == "django.request"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00", not_found["time"])
    outside = next(r for r in records if r["logger"] == "axes.apps")
    assert outside["request_id"] == "-"


def test_the_default_text_format_carries_the_id_too(tmp_path):
    lines = log_lines_of_a_404(tmp_path, LOG_FORMAT="", LOG_LEVEL="INFO")
    assert any(
        re.fullmatch(
            r"\S+ \S+ WARNING django\.request \[trace-42\] Not Found: /no-such-page/", line
        )
        for line in lines
    ), lines


def test_an_unknown_log_format_is_refused(tmp_path):
    result = run_django("", database=tmp_path / "absent.sqlite3", LOG_FORMAT="xml")
    assert result.returncode != 0
    assert "LOG_FORMAT must be one of text, json" in result.stderr
