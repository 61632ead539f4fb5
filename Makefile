# Annotator. Quickstart: `make run` (serve the embedded default) and `make test` (the suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DTLPY_VENV := .venv-dtlpy
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test fuzz worker bench load lint format migrate seed frontend install install-dev clean help

help:
	@echo "make run      set everything up and serve http://$(HOST):$(PORT) (embedded default)"
	@echo "make test     install what the tests need; ruff, pytest (incl. browser + dtlpy contract), vitest"
	@echo "make worker   a Celery worker for the scale-out mode (needs REDIS_URL)"
	@echo "make bench    run the benchmarks in bench/"
	@echo "make fuzz     the API fuzz test at 10x its CI examples (FUZZ_SCALE=n sets the factor)"
	@echo "make load     the 5-minute load test (bench/load/; PostgreSQL and Redis on 127.0.0.1)"

# --- installation (stamp files make repeat runs fast) -------------------------------------------
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime-installed $@

$(DTLPY_VENV)/.installed: tests/contract/requirements.txt
	$(PYTHON) -m venv $(DTLPY_VENV)
	$(DTLPY_VENV)/bin/pip install --quiet --upgrade pip
	$(DTLPY_VENV)/bin/pip install --quiet -r tests/contract/requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

FRONTEND_SOURCES := $(shell find frontend -type f 2>/dev/null) vite.config.ts tsconfig.json
static/dist/.vite/manifest.json: node_modules/.installed $(FRONTEND_SOURCES)
	npm run --silent build

install: $(VENV)/.runtime-installed frontend
install-dev: $(VENV)/.dev-installed frontend $(DTLPY_VENV)/.installed
frontend: static/dist/.vite/manifest.json

migrate: $(VENV)/.runtime-installed
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

# --- the two commands -------------------------------------------------------------------------
run: install seed
	$(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

test: install-dev
	scripts/ensure-chromium.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	npx vitest run
	$(BIN)/pytest

# --- the rest ---------------------------------------------------------------------------------------
worker: $(VENV)/.runtime-installed
	@test -n "$$REDIS_URL" || (echo "make worker is for the scale-out mode: set REDIS_URL (and DATABASE_URL)"; exit 2)
	CELERY_WORKER_EMBEDDED=0 $(BIN)/celery -A annotator worker --pool threads --concurrency $${WORKER_CONCURRENCY:-4} --loglevel INFO

# The schemathesis fuzz test of every API operation, longer than in `make test`.
fuzz: install-dev
	FUZZ_SCALE=$${FUZZ_SCALE:-10} $(BIN)/pytest -q --timeout 0 tests/fuzz

bench: install-dev
	$(BIN)/python -m bench

# Empties and reseeds its database on every run: never point LOAD_DATABASE_URL at real data.
load: install-dev
	LOAD_DATABASE_URL=$${LOAD_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/load} \
	LOAD_REDIS_URL=$${LOAD_REDIS_URL:-redis://127.0.0.1:6379/10} $(BIN)/python -m bench.load.run

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) $(DTLPY_VENV) node_modules static/dist
