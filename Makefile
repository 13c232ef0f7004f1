# Everything bootstraps from a plain Python 3.11: uv is installed into .tools/ if missing.
PYTHON ?= python3.11
UV_VERSION := 0.13.8
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS := never

.PHONY: install run test lint bench clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

install: $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)

## Install, create the SQLite database, seed demo data, serve on http://127.0.0.1:8000
run: install
	.venv/bin/hraniteli serve --demo

## Install and run every check and test (SQLite, then PostgreSQL when reachable; required in CI)
test: install
	bash scripts/test-all

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

## Benchmarks (docs/performance.md); wrk is the HTTP load generator, installed here if missing (root)
bench: install
	command -v wrk >/dev/null || ( [ "$$(id -u)" = 0 ] && apt-get update && apt-get install -y wrk ) || true
	.venv/bin/python bench/schedule_endpoints.py
	.venv/bin/python bench/matching.py
	.venv/bin/python bench/delivery.py

clean:
	rm -rf .venv .tools var .pytest_cache .mypy_cache .ruff_cache
