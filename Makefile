# Two commands on a fresh machine: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run test test-postgres load bench lint validate clean train evaluate

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install  ## serve the API on http://$(HOST):$(PORT) (SQLite + embedded catalogue)
	$(BIN)/insertion-match serve --host $(HOST) --port $(PORT)

test: install  ## the whole test suite
	$(BIN)/python -m pytest

# The storage and API tests again, on PostgreSQL (each test app gets its own new database there).
# IM_TEST_DATABASE_URL: a role with CREATEDB, e.g. postgresql+psycopg://im_test:im_test@127.0.0.1/im_test
test-postgres: install
	@test -n "$(IM_TEST_DATABASE_URL)" || { echo "set IM_TEST_DATABASE_URL (see .ci/run)"; exit 2; }
	IM_TEST_DATABASE_URL="$(IM_TEST_DATABASE_URL)" $(BIN)/python -m pytest

load: install  ## bounded loopback load test: throughput, p50/p95/p99 latency, errors
	$(BIN)/python bench/load.py --requests $(or $(REQUESTS),2000) --concurrency $(or $(CONCURRENCY),16)

bench: install  ## in-process ranking time over 1,000 synthetic profiles
	$(BIN)/python bench/bench_recommend.py && $(BIN)/python bench/bench_jobs.py

train: install  ## fit the learned ranker on the synthetic world (models/action-ranker.*)
	$(BIN)/insertion-match train

evaluate: install  ## offline evaluation on the temporal hold-out (var/evaluations/)
	$(BIN)/insertion-match evaluate

lint: install
	$(BIN)/ruff check insertion_match tests bench

validate: install
	$(BIN)/insertion-match catalogue validate

clean:
	rm -rf $(VENV) var .pytest_cache
