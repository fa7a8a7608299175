# The two commands: `make demo` and `make test`. Both install what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_DB ?= var/demo.db
DEMO_SEED ?= 42
HTMX_VERSION := 2.0.8
VENDOR := src/openoms/web/static/vendor
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test screenshots install compiled chromium lint types unit integration e2e bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# The store app's front-end library, from the npm registry at install time (not kept in git).
$(VENDOR)/htmx.min.js:
	mkdir -p $(VENDOR) var/npm
	cd var/npm && npm pack htmx.org@$(HTMX_VERSION) --silent >/dev/null
	tar -xzf var/npm/htmx.org-$(HTMX_VERSION).tgz -C var/npm package/dist/htmx.min.js
	cp var/npm/package/dist/htmx.min.js $@

install: $(STAMP) $(VENDOR)/htmx.min.js compiled

# The promise's hot path compiled to C with mypyc (src/openoms/compiled.py), again whenever one
# of its sources changed: until then the sources run, with a warning. Without a C compiler the
# sources run (slower, the same answers); CI checks that the build is in use.
compiled: $(STAMP)
	@$(BIN)/python -c "import sys, openoms.compiled as c; sys.exit(c.state() != c.State.COMPILED)" \
		2>/dev/null || $(BIN)/python -c "import openoms.compiled as c; c.main()" \
		|| echo "warning: the hot path could not be compiled (a C compiler?): running the sources"

# The browser tests drive Debian's chromium (Playwright's own download does not work here).
chromium:
	command -v chromium >/dev/null || ($(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null)

demo: install
	mkdir -p var
	OMS_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/oms demo --seed $(DEMO_SEED) --reset
	OMS_DATABASE_URL=sqlite:///$(DEMO_DB) $(BIN)/oms serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types: install
	$(BIN)/mypy

test: lint types chromium
	$(BIN)/pytest
	# The unit tests again on the sources alone: the compiled modules must mean the same.
	OMS_PURE_PYTHON=1 $(BIN)/pytest -q tests/unit

# The store app's screenshots in docs/store-app/, made again by its e2e tests.
screenshots: install chromium
	OMS_UPDATE_SCREENSHOTS=1 $(BIN)/pytest -q tests/e2e -k "store_app and sqlite"

bench: install
	$(BIN)/python bench/stock_ingest.py --quick
	$(BIN)/python bench/availability.py --quick

clean:
	rm -rf $(VENV) var build .pytest_cache .mypy_cache .ruff_cache src/openoms/compiled.json
	find src -name '*.so' -delete
