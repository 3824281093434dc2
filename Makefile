# Saferhub: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-sqlite test-postgres ci setup demo bench bench-tracker bench-performance bench-marac bench-matac clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(BIN)/.installed node_modules/.installed

demo: setup
	$(BIN)/saferhub migrate --no-input
	$(BIN)/saferhub demo load

# The server, with the task worker and the retention scheduler beside it (`saferhub serve`).
run: demo
	@$(BIN)/saferhub demo logins
	@echo "Serving Saferhub on http://$(HOST):$(PORT)/ with the task worker and scheduler (Ctrl-C to stop)"
	SAFERHUB_DEBUG=1 $(BIN)/saferhub serve $(HOST):$(PORT)

# The whole suite. SAFERHUB_DATABASE_URL picks the database (SQLite when unset).
test: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

# test-sqlite: the suite on SQLite whatever SAFERHUB_DATABASE_URL says. test-postgres: the suite
# on a throwaway PostgreSQL 15 cluster on 127.0.0.1:54329. ci: both, as CI runs them (.ci/run).
test-sqlite:
	bash .ci/run sqlite

test-postgres:
	bash .ci/run postgres

ci:
	bash .ci/run

# Benchmarks (benchmarks/README.md): never part of `make test`. bench runs both.
bench: bench-tracker bench-performance

bench-tracker: setup
	$(BIN)/python benchmarks/tracker_bench.py

bench-performance: setup
	$(BIN)/python benchmarks/performance_bench.py

bench-marac: setup
	$(BIN)/python benchmarks/marac_bench.py

bench-matac: setup
	$(BIN)/python benchmarks/matac_bench.py

clean:
	rm -rf $(VENV) node_modules var
