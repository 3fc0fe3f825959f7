# civsim: build, run and test.  Quick start:  make run  then  make test
#
# Everything runs from a project-local virtualenv (.venv) with Python >= 3.12.
# Override the interpreter with  make venv PYTHON=/path/to/python3.12

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV   := .venv
VPY    := $(VENV)/bin/python
VBIN   := $(VENV)/bin
# rebuilt when pyproject.toml or the asset script changes
STAMP  := $(VENV)/.civsim-installed
PYTEST_WORKERS ?= 2

# Solara's pytest plugin: run widgets in a Solara server (not voila/jupyter);
# no telemetry calls from test servers or `make app` (the network is closed in CI).
export SOLARA_TEST_RUNNERS ?= solara
export SOLARA_TELEMETRY_MIXPANEL_ENABLE ?= False

# Sets $$found to a Python >= 3.12: $(PYTHON) if given, else python3.12 on
# PATH or pyenv's newest 3.12.x, then the same for 3.13, 3.14, then python3 /
# python. Each candidate is run to check its version (a pyenv shim for a
# version the current directory does not select fails, and is skipped).
define FIND_PYTHON
ok() { "$$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }; \
proot="$${PYENV_ROOT:-$$HOME/.pyenv}"; \
if command -v pyenv >/dev/null 2>&1; then proot="$$(pyenv root)"; fi; \
cands=(); \
if [ -n "$(PYTHON)" ]; then cands+=("$(PYTHON)"); fi; \
for m in 12 13 14; do \
  if command -v "python3.$$m" >/dev/null 2>&1; then cands+=("$$(command -v python3.$$m)"); fi; \
  for d in $$(ls -d "$$proot"/versions/3.$$m.* 2>/dev/null | sort -rV); do cands+=("$$d/bin/python3.$$m"); done; \
done; \
for c in python3 python; do if command -v "$$c" >/dev/null 2>&1; then cands+=("$$(command -v $$c)"); fi; done; \
found=""; \
for c in "$${cands[@]}"; do if ok "$$c"; then found="$$c"; break; fi; done; \
if [ -z "$$found" ]; then \
  echo "error: civsim needs Python >= 3.12 (mesa >= 3.4 requires it)." >&2; \
  echo "       Tried: $${cands[*]:-nothing found}" >&2; \
  echo "       Install one (e.g. 'pyenv install 3.12' or your OS package python3.12)," >&2; \
  echo "       or name it:  make venv PYTHON=/path/to/python3.12" >&2; \
  exit 1; \
fi
endef

.PHONY: help venv run test test-all test-fast bench app lint browser clean distclean

help:
	@echo "make venv   create .venv (Python >= 3.12), install civsim[dev] and Solara's offline browser assets"
	@echo "make run    run the baseline scenario: summary table + plot in runs/baseline"
	@echo "make test   run the test suite, slow tests excluded (pytest, $(PYTEST_WORKERS) workers)"
	@echo "make test-all  the whole suite, slow tests included"
	@echo "make bench  run the benchmarks (pytest-benchmark, then civsim bench)"
	@echo "make app    start the Solara web app"
	@echo "make lint   ruff check"
	@echo "make clean  remove caches and build output;  make distclean  also .venv, runs/, .benchmarks/"

venv: $(STAMP)

$(STAMP): pyproject.toml scripts/install_solara_assets.py
	@if [ -x "$(VPY)" ] && ! "$(VPY)" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then \
	  echo "$(VENV) has no working Python >= 3.12: recreating it"; rm -rf "$(VENV)"; \
	fi; \
	if [ ! -x "$(VPY)" ]; then \
	  $(FIND_PYTHON); \
	  echo "creating $(VENV) with $$found ($$("$$found" --version 2>&1))"; \
	  "$$found" -m venv "$(VENV)"; \
	  "$(VPY)" -m pip install -q --upgrade pip setuptools wheel; \
	fi
	$(VPY) -m pip install --progress-bar off -e '.[dev]'
	$(VPY) scripts/install_solara_assets.py
	@touch $(STAMP)

run: venv
	$(VBIN)/civsim run baseline --out runs/baseline

# --benchmark-disable: a test using the `benchmark` fixture runs once, untimed
# (timings are for `make bench`, never under xdist).
# Extra arguments:  make test PYTEST_ARGS='-k scenario -x'
test: venv
	@if $(VPY) -c 'import xdist' 2>/dev/null; then \
	  set -x; $(VPY) -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile --benchmark-disable -m "not slow" $(PYTEST_ARGS); \
	else \
	  echo "(pytest-xdist not installed: running serially)"; \
	  set -x; $(VPY) -m pytest -q --benchmark-disable -m "not slow" $(PYTEST_ARGS); \
	fi

# everything, slow tests included (browsers playing whole rooms, Dask interrupts, 20k-citizen docking)
test-all: venv
	$(VPY) -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile --benchmark-disable $(PYTEST_ARGS)

# quick inner loop: skip slow and browser tests
test-fast: venv
	$(VPY) -m pytest -q -m "not slow and not browser" --benchmark-disable $(PYTEST_ARGS)

bench: venv
	$(VPY) -m pytest benchmarks --benchmark-only -p no:xdist --timeout=0 $(PYTEST_ARGS)
	$(VBIN)/civsim bench

app: venv
	$(VBIN)/civsim app

lint: venv
	$(VBIN)/ruff check .

# the Debian chromium used by browser tests (needs root or sudo; CI runs it)
browser:
	bash scripts/install_browser.sh

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache .hypothesis tests/artifacts
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) runs .benchmarks
