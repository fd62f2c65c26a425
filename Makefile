# ReviewDesk. `make run` for a local desk with demo data; `make test` for the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint format services browser messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: $(BIN)/python requirements.txt
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

## run: migrate, load demo data once, then web + Celery worker + beat on SQLite and a file broker.
run: $(VENV)/.runtime
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	@if [ ! -f var/.demo-loaded ]; then DEBUG=1 $(BIN)/python manage.py seed_demo && touch var/.demo-loaded; fi
	@HOST=$(HOST) PORT=$(PORT) BIN=$(BIN) scripts/run-dev.sh

## test: lint, migration check, then pytest against the local PostgreSQL and Redis.
test: $(VENV)/.dev services browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=reviewdesk.test_settings DATABASE_URL=sqlite:///:memory: $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## messages: refresh locale/zh_Hans from the sources (translate the new entries), then compile.
messages: $(VENV)/.dev
	DEBUG=1 $(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var --ignore=tests --ignore=bench
	DEBUG=1 $(BIN)/python manage.py compilemessages -l zh_Hans --ignore=.venv

## services: start PostgreSQL and Redis if they are not running.
services:
	@scripts/ensure-services.sh

## browser: Debian's chromium for the Playwright tests (Playwright cannot download its own here).
browser:
	@scripts/ensure-chromium.sh

clean:
	rm -rf $(VENV) var/
