# The front door. `make index` builds every distribution and serves it on the local
# index; `make test` runs lint, types and every test. Both work on a fresh machine with
# only Python 3.11+: uv is installed into .tools/ when it is not on PATH.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
PYTHON ?= python3
# Reproducible builds: every timestamp in a wheel comes from the last commit.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 315532800)
export SOURCE_DATE_EPOCH
export UV_LINK_MODE ?= copy
RUN := $(UV) run --locked --all-packages --all-extras
MYPY_TESTS := --allow-untyped-defs --allow-incomplete-defs --allow-untyped-calls \
  --allow-untyped-decorators --no-warn-return-any --check-untyped-defs --no-warn-unreachable \
  --explicit-package-bases --disable-error-code import-not-found \
  --disable-error-code import-untyped --disable-error-code comparison-overlap

.PHONY: help uv sync system-deps lint test test-fast test-all-python build index publish bench clean demo

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(CURDIR)/.tools/bin/uv:
	@echo "uv is not on PATH: installing it into .tools/"
	$(PYTHON) -m venv $(CURDIR)/.tools && \
	  $(CURDIR)/.tools/bin/python -m pip install --quiet --disable-pip-version-check 'uv>=0.9,<1' \
	|| { rm -rf $(CURDIR)/.tools && \
	  $(PYTHON) -m pip install --quiet --target $(CURDIR)/.tools/lib 'uv>=0.9,<1' && \
	  mkdir -p $(CURDIR)/.tools/bin && ln -sf $(CURDIR)/.tools/lib/bin/uv $(CURDIR)/.tools/bin/uv; }

uv: $(UV)  ## install uv into .tools/ if it is missing

sync: uv  ## create .venv with every package, extra and dev tool from uv.lock
	$(UV) sync --locked --all-packages --all-extras $(if $(QUIET),--quiet)

system-deps:  ## Debian packages the tests need (chromium, chromium-driver)
	bash tools/system-deps.sh

lint: sync  ## ruff and mypy --strict
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy tools benchmarks
	@# one run per package: every package has its own tests/typing/usage.py
	for pkg in packages/*/; do $(RUN) mypy $$pkg/src $$(ls -d $$pkg/tests/typing 2>/dev/null); done
	@# the tests themselves: every body type-checked (check_untyped_defs), test idioms allowed
	for pkg in packages/*/; do $(RUN) mypy $(MYPY_TESTS) $$pkg/tests; done
	@# the reference service: its source strict, its tests as the packages' tests
	$(RUN) mypy examples/reference-service/src
	$(RUN) mypy $(MYPY_TESTS) examples/reference-service/tests

# Two workers (the tests wait on services and subprocesses more than they compute); one
# file stays on one worker. Branch coverage of packages/*/src with the pyproject's floor.
PYTEST_RUN := -n 2 --dist loadfile --cov --cov-branch --cov-report=term:skip-covered

test: sync system-deps lint  ## lint, types, every package's tests (with branch coverage) and the end-to-end index test
	$(RUN) pytest -p no:cacheprovider $(PYTEST_RUN)

test-fast: sync  ## the tests without lint, e2e or browsers
	$(RUN) pytest -p no:cacheprovider -m "not e2e and not browser"

PYTHONS ?= 3.11 3.12 3.13
test-all-python: uv  ## the package tests on each of $PYTHONS (default 3.11 3.12 3.13; PATH or pyenv)
	@for v in $(PYTHONS); do \
	  py=$$(command -v python$$v 2>/dev/null); \
	  if [ -z "$$py" ] || ! "$$py" -c '' 2>/dev/null; then \
	    py=$$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/$$v*/bin/python$$v 2>/dev/null | tail -1); fi; \
	  if [ -z "$$py" ]; then echo "test-all-python: Python $$v not found; install it (pyenv install $$v)" >&2; exit 3; fi; \
	  echo "== Python $$v ($$py)"; \
	  UV_PROJECT_ENVIRONMENT=.venv-$$v $(UV) sync --locked --all-packages --all-extras --quiet --python $$py && \
	  UV_PROJECT_ENVIRONMENT=.venv-$$v $(UV) run --locked --all-packages --all-extras --quiet --python $$py \
	    pytest -p no:cacheprovider -q -m "not e2e and not browser" $(PYTEST_ARGS) packages || exit 1; \
	done

build: sync  ## build sdist + wheel of every package into dist/, then twine check and check-wheel-contents
	$(RUN) $(if $(QUIET),--quiet) python tools/build.py $(if $(QUIET),--quiet)

index: uv  ## check the port, build, then serve the index on http://localhost:28081 (Ctrl-C stops it)
	@$(PYTHON) tools/index.py serve --check-port
	@echo "index: building every package (make build) ..."
	@$(MAKE) build QUIET=1
	@$(RUN) --quiet python tools/index.py serve --root dist

publish: build  ## upload dist/ to $MAESTRO_INDEX_URL (ARGS=--dry-run to list only)
	$(RUN) python tools/publish.py $(ARGS)

bench: sync  ## run every benchmark and print the ratios against the anchors
	@for b in benchmarks/[!_]*.py; do echo "== $$b"; $(RUN) python $$b; done

demo: sync  ## the orders reference service on one machine (SQLite, in-process cache and broker)
	cd examples/reference-service && $(RUN) python -m reference_service.demo

clean:  ## remove build output and caches
	rm -rf dist build .mypy_cache .ruff_cache .pytest_cache
