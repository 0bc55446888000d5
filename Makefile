# Salesplan: `make run` serves the app with demo data, `make test` runs the whole suite.
# Without DATABASE_URL/REDIS_URL: SQLite under var/, jobs in a background thread of the server.
# With them: PostgreSQL, Redis and a real Celery worker (and beat) beside the web server.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.lock | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint format messages bench clean

$(STAMP): requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

run: install
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py refresh_plans --missing
	$(BIN)/python manage.py seed_demo
	@if [ -n "$$REDIS_URL" ]; then \
		echo "REDIS_URL is set: web, Celery worker and beat (Ctrl-C stops all)"; \
		PORT=$(PORT) HOST=$(HOST) $(BIN)/honcho start -f Procfile.dev; \
	else \
		$(BIN)/python manage.py recover_jobs; \
		echo "Serving on http://$(HOST):$(PORT)/ (jobs run in a background thread)"; \
		$(BIN)/python manage.py runserver $(HOST):$(PORT); \
	fi

test: install
	mkdir -p var
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: install
	$(BIN)/python manage.py makemessages -l ru -l en --ignore=.venv --ignore=var --no-obsolete
	$(BIN)/python manage.py compilemessages --ignore=.venv

bench: install
	$(BIN)/python bench/decompose.py
	$(BIN)/python bench/query_counts.py

clean:
	rm -rf var/*.sqlite3 var/staticfiles
