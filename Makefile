# Two commands work on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
TYPED  := domain/ workflows/ activities/ notify/ infra/ store/ app/ api/ cli/ pages/ bench/ \
          mutation/ deploy/lock.py worker.py starter.py stack.py
# Bytecode, as an installed wheel has it: the workflow sandbox imports the workflow's module
# afresh for every case, and with PYTHONDONTWRITEBYTECODE it would compile it each time.
BYTECODE := $(PY) -m compileall -q domain workflows activities store notify infra app api cli pages bench worker.py starter.py stack.py

.PHONY: install run worker api test test-db typecheck mutation lint format bench bench-quick \
        bench-scale lock clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev,embedded,otel]"
	$(BYTECODE)
	touch $(STAMP)

install: $(STAMP)

## The whole service on the embedded stack, in the foreground (Ctrl-C stops it all). The
## command is not echoed, so with COMPLAINTS_LOG_FORMAT=json every line of the log is JSON.
run: install
	@$(PY) -m stack

## Only the worker, against TEMPORAL_ADDRESS and DATABASE_URL (production shape).
worker: install
	@$(PY) worker.py

## Only the HTTP API (uvicorn on COMPLAINTS_API_PORT, 8000), against the same services.
api: install
	@$(PY) -m api

## The whole test suite: real Temporal servers, PostgreSQL from DATABASE_URL or embedded.
test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy --strict $(TYPED)
	$(VENV)/bin/pytest -q

## Only the tests that touch PostgreSQL (CI runs them once more against DATABASE_URL).
test-db: install
	$(VENV)/bin/pytest -q -m db

## Types: mypy --strict over everything the service ships, the benchmark and the mutation
## runner (config in pyproject.toml).
typecheck: install
	$(VENV)/bin/mypy --strict $(TYPED)

## Mutation testing of domain/ with the unit tests (mutmut): the score per file; fails
## below 90 %. Equivalent mutants are listed, with why, in mutation/equivalents.toml.
mutation: install
	$(PY) mutation/score.py

## Benchmarks against a bare Temporal baseline on the embedded stack (see README).
bench: install
	@$(BYTECODE)
	$(PY) -m bench.run

## The same parts, small (under 3 minutes): fails when a ratio is more than 20 % short of its
## target. Run it before and after changing the hot path (append, rebuild, workflow steps).
bench-quick: install
	@$(BYTECODE)
	BENCH_QUICK=1 $(PY) -m bench.run

## A hosted service's size (not in CI; over an hour on 2 cores): 100,000 open cases (worker
## RSS, action p50 at 100 vs 100,000 open) and the read model's list and report at a million
## events, with their query plans. BENCH_SCALE_CASES / BENCH_SCALE_EVENTS make it smaller.
bench-scale: install
	@$(BYTECODE)
	$(PY) -m bench.scale

## The image's lock files from pyproject.toml (pinned, with hashes; the Dockerfile installs
## from them). Run after changing a dependency: tests/unit/test_lock.py fails until you do.
lock: install
	$(PY) deploy/lock.py requirements.lock
	$(PY) deploy/lock.py requirements-otel.lock --extra otel

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) .data .pytest_cache .ruff_cache .hypothesis
