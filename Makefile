# Entry points: `make run` (set up + start on the embedded store), `make test` (set up + run
# every test), `make lint`, `make bench`. CI calls these unchanged.

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

.PHONY: install run test lint format bench clean

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Creates .venv from uv.lock exactly (fails if pyproject.toml and uv.lock disagree).
install: $(UV)
	$(UV) sync --locked --quiet

run: install
	$(VENV)/bin/runyard serve

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

bench: install
	$(VENV)/bin/python bench/run_latency.py

clean:
	rm -rf .venv .uv .pytest_cache .mypy_cache .ruff_cache
