# svduty: `make run` for the demo end to end, `make test` for the test suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA_DIR ?= svduty-data
REAL_DIR ?= svduty-real
SHARED ?= ../shared/data
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: run real test bench lint format setup clean

# Create .venv and install svduty with every pinned dependency (again only if pyproject changed).
$(STAMP): pyproject.toml
	@bash scripts/system-deps.sh
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[spark,dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

# Set up the environment only.
setup: $(STAMP)

# Run the main job: generate and load the demo partnership, then its needs assessment.
run: $(STAMP)
	@bash scripts/run-demo.sh "$(DATA_DIR)"

# Load the real public data in ../shared/data (read in place) into a folder of its own.
real: $(STAMP)
	@bash scripts/run-real.sh "$(REAL_DIR)" "$(SHARED)"

# Run the test suite (DuckDB, Spark local, a throwaway PostgreSQL, real files from ../shared).
test: $(STAMP)
	@pg="$$(bash scripts/postgres.sh)" || echo "make: no PostgreSQL server; the postgres tests will skip" >&2; \
	eval "$$pg"; $(BIN)/python -m pytest

# Run the benchmarks; they print figures and ratios against a baseline measured in the same run.
bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/synth.py
	$(BIN)/python benchmarks/sna.py
	$(BIN)/python benchmarks/linkage.py
	$(BIN)/python benchmarks/web.py

# Check style and common mistakes.
lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

# Format the code.
format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

# Remove the environment and the default data folder.
clean:
	rm -rf $(VENV) $(DATA_DIR) $(REAL_DIR) .pytest_cache .ruff_cache
