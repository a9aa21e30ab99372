# Lianhu — `make run` installs everything and starts the server; `make test` runs the tests.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTHON ?= python3
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
STAMP := $(VENV)/.installed

.PHONY: install run test bench lint format models prompts clean system-deps test-deps

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

system-deps:
	scripts/system-deps.sh run

install: system-deps $(STAMP)
	$(PY) -m nlu train --if-stale
	$(PY) -m voice setup

run: install
	$(PY) -m bot serve --demo

test-deps: install
	scripts/system-deps.sh test

test: test-deps
	@if $(PY) -c "import psycopg; psycopg.connect('$(PG_TEST_URL)'.replace('+psycopg',''), connect_timeout=3).close()" 2>/dev/null; then \
	  echo "PostgreSQL answers: tests run on SQLite and PostgreSQL"; \
	  export LIANHU_TEST_DATABASE_URL=$(PG_TEST_URL); \
	else echo "PostgreSQL not reachable: tests run on SQLite only"; fi; \
	$(PY) -m pytest -q --durations=15 $(PYTEST_ARGS)

bench: install
	$(PY) -m bench

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy core bot nlu voice handlers data

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

models: $(STAMP)
	$(PY) -m voice models

prompts: $(STAMP)
	$(PY) -m voice prompts

clean:
	rm -rf var/cache .pytest_cache
