# Developer shortcuts; run from the repository root.
#   make setup     install uv if missing, then every workspace package into .venv
#   make sandbox   run the sandbox pipeline (PROFILE=tiny|default|full, STEPS="...")
#   make test      run the test suite (TESTS="libs/utils/tests" to narrow it)
#   make lint      ruff check and format check, as CI and pre-commit do
#   make format    apply ruff fixes and formatting
#   make hooks     install the pre-commit hooks
#   make app       serve the results app (vizapp) for the sandbox pipeline

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# where `pip install --user uv` puts uv, for setup and for `pinto build`
export PATH := $(PATH):$(HOME)/.local/bin
PROFILE ?=
STEPS ?=
TESTS ?=

.PHONY: setup sandbox test lint format hooks app

setup:
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m pip install --user uv || pip install uv
	uv sync --all-packages --frozen || uv sync --all-packages

sandbox: setup
	cd projects/sandbox && $(BIN)/pinto run $(STEPS) $(if $(PROFILE),--profile $(PROFILE))

test: setup
	$(BIN)/pytest $(TESTS)

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

hooks: setup
	$(BIN)/pre-commit install

app:
	cd projects/sandbox && $(BIN)/vizapp --typeo pyproject.toml:vizapp
