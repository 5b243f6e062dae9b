# `make run` and `make test` are the whole set-up: each creates .venv and installs what it needs
# (`make run` only what running needs; `make test` adds the test extras).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make run PORT=8000 HOST=0.0.0.0` serves elsewhere than http://127.0.0.1:5000.
PORT ?= 5000
HOST ?= 127.0.0.1
# Reinstall whenever pyproject.toml changes: each stamp carries its checksum. The test stamp builds on the
# run stamp, so `make run` after `make test` installs nothing and `make test` after `make run` adds the extras.
SUM := $(shell cksum < pyproject.toml | cut -d' ' -f1)
RUN_STAMP := $(VENV)/.installed-run-$(SUM)
TEST_STAMP := $(VENV)/.installed-test-$(SUM)
export PETITIO_HOME ?= $(CURDIR)/instance
export TZ = UTC

# The UI catalogs (workflow/i18n.py CATALOGS: the pages and the worker's mails share them): messages.pot and
# one <locale>/LC_MESSAGES/messages.po per language. Compiled catalogs are build output (git ignores them).
TRANSLATIONS := workflow/translations
CATALOGS := $(patsubst %.po,%.mo,$(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po))

.PHONY: run test test-deps lint bench migration i18n clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	rm -f $(VENV)/.installed-*
	touch $@

$(TEST_STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

%.mo: %.po $(RUN_STAMP)
	$(BIN)/pybabel -q compile -f -i $< -o $@

run: $(RUN_STAMP) $(CATALOGS)
	$(BIN)/petitio init
	$(BIN)/petitio demo
	$(BIN)/petitio serve --host '$(HOST)' --port '$(PORT)'

# The test environment alone (CI installs it once, then runs the SQLite and PostgreSQL halves side by side).
test-deps: $(TEST_STAMP) $(CATALOGS)

test: test-deps
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# The journey drives Chromium through Playwright (a test extra), so the benchmarks want the test environment.
bench: test-deps
	$(BIN)/python bench/task_cycle.py
	$(BIN)/python bench/render_filings.py
	$(BIN)/python bench/collective_from_db.py
	$(BIN)/python bench/worker.py
	$(BIN)/python bench/dashboard.py
	$(BIN)/python bench/xlsx_read.py
	$(BIN)/python bench/journey.py

# Developers: autogenerate a migration from the models, e.g. `make migration m="add reviews"`.
migration: $(RUN_STAMP)
	$(BIN)/python -c "import sys; from workflow import schema; from workflow.config import load_settings; \
	from workflow.db import make_engine; schema.revision(make_engine(load_settings().database_url), sys.argv[1])" "$(m)"

# Developers: re-extract UI strings and merge them into every catalog.
i18n: $(RUN_STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel -q update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
