"""Run a short script in a fresh interpreter, for what a setting read at start-up changes
(log format, multiprocess metrics, the proxy count) or what this process cannot be put
into (a database that does not answer)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def run_django(script: str, *, database: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `script` after django.setup() with the test settings, `env` on top of this
    process's environment and the SQLite file `database` (made by no one: a script that
    needs no table never opens it; one that does finds none)."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    environment.update({"DATABASE_URL": f"sqlite:///{database}", **env})
    code = "import django\ndjango.setup()\n" + textwrap.dedent(script)
    return subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def parse_samples(text: str) -> Samples:
    """Every sample of a Prometheus text exposition, keyed by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)
