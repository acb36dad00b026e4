# Tandem — one entry point for a fresh machine. `make demo` and `make test` bootstrap everything.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
STAMP := $(VENV)/.installed

.PHONY: bootstrap demo demo-once demo-slice test lint fmt lock clean reliability bench

bootstrap: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || \
		$(PYTHON) -m pip install --quiet uv
	$(UV) venv --quiet --allow-existing --python 3.11 $(VENV)
	$(UV) pip install --quiet --python $(PY) --compile-bytecode -r requirements.lock
	$(UV) pip install --quiet --python $(PY) --compile-bytecode --no-deps -e .
	@touch $(STAMP)

# The whole landscape and airflow standalone; Ctrl+C stops everything. DEMO_TRYTON=1 adds Tryton.
demo: bootstrap
	$(PY) -m sandbox.demo $(if $(filter 1,$(DEMO_TRYTON)),--tryton,) $(DEMO_ARGS)

# Headless, for CI: every flow once on the same landscape, a summary, exit 0 (1 if a flow crashed).
demo-once: bootstrap
	$(PY) -m sandbox.demo --once $(if $(filter 1,$(DEMO_TRYTON)),--tryton,) $(DEMO_ARGS)

# The first slice alone: web shop webhooks -> `tandem serve` -> SOAP ERP, a dead letter replayed.
demo-slice: bootstrap
	$(PY) -m sandbox.demo_slice

test: bootstrap
	$(PY) -m pytest $(PYTEST_ARGS)

# Every benchmark in bench/ -> bench/results/latest.{json,md} and the README's table.
# Quick (~10 min on 2 cores) by default; BENCH_FULL=1 for full size (1 GB files, 1M customers).
bench: bootstrap
	$(UV) pip install --quiet --python $(PY) -r requirements-bench.lock
	$(PY) -m bench.run_all $(if $(filter 1,$(BENCH_FULL)),--full,) $(BENCH_ARGS)

# the fault and hostile-input suites with their long trials; prints one table of figures
reliability: bootstrap
	$(PY) -m tests.reliability.report $(RELIABILITY_ARGS)

lint: bootstrap
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

fmt: bootstrap
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

lock:
	$(UV) pip compile requirements.in --python-version 3.11 --no-header -o requirements.lock

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache

# A real scale-out run: Airflow with Celery workers (PostgreSQL metadata, Redis broker) loads
# 200,000 generated customers in 8 mapped partitions, with 1 worker then 2 (a fresh hub each);
# asserts both workers ran parts and nothing was lost or duplicated; ~14 min on 2 cores.
# Needs PostgreSQL on 127.0.0.1:5432 (trust) and Redis on 127.0.0.1:6379.
.PHONY: scaleout
scaleout: bootstrap
	$(PY) -m bench.scaleout $(SCALEOUT_ARGS)
