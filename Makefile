# `make run` and `make test` are the whole set-up: each creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstall whenever pyproject.toml changes.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
export PETITIO_HOME ?= $(CURDIR)/instance
export TZ = UTC

# Compiled catalogs are build output (git ignores them); rebuilt whenever a .po changes.
CATALOGS := $(patsubst %.po,%.mo,$(wildcard web/translations/*/LC_MESSAGES/messages.po))

.PHONY: run test lint bench migration i18n clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

%.mo: %.po $(STAMP)
	$(BIN)/pybabel -q compile -f -i $< -o $@

run: $(STAMP) $(CATALOGS)
	$(BIN)/petitio init
	$(BIN)/petitio demo
	$(BIN)/petitio serve

test: $(STAMP) $(CATALOGS)
	$(BIN)/ruff check .
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python bench/task_cycle.py
	$(BIN)/python bench/filings.py
	$(BIN)/python bench/collective_from_db.py
	$(BIN)/python bench/worker.py
	$(BIN)/python bench/dashboard.py

# Developers: autogenerate a migration from the models, e.g. `make migration m="add reviews"`.
migration: $(STAMP)
	$(BIN)/python -c "import sys; from workflow import schema; from workflow.config import load_settings; \
	from workflow.db import make_engine; schema.revision(make_engine(load_settings().database_url), sys.argv[1])" "$(m)"

# Developers: re-extract UI strings and merge them into every catalog.
i18n: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -o web/translations/messages.pot .
	$(BIN)/pybabel -q update -i web/translations/messages.pot -d web/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
