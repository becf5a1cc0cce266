# Entry points: `make run` (set up + start on the embedded store), `make test` (set up + run
# every test), `make lint`, `make bench`. CI calls these unchanged.

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

.PHONY: install sandbox browser compat run test lint format bench clean

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Creates .venv from uv.lock exactly (fails if pyproject.toml and uv.lock disagree).
install: $(UV) sandbox
	$(UV) sync --locked --quiet

# Kernels run in a bubblewrap sandbox (docs/security.md). As root (CI, a fresh machine) it
# is installed here; elsewhere, without it, Runyard warns at start-up and runs kernels
# unconfined, and the sandbox tests skip with a message (and fail when CI=true).
sandbox:
	@if ! command -v bwrap >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's bubblewrap to sandbox notebook kernels"; \
	    (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null 2>&1 || \
	     (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null)); \
	  else \
	    echo "bubblewrap is not installed: kernels will run without a sandbox (apt-get install bubblewrap)"; \
	  fi; \
	fi

run: install
	$(VENV)/bin/runyard serve

# The browser tests drive Debian's Chromium. As root (CI, a fresh machine) it is installed
# here; elsewhere, without it, those tests skip with a message (and fail when CI=true).
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "chromium is not installed: browser tests will skip (apt-get install chromium)"; \
	  fi; \
	fi

# The published Hex clients that tests/compat drives Runyard with (the Airflow provider, the
# Dagster integration, Hex's Python SDK and CLI), each in a virtualenv of its own under
# .compat/, installed exactly from compat/<client>/uv.lock.
COMPAT_CLIENTS := hex-toolkit dagster-hex airflow-provider-hex
compat: $(UV)
	@for client in $(COMPAT_CLIENTS); do \
	  UV_PROJECT_ENVIRONMENT=$(CURDIR)/.compat/$$client \
	    $(UV) sync --locked --quiet --project compat/$$client || exit 1; \
	done

test: install browser compat
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

# Every benchmark, then one table of their figures (bench/all.py). The API load comes from
# Debian's wrk: as root it is installed here; elsewhere, without it, bench/api_load.py falls
# back to an httpx loop that saturates long before the server does, and says so.
bench: install
	@if ! command -v wrk >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's wrk to load the API in bench/api_load.py"; \
	    (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 || \
	     (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null)); \
	  else \
	    echo "wrk is not installed: bench/api_load.py loads the API from httpx (apt-get install wrk)"; \
	  fi; \
	fi
	$(VENV)/bin/python bench/all.py

clean:
	rm -rf .venv .uv .compat .pytest_cache .mypy_cache .ruff_cache
