# ks-engine: two commands on a fresh machine. `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint unit integration e2e faults docs bench bench-quick clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,postgres]'
	touch $(STAMP)

# The console is for people (tokens, the demo's story); the engine's JSON log goes to a file.
run: $(STAMP)
	KS_LOG_FILE="$${KS_LOG_FILE:-$${KS_DATA_DIR:-var}/ks.log}" $(BIN)/ks run --demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# The slowest tests are listed at the end, so a run's output says where its time went.
# The tests run in TEST_WORKERS pytest-xdist processes, one test file per process at a time:
# most of them wait on servers (NATS, PostgreSQL, a browser), so three keep two cores busy.
# The fault tests (kills, outages, two intakes under load) then run alone.
TEST_WORKERS ?= 3
test: lint chromium
	$(BIN)/pytest -q --durations=20 -n $(TEST_WORKERS) --dist loadfile -m "not faults" tests
	$(BIN)/pytest -q --durations=5 -m faults tests

# The dashboard's browser tests drive Debian's Chromium (Playwright never downloads one).
# Without apt the install is reported and the browser tests fail saying what is missing.
CHROMIUM := /usr/bin/chromium
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else \
			echo "Chromium is missing and cannot be installed here (apt-get as root is needed):"; \
			echo "the browser tests will fail until 'apt-get install -y chromium' is run."; \
		fi; \
	fi

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

faults: $(STAMP)
	$(BIN)/pytest -q -m faults tests

docs: $(STAMP)
	$(BIN)/ks docs write

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache

bench: $(STAMP)
	$(BIN)/python -m bench.run

bench-quick: $(STAMP)
	$(BIN)/python -m bench.run --quick
