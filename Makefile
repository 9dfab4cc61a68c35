# MissionOS developer commands. A fresh machine needs only Python 3.11+: uv is installed on first use.
#   make run    install, migrate, load the demo organization, serve on http://127.0.0.1:8000
#               (the web server, a Celery worker and beat, and the demo Airtable base: run_demo)
#   make test   install, run the test suite (extra pytest arguments: make test PYTEST_ARGS="-k sync")

PYTHON ?= python3
PYTEST_ARGS ?=
# The suite runs in two processes (pytest-xdist; the browser and worker tests together in one of
# them, in turn: tests/parallel.py). PYTEST_WORKERS=0 runs it in this one.
PYTEST_WORKERS ?= 2

# Recursive (=) on purpose: re-evaluated after `ensure-uv` has installed uv. Order: uv on PATH,
# uv from pip --user or the standalone installer in ~/.local/bin, else uv as a module.
UV = $(shell command -v uv 2>/dev/null || { test -x "$$HOME/.local/bin/uv" && echo "$$HOME/.local/bin/uv"; } || echo "$(PYTHON) -m uv")

.DEFAULT_GOAL := help
.PHONY: help ensure-uv install run test lint format

help:
	@echo "make run     install, migrate, seed the demo data, serve http://127.0.0.1:8000"
	@echo "make test    install and run the tests (PYTEST_ARGS=... passes arguments to pytest)"
	@echo "make lint    ruff check + ruff format --check + lint-imports (the layers)"
	@echo "make format  ruff check --fix + ruff format"
	@echo "make install uv sync --frozen (installs uv first when it is missing)"

# pip refuses --user installs on distributions that mark their Python "externally managed"
# (PEP 668, e.g. Debian 12); a --user install of uv cannot break system packages, so retry with
# --break-system-packages, and fall back to uv's standalone installer when pip itself is absent.
ensure-uv:
	@command -v uv >/dev/null 2>&1 || test -x "$$HOME/.local/bin/uv" || $(PYTHON) -m uv --version >/dev/null 2>&1 || { \
		echo "uv not found: installing it"; \
		$(PYTHON) -m pip install --user --quiet uv 2>/dev/null \
		|| $(PYTHON) -m pip install --user --quiet --break-system-packages uv \
		|| curl -LsSf https://astral.sh/uv/install.sh | sh; \
	}

install: ensure-uv
	$(UV) sync --frozen

run: install
	$(UV) run python manage.py migrate --noinput
	$(UV) run python manage.py seed_demo
	@echo ""
	@echo "MissionOS: http://127.0.0.1:8000"
	@echo ""
	$(UV) run python manage.py run_demo --reload

test: install
	$(UV) run pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: install
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run lint-imports

format: install
	$(UV) run ruff check --fix .
	$(UV) run ruff format .
