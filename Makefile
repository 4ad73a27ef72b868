# Two commands on a fresh machine: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

# Lock files (exact versions, every platform's markers, Python >= 3.11), written by `make lock`:
# requirements-dev.lock  every extra (dev included): what `make install` installs
# requirements.lock      the runtime and its non-dev extras (postgres...): production installs
LOCK       := requirements.lock
DEV_LOCK   := requirements-dev.lock
UV_VERSION ?= 0.13.9
UV_COMPILE  = $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --quiet \
              --custom-compile-command 'make lock' --annotation-style line $(if $(UPGRADE),--upgrade)

.PHONY: install run test test-postgres load bench bench-quick check-wheel lint lock validate clean train evaluate

# The locked versions first, then the project itself without resolving anything again; `pip check`
# fails when pyproject.toml asks for something the lock lacks (run `make lock` then).
$(STAMP): pyproject.toml $(DEV_LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check || { echo "make install: $(DEV_LOCK) is out of date with pyproject.toml: run 'make lock'"; exit 1; }
	touch $(STAMP)

install: $(STAMP)

# Refresh both lock files from pyproject.toml (uv, from PyPI; pins already in the files are kept
# unless UPGRADE=1). Needs only Python and the package index: the venv is created if missing.
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv && $(BIN)/uv --version | grep -q ' $(UV_VERSION)' \
	    || $(BIN)/python -m pip install --quiet 'uv==$(UV_VERSION)'
	$(UV_COMPILE) --all-extras -o $(DEV_LOCK)
	$(UV_COMPILE) $$($(BIN)/python -c "import tomllib; print(' '.join('--extra ' + e for e in tomllib.load(open('pyproject.toml', 'rb'))['project'].get('optional-dependencies', {}) if e != 'dev'))") \
	    -c $(DEV_LOCK) -o $(LOCK)
	@echo "lock files refreshed: $(DEV_LOCK) $(LOCK) (then: make install)"

run: install  ## serve the API on http://$(HOST):$(PORT) (SQLite + embedded catalogue)
	$(BIN)/insertion-match serve --host $(HOST) --port $(PORT)

test: install  ## the whole test suite
	$(BIN)/python -m pytest

# The storage and API tests again, on PostgreSQL (each test app gets its own new database there).
# IM_TEST_DATABASE_URL: a role with CREATEDB, e.g. postgresql+psycopg://im_test:im_test@127.0.0.1/im_test
test-postgres: install
	@test -n "$(IM_TEST_DATABASE_URL)" || { echo "set IM_TEST_DATABASE_URL (see .ci/run)"; exit 2; }
	IM_TEST_DATABASE_URL="$(IM_TEST_DATABASE_URL)" $(BIN)/python -m pytest

# 5 minutes of mixed traffic (reads, writes, recommendations) at a fixed rate the machine holds,
# open loop: errors and latency percentiles. CI runs a shorter one (DURATION=20).
LOAD_RATE     ?= 60
LOAD_DURATION ?= 300
load: install  ## fixed-rate loopback load test of the real server: errors, p50/p95/p99 latency
	$(BIN)/python bench/load.py --rate $(LOAD_RATE) --duration $(or $(DURATION),$(LOAD_DURATION))

# One run, side by side: HTTP (hello world vs /healthz vs POST /v1/recommendations), the
# in-process ranking, offers (10k, 100k, 1M) and stored people (100k, 1M) against the naive
# pandas + geopy baseline, and the streaming import (rate, peak memory). The first run stores
# the scale databases under var/bench-scale/ (about 20 min for 1M offers), later runs reuse them.
# `make bench-quick`: 10k and 100k offers, 100k people, 100k imported offers.
BENCH_SIZES        ?= 10000,100000,1000000
BENCH_PEOPLE_SIZES ?= 100000,1000000
BENCH_IMPORT_SIZES ?= 100000,1000000
bench: install  ## the benchmarks of docs/scale.md and docs/request-path.md, figures and goals
	$(BIN)/python bench/bench_http.py
	$(BIN)/python bench/bench_recommend.py
	$(BIN)/python bench/bench_jobs.py
	$(BIN)/python bench/bench_scale.py --sizes $(BENCH_SIZES) --people-sizes $(BENCH_PEOPLE_SIZES)
	$(BIN)/python bench/bench_import.py --sizes $(BENCH_IMPORT_SIZES)

bench-quick: install  ## the same at 10k/100k offers and 100k people (a few minutes)
	$(MAKE) bench BENCH_SIZES=10000,100000 BENCH_PEOPLE_SIZES=100000 BENCH_IMPORT_SIZES=100000

check-wheel: install  ## build the wheel, install it in a fresh venv outside the clone, serve it
	$(BIN)/python bench/check_wheel.py

train: install  ## fit the learned ranker on the synthetic world (models/action-ranker.*)
	$(BIN)/insertion-match train

evaluate: install  ## offline evaluation on the temporal hold-out (var/evaluations/)
	$(BIN)/insertion-match evaluate

lint: install  ## ruff (style, imports, errors) and mypy (types; config in pyproject.toml)
	$(BIN)/ruff check insertion_match tests bench setup.py
	$(BIN)/mypy

validate: install
	$(BIN)/insertion-match catalogue validate

clean:
	rm -rf $(VENV) var .pytest_cache
