# The README's commands: `make run` serves the demo, `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed

.PHONY: run test lint format bench bench-quick screenshots install install-dev clean

$(PY):
	@python=$$(scripts/find-python) && echo "Using $$python" && "$$python" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(RUNTIME_STAMP) $@

install: $(RUNTIME_STAMP)

install-dev: $(DEV_STAMP)

run: $(RUNTIME_STAMP)
	scripts/run-demo

test: lint
	$(PY) -m pytest

# mypy (configured in pyproject.toml) runs with DEBUG=1 because its Django plugin imports
# the settings, which refuse to load without SECRET_KEY when DEBUG is off. Nothing the
# checker sees depends on DEBUG.
lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DEBUG=1 $(VENV)/bin/mypy

format: $(DEV_STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Builds its own PostgreSQL database (dropped first: its name must contain "bench"),
# serves the app with gunicorn, drives it with wrk and writes docs/benchmarks.md.
bench: $(DEV_STAMP)
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/attention_bench} $(PY) -m bench.run

# The same run at 10,000 conversations, 4 s per page, on its own database: the same
# ratios to the floor in a few minutes (printed; var/bench/benchmarks-quick.md).
bench-quick: $(DEV_STAMP)
	$(PY) -m bench.run --quick

# The README's screenshots of the review page, from the demo data (sandbox, fresh
# database and app in a temporary folder; the system Chromium).
screenshots: $(DEV_STAMP)
	$(PY) scripts/screenshots.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
