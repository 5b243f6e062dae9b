# `make run` and `make test` are the whole set-up: each creates .venv and installs what it needs
# (`make run` only what running needs; `make test` adds the test extras).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make run PORT=8000 HOST=0.0.0.0` serves elsewhere than http://127.0.0.1:5000. It serves as production does
# (gunicorn: on SQLite two workers with two threads; PETITIO_WEB_WORKERS / PETITIO_WEB_THREADS change that).
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

.PHONY: run test test-deps lint bench bench-pg migration i18n vendor clean

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
# Every program reads BENCH_DATABASE_URL from the environment (those with a database; the others ignore it):
# `make bench-pg` runs them all on PostgreSQL (BENCH_PG: a database whose public schema may be dropped).
bench: test-deps
	$(BIN)/python bench/task_cycle.py
	$(BIN)/python bench/render_filings.py
	$(BIN)/python bench/collective_from_db.py
	$(BIN)/python bench/worker.py
	$(BIN)/python bench/dashboard.py
	$(BIN)/python bench/xlsx_read.py
	$(BIN)/python bench/import_appeals.py
	$(BIN)/python bench/follow_up_rounds.py
	$(BIN)/python bench/journey.py
	$(BIN)/python bench/http_load.py

BENCH_PG ?= postgresql+psycopg://postgres@127.0.0.1:5432/bench
bench-pg:
	BENCH_DATABASE_URL='$(BENCH_PG)' $(MAKE) bench

# Developers: autogenerate a migration from the models, e.g. `make migration m="add reviews"`.
migration: $(RUN_STAMP)
	$(BIN)/python -c "import sys; from workflow import schema; from workflow.config import load_settings; \
	from workflow.db import make_engine; schema.revision(make_engine(load_settings().database_url), sys.argv[1])" "$(m)"

# Developers: re-extract UI strings and merge them into every catalog.
i18n: $(RUN_STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel -q update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching

# Developers: refresh the vendored bpmn-js viewer (web/static/vendor/bpmn-js) from the npm registry; the app
# serves those files as they are, so running it needs no Node.js. To upgrade, set the version and the
# tarball's integrity as the registry states it (`curl -s https://registry.npmjs.org/bpmn-js/<version>`, its
# dist.integrity), run `make vendor`, read the diff, and commit.
BPMN_JS_VERSION ?= 18.31.1
BPMN_JS_INTEGRITY ?= sha512-Hc7LzrgwfcBRUAdI/380Q2v1MJ115atGEVGadawLfDbHdo+r+IkmNj8fuYPFmWglUYt1KYIaC46OeX16HGTKQw==
BPMN_JS_URL := https://registry.npmjs.org/bpmn-js/-/bpmn-js-$(BPMN_JS_VERSION).tgz
BPMN_JS_DIR := web/static/vendor/bpmn-js
# Only what the viewer needs: the navigated viewer (drag to pan; the page adds zoom buttons), its two style sheets
# and the licence (the bpmn-font is the modeler's).
BPMN_JS_FILES := dist/bpmn-navigated-viewer.production.min.js dist/assets/diagram-js.css dist/assets/bpmn-js.css LICENSE

vendor:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	curl --fail --silent --show-error --location --proto '=https' -o "$$tmp/bpmn-js.tgz" '$(BPMN_JS_URL)' && \
	got="sha512-$$(openssl dgst -sha512 -binary "$$tmp/bpmn-js.tgz" | base64 | tr -d '\n')" && \
	if [ "$$got" != '$(BPMN_JS_INTEGRITY)' ]; then \
	  echo "bpmn-js $(BPMN_JS_VERSION): integrity $$got, expected $(BPMN_JS_INTEGRITY)" >&2; exit 1; fi && \
	tar -xzf "$$tmp/bpmn-js.tgz" -C "$$tmp" $(addprefix package/,$(BPMN_JS_FILES)) && \
	rm -rf '$(BPMN_JS_DIR)' && mkdir -p '$(BPMN_JS_DIR)' && \
	for f in $(BPMN_JS_FILES); do cp "$$tmp/package/$$f" '$(BPMN_JS_DIR)/'; done && \
	printf 'bpmn-js %s\nsource %s\nintegrity %s\nfiles %s\n' '$(BPMN_JS_VERSION)' '$(BPMN_JS_URL)' \
	  '$(BPMN_JS_INTEGRITY)' '$(notdir $(BPMN_JS_FILES))' > '$(BPMN_JS_DIR)/VERSION' && \
	echo "bpmn-js $(BPMN_JS_VERSION) vendored into $(BPMN_JS_DIR)"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
