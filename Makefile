# Two commands on a fresh machine: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run test bench lint validate clean

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

bench: install  ## in-process ranking time over 1,000 synthetic profiles
	$(BIN)/python bench/bench_recommend.py

lint: install
	$(BIN)/ruff check insertion_match tests bench

validate: install
	$(BIN)/insertion-match catalogue validate

clean:
	rm -rf $(VENV) var .pytest_cache
