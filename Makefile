# Two commands on a fresh machine: `make run` and `make test`. Everything else here is a habit.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.12 python3.13 python3.11 python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 3000
SYSTEM_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: install run test unit integration functions infra e2e perf perf-scale mutation lint format mypy openapi \
	compare-openapi cfn-lint check clean fuzz test-pooled test-supabase clients

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11+ is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install ## the API with demo data on an embedded PostgreSQL (DATABASE_URL to use a server instead)
	$(BIN)/isp-billing serve --demo --port $(PORT)

test: install clients ## the whole default suite (benchmarks excluded)
	$(BIN)/pytest

# The pinned npm packages of the generated-client test and the spec lint (tests/infra/test_generated_clients.py),
# from infra/clients/package-lock.json; skipped, saying so, where Node is not installed.
CLIENTS_STAMP := infra/clients/node_modules/.package-lock.json
clients:
	@if command -v npm >/dev/null 2>&1; then \
		test $(CLIENTS_STAMP) -nt infra/clients/package-lock.json || \
		npm ci --prefix infra/clients --no-audit --no-fund --ignore-scripts; \
	else echo "Node.js is not installed: the generated TypeScript client and the spec lint are skipped"; fi

unit: install
	$(BIN)/pytest tests/unit
integration: install
	$(BIN)/pytest tests/integration
functions: install
	$(BIN)/pytest tests/functions
infra: install clients
	$(BIN)/pytest tests/infra
e2e: install
	$(BIN)/pytest tests/e2e
test-pooled: install ## integration + function suites through a real PgBouncer (transaction mode) on :6432
	infra/pgbouncer/run-pooled.sh $(BIN)/pytest tests/integration tests/functions -q -p no:randomly
perf: install ## benchmarks: each prints its figure next to a floor measured in the same run
	$(BIN)/pytest tests/perf -m perf -s -p no:randomly
# SCALE sets the book (customers, owing invoices, services); 100000 for a quick check. Each benchmark runs
# under nice -n 19 in a database of its own on the machine's PostgreSQL, dropped afterwards.
SCALE ?= 1000000
perf-scale: install ## million-customer month end, debit-order run, usage write path (SCALE=100000 for a quick check)
	DATABASE_URL=$(SYSTEM_DATABASE_URL) MONTH_END_SCALE_CUSTOMERS=$(SCALE) DEBIT_ORDER_PERF_COLLECTIONS=$(SCALE) \
	  USAGE_SCALE_SERVICES=$(SCALE) nice -n 19 $(BIN)/pytest tests/perf/scale tests/perf/test_debit_order_perf.py \
	  -m 'perf_scale or perf' -s -p no:randomly
mutation: install ## mutation scores of the rule modules (infra/mutation/modules.toml); MODULES="money auth" for some
	$(BIN)/python infra/mutation/run.py $(MODULES)

# The integration suite on a database shaped like a Supabase project's (infra/supabase_shape: Supabase's
# roles, GoTrue's auth.users, migrations applied by a non-superuser owner, the code as the runtime role),
# built on the PostgreSQL we are superuser of at SYSTEM_DATABASE_URL; then `isp-billing doctor` on a fresh one.
test-supabase: install
	@started=$$(date +%s); \
	ISP_BILLING_TEST_SHAPE=supabase DATABASE_URL="$(SYSTEM_DATABASE_URL)" $(BIN)/pytest tests/integration && \
	$(BIN)/python -m isp_billing_cli.supabase_shape check "$(SYSTEM_DATABASE_URL)" && \
	echo "== supabase-shaped pass: $$(( $$(date +%s) - started ))s =="

fuzz: install ## schemathesis against `serve --demo` as each demo role and without a token (bounded; ~4 min)
	$(BIN)/python infra/fuzz/run.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
mypy: install
	$(BIN)/mypy layers/core/python/isp_billing infra/cli functions
cfn-lint: install
	$(BIN)/cfn-lint template.yaml
openapi: install
	$(BIN)/isp-billing openapi
	$(BIN)/isp-billing job-schedules
compare-openapi: install
	$(BIN)/isp-billing openapi --check

check: lint mypy cfn-lint compare-openapi test ## everything, before a change goes in

clean:
	rm -rf $(VENV) .isp-billing .pytest_cache .mypy_cache .ruff_cache
