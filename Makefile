# treu: everyday commands. Needs only GNU make and Python >= 3.11.
#
#   make demo    local demo with generated data on http://127.0.0.1:8000
#   make test    lint + the whole test suite (browser tests need Debian's chromium)
#
# Run `make help` for the rest.

SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.treu-installed
PYTHON_CANDIDATES := python3.13 python3.12 python3.11 python3
# Set PYTHON=/path/to/python3.x to choose the interpreter for the virtualenv yourself.
PYTHON ?=

# Recipes (and the tests they run) find the venv's tools first: django-admin, ruff, pytest.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

VAR_DIR := $(or $(TREU_VAR_DIR),var)
DEMO_CUSTOMERS ?= 2000
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
BENCH_ARGS ?=

STATIC_SOURCES := $(shell find treu -path '*/static/*' -type f 2>/dev/null)
STATIC_STAMP := $(VAR_DIR)/static/.treu-collected

# The same order the browser fixtures use (treu/conftest.py).
CHROMIUM := $(if $(CHROMIUM_PATH),$(wildcard $(CHROMIUM_PATH)),$(or $(wildcard /usr/bin/chromium),$(shell command -v chromium 2>/dev/null)))

.PHONY: help venv .venv demo serve test pytest lint fmt messages bench clean clean-all check-chromium

help:
	@echo "treu make targets:"
	@echo "  make demo       migrate, load demo data (DEMO_CUSTOMERS=$(DEMO_CUSTOMERS)) once, serve on http://$(HOST):$(PORT)/"
	@echo "  make test       ruff check, ruff format --check, then pytest (PYTEST_ARGS=... to narrow)"
	@echo "  make lint       ruff check + format check only"
	@echo "  make fmt        ruff format + ruff check --fix"
	@echo "  make messages   update treu/locale/de/.../django.po from the code and compile it"
	@echo "  make bench      run every bench/bench_*.py (BENCH_ARGS=... passed to each)"
	@echo "  make venv       create/refresh .venv (reinstalls when pyproject.toml changes)"
	@echo "  make clean      remove caches (keeps .venv and the demo database)"
	@echo "  make clean-all  clean + remove .venv and $(VAR_DIR)/ (deletes the demo database!)"

# ---------------------------------------------------------------- virtualenv

venv .venv: $(STAMP)

$(STAMP): pyproject.toml
	@set -euo pipefail; \
	if [ -x "$(PY)" ] && "$(PY)" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then \
		echo "==> using the existing $(VENV) ($$("$(PY)" --version))"; \
	else \
		python="$(PYTHON)"; \
		if [ -z "$$python" ]; then \
			for candidate in $(PYTHON_CANDIDATES); do \
				if command -v "$$candidate" >/dev/null 2>&1 \
					&& "$$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then \
					python="$$candidate"; break; \
				fi; \
			done; \
		fi; \
		if [ -z "$$python" ] || ! "$$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then \
			echo "treu needs Python 3.11 or newer, and none was found (tried: $(PYTHON_CANDIDATES))." >&2; \
			echo "Install one (Debian/Ubuntu: apt-get install python3 python3-venv) or run" >&2; \
			echo "  make PYTHON=/path/to/python3.11 ..." >&2; \
			exit 1; \
		fi; \
		echo "==> creating $(VENV) with $$("$$python" --version)"; \
		rm -rf "$(VENV)"; \
		if ! "$$python" -m venv "$(VENV)"; then \
			echo "Could not create $(VENV). On Debian/Ubuntu: apt-get install python3-venv" >&2; \
			exit 1; \
		fi; \
	fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# ---------------------------------------------------------------- demo

# A local demo on plain http://: secure cookies and the https redirect of a
# production setup would lock you out, so the demo runs with DEBUG on.
demo serve: export DEBUG := 1
demo serve: export SITE_URL ?= http://$(HOST):$(PORT)

demo: venv
	$(PY) -m treu migrate --noinput
	$(PY) -m treu demo --customers $(DEMO_CUSTOMERS) --if-empty
	@$(MAKE) --no-print-directory $(STATIC_STAMP)
	$(PY) -m treu serve --host $(HOST) --port $(PORT)

# Start the demo again without touching data.
serve: venv
	$(PY) -m treu serve --host $(HOST) --port $(PORT)

# Collect static files only when they changed since the last collect.
$(STATIC_STAMP): $(STATIC_SOURCES) | venv
	$(PY) -m treu collectstatic --noinput --verbosity 0
	@mkdir -p $(dir $@) && touch $@

# ---------------------------------------------------------------- quality

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

fmt: venv
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

test: lint pytest

pytest: venv
	@$(MAKE) --no-print-directory check-chromium
	@set -uo pipefail; \
	$(PY) -m pytest -p no:cacheprovider $(PYTEST_ARGS); status=$$?; \
	$(MAKE) --no-print-directory check-chromium; \
	exit $$status

# Browser tests skip themselves without Chromium (and fail under CI=true);
# say so loudly so a green run is not mistaken for a complete one.
check-chromium:
ifeq ($(strip $(CHROMIUM)),)
	@echo "" >&2
	@echo "##################################################################" >&2
	@echo "##  WARNING: Chromium not found - the BROWSER TESTS ARE SKIPPED ##" >&2
	@echo "##                                                              ##" >&2
	@echo "##  Looked at \$$CHROMIUM_PATH, /usr/bin/chromium, PATH           ##" >&2
	@echo "##  Install it (Debian/Ubuntu, as root):                        ##" >&2
	@echo "##      apt-get update && apt-get install -y chromium           ##" >&2
	@echo "##  or point CHROMIUM_PATH at a Chromium binary.                ##" >&2
	@echo "##  Never 'playwright install': treu uses the system Chromium.  ##" >&2
	@echo "##################################################################" >&2
	@echo "" >&2
else
	@echo "==> browser tests use $(CHROMIUM)"
endif

# ---------------------------------------------------------------- translations

# Needs GNU gettext (apt-get install gettext). Tests are not translated.
messages: venv
	cd treu && $(CURDIR)/$(PY) -m django makemessages -l de --no-obsolete --ignore=tests --ignore=__pycache__
	cd treu && $(CURDIR)/$(PY) -m django compilemessages -l de

# ---------------------------------------------------------------- benchmarks

bench: venv
	@set -euo pipefail; shopt -s nullglob; \
	files=(bench/bench_*.py); \
	if [ $${#files[@]} -eq 0 ]; then echo "no bench/bench_*.py found"; exit 0; fi; \
	for f in "$${files[@]}"; do \
		echo "==> $$f"; \
		$(PY) "$$f" $(BENCH_ARGS); \
	done

# ---------------------------------------------------------------- cleaning

clean:
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache .hypothesis test-results build dist

clean-all: clean
	rm -rf $(VENV) $(VAR_DIR)
