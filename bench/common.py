"""What the benchmark steps share: where they keep their files, and Django set-up."""

import json
import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"
CONTEXT_FILE = WORK / "context.json"
RESULTS_FILE = WORK / "results.json"

SEED = 20261124  # the sandbox's default seed: the bench data are its conversations
API_KEY = "bench-sandbox-key"  # a sandbox key on loopback, not a secret


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attention_review.settings")
    import django

    django.setup()


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str))


def update_results(**sections: Any) -> None:
    """Merge sections into the run's results file (each step adds its own)."""
    results = read_json(RESULTS_FILE)
    results.update(sections)
    write_json(RESULTS_FILE, results)
