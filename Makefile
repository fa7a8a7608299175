# The two commands: `make demo` and `make test`. Both install what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_DB ?= var/demo.db
DEMO_SEED ?= 42

.PHONY: demo test install lint types unit integration e2e bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	mkdir -p var
	OMS_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/oms demo --seed $(DEMO_SEED) --reset
	OMS_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/oms serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types: install
	$(BIN)/mypy

test: lint types
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/stock_ingest.py --quick
	$(BIN)/python bench/availability.py --quick

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
