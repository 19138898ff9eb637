# Kairos: two commands. `make run` sets up and serves; `make test` sets up and checks everything.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.kairos-installed
CHROMIUM ?= /usr/bin/chromium
# xdist workers for the test suite (the CI machine has 2 cores)
TEST_WORKERS ?= 2
PYTEST_ARGS ?=

.PHONY: run test test-fast install chromium pdf-libs lint typecheck imports migrations-check pytest pytest-db bench openapi docs screenshots clean mutate

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml requirements/constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -c requirements/constraints.txt -e ".[dev]"
	@touch $@

install: $(STAMP)

## make run: venv, install, migrate SQLite under var/, load the demo clinic, serve web + worker.
run: install pdf-libs
	$(BIN)/python manage.py migrate --noinput -v 0
	$(BIN)/python manage.py collectstatic --noinput -v 0
	$(BIN)/kairos demo
	$(BIN)/python -m kairos.config.devserver

## make test: lint, types, import contracts, migrations check, then the whole pytest suite.
test: install chromium pdf-libs lint typecheck imports migrations-check pytest

chromium:
	@if [ -x "$(CHROMIUM)" ]; then exit 0; fi; \
	if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	else \
	  echo "Browser tests need Debian's chromium at $(CHROMIUM)."; \
	  echo "Install it with: sudo apt-get install chromium   (or set CHROMIUM=/path/to/chromium)"; \
	  exit 1; \
	fi

## make pdf-libs: the system libraries WeasyPrint renders PDFs with (Debian packages: pango, harfbuzz, fonts).
PDF_DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 fonts-dejavu-core
pdf-libs:
	@if ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0' && ldconfig -p | grep -q 'libharfbuzz-subset.so.0'; then exit 0; fi; \
	if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  echo "Installing the system libraries WeasyPrint needs for PDFs..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PDF_DEBS) >/dev/null; \
	else \
	  echo "PDF printing needs pango and harfbuzz: sudo apt-get install $(PDF_DEBS)"; \
	  exit 1; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy src/kairos tests conftest.py

imports: install
	$(BIN)/lint-imports

migrations-check: install
	$(BIN)/python manage.py makemigrations --check --dry-run

pytest: install
	$(BIN)/pytest -n $(TEST_WORKERS) --durations=15 $(PYTEST_ARGS)

## make test-fast: the inner loop: pytest without the browser, JAX and PostgreSQL-only tests, and without
## lint, types or import contracts (`make test` stays the full gate).
test-fast: install
	$(BIN)/pytest -n $(TEST_WORKERS) -m "not browser and not jax and not postgres_only" --ignore=tests/browser $(PYTEST_ARGS)

## The database-dependent part only (CI runs it again on PostgreSQL).
pytest-db: install
	@echo "Database-dependent tests only: the pure-core suites (tests/clinical, tests/pharmacology) and static checks ran once already."
	$(BIN)/pytest -n $(TEST_WORKERS) --durations=15 src/kairos tests/browser $(PYTEST_ARGS)

## make bench: performance figures (never in CI); see docs/PERFORMANCE.md.
bench: install
	$(BIN)/python benchmarks/run_all.py

openapi: install
	$(BIN)/python manage.py openapi

docs: install
	$(BIN)/python -m kairos.clinical.docs
	$(BIN)/python -m kairos.clinical.hazards
	$(BIN)/python tests/support/archmap.py

## make mutate: mutation testing (mutmut; never in CI) of the safety-critical modules named under
## [tool.mutmut] in pyproject.toml. It runs in a copy of the tree under var/mutmut/ (the working tree is never
## touched; results there are reused on the next run) and writes var/mutmut/report.md: the score per module and
## each surviving mutant with its diff. MUTANTS='kairos.clinical.dosing.*' restricts the run to one module;
## `cd var/mutmut && ../../.venv/bin/mutmut show NAME` shows one mutant. See docs/testing.md.
MUTANTS ?=
MUTATE_DIR := var/mutmut
KAIROS_SHARED ?= $(abspath $(CURDIR)/../shared)
mutate: install
	@mkdir -p $(MUTATE_DIR)
	rm -rf $(MUTATE_DIR)/src $(MUTATE_DIR)/tests
	rm -rf $(MUTATE_DIR)/docs
	cp -rp src tests docs conftest.py manage.py pyproject.toml $(MUTATE_DIR)/
	find $(MUTATE_DIR)/src $(MUTATE_DIR)/tests -name __pycache__ -prune -exec rm -rf {} +
	cd $(MUTATE_DIR) && KAIROS_SHARED=$(KAIROS_SHARED) HYPOTHESIS_PROFILE=ci \
	  $(abspath $(BIN))/mutmut run --max-children $(TEST_WORKERS) $(MUTANTS)
	cd $(MUTATE_DIR) && $(abspath $(BIN))/python tests/support/mutation_report.py --diffs > report.md
	@sed -n '1,/^## /p' $(MUTATE_DIR)/report.md | sed '$$d'
	@echo "Survivors and their diffs: $(MUTATE_DIR)/report.md"

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis

## make screenshots: refresh docs/screenshots/ from the browser tests.
screenshots: install chromium
	KAIROS_SCREENSHOTS=1 $(BIN)/pytest -q -p no:cacheprovider tests/browser
