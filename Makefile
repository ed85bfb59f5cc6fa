# Ava: `make run` starts the product with its embedded defaults; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-dev migrate seed clean

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

migrate: install
	$(PY) manage.py migrate --noinput

# The demo clinic is loaded once; its daily metrics are rolled up so the dashboard has figures.
seed: migrate
	$(PY) manage.py seed_demo
	$(PY) manage.py backfill_metrics --days 90

# Web (Daphne), a Celery worker and beat, as the Procfile says; honcho prefixes their logs and
# stops all three on one Ctrl-C (or when one of them exits).
run: seed
	$(PY) manage.py collectstatic --noinput --verbosity 0
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" AVA_HOST=$(HOST) AVA_PORT=$(PORT) $(VENV)/bin/honcho start -f Procfile

test: install-dev
	$(VENV)/bin/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) staticfiles db.sqlite3
