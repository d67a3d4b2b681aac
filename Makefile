# Developer shortcuts; run from the repository root.
#   make setup     install uv if missing, then every workspace package into .venv
#   make sandbox   run the sandbox pipeline (PROFILE=tiny|default|full, STEPS="...")
#   make test      run the test suite (TESTS="libs/utils/tests" to narrow it),
#                  installing Debian's chromium (the app's browser test) and
#                  strace (the network guard of the offline test) if needed;
#                  then infer's and vizapp's tests in their own environments
#                  (make test-isolated)
#   make lint      ruff check, format check and the import contracts, as pre-commit does
#   make format    apply ruff fixes and formatting
#   make hooks     install the pre-commit hooks
#   make app       serve the results app (vizapp) for the sandbox pipeline
#                  (PROFILE=tiny|default|full: the profile whose results it shows)

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# where `pip install --user uv` puts uv, for setup and for `pinto build`
export PATH := $(PATH):$(HOME)/.local/bin
PROFILE ?=
STEPS ?=
TESTS ?=

.PHONY: setup browser tracer sandbox test test-isolated lint format hooks app

setup:
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m pip install --user uv || pip install uv
	uv sync --all-packages --frozen || uv sync --all-packages

sandbox: setup
	cd projects/sandbox && $(BIN)/pinto run $(STEPS) $(if $(PROFILE),--profile $(PROFILE))

# the app's browser test drives Debian's headless Chromium and its driver
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium and chromium-driver for the app's browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else \
		echo "the app's browser test needs Chromium and ChromeDriver: run" >&2; \
		echo "  sudo apt-get update && sudo apt-get install -y chromium chromium-driver" >&2; \
		exit 1; \
	fi

# the offline test watches every connect() of an inference run with strace
tracer:
	@if command -v strace >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's strace for the network guard of the offline test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace >/dev/null; \
	else \
		echo "the offline test needs strace: run" >&2; \
		echo "  sudo apt-get update && sudo apt-get install -y strace" >&2; \
		exit 1; \
	fi

test: setup browser tracer
	$(BIN)/pytest $(TESTS)
	$(if $(TESTS),,$(MAKE) --no-print-directory test-isolated)

# infer's and vizapp's tests again, each from the environment `pinto build`
# makes for that project alone, plus what the tests need (pytest, selenium, and
# lalsuite and onnx, with which aframe.search.testing makes test chirps and
# writes test models): they pass without the packages of any other project
# (no lightning, hermes or bilby)
ISOLATED ?= infer vizapp
# the test-only packages, at the versions of the workspace's environment
TEST_PINS = $(shell $(BIN)/python -c 'import importlib.metadata as m; \
	print(" ".join(f"{n}=={m.version(n)}" for n in ("lalsuite", "onnx")))' 2>/dev/null)
# (vizapp's inspector test runs the real infer in infer's own environment)
test-isolated: setup browser tracer
	cd projects/sandbox && $(BIN)/pinto build $(sort $(ISOLATED) infer)
	@for project in $(sort $(ISOLATED) infer); do \
		uv pip install -q --python projects/sandbox/$$project/.venv/bin/python \
			pytest selenium $(TEST_PINS) || exit 1; \
	done
	@for project in $(ISOLATED); do \
		env=projects/sandbox/$$project/.venv; \
		echo "$$project's tests in $$env"; \
		AFRAME_INFER_PYTHON=$(CURDIR)/projects/sandbox/infer/.venv/bin/python \
			$$env/bin/python -m pytest -q -p no:cacheprovider projects/sandbox/$$project/tests \
			|| exit 1; \
	done

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

hooks: setup
	$(BIN)/pre-commit install

app:
	cd projects/sandbox && $(BIN)/vizapp $(if $(PROFILE),--profile $(PROFILE)) --typeo pyproject.toml:vizapp
