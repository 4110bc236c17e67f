# Two commands on a fresh machine: `make demo` and `make test`. Needs only python3 and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUNTIME): pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	touch $@

$(DEV): pyproject.toml | $(BIN)/python
	$(PIP) install -e ".[dev]"
	touch $@ $(RUNTIME)

demo: $(RUNTIME)
	$(BIN)/frontline demo $(ARGS)

test: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(DEV)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

bench: $(DEV)
	$(BIN)/python bench/detect_eval.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache frontline-demo.db*
