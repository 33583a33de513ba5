# orderflow — every command a developer or CI needs. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
PORT ?= 3000
# make test runs on this many pytest-xdist workers: tests/local whole on one, tests/e2e in up to
# four groups on as many others, each with its own local cloud (--dist loadgroup, see
# tests/conftest.py). More workers than a 2-core machine's cores pay: end-to-end tests mostly wait
# (on 2 cores, 5 workers ran the suite in 236 s, 4 in 260 s, 6 in 242 s).
TEST_WORKERS ?= 5
EXAMPLES ?= 300
SCHEDULES ?= 20
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 1
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
# Python's own bytecode cache, even where the environment turns it off: pytest keeps each test
# module's assertion rewrite there, which every test process would otherwise redo (collecting the
# suite took 8.4 s of CPU a process without it, 3.8 s with it). Bytecode never reaches an asset
# (cdk/common.py excludes __pycache__) nor a cloud assembly's fingerprint (local/synth_cache.py).
unexport PYTHONDONTWRITEBYTECODE
# cdk.json's app is `python3 app.py`: the project's virtualenv comes first, as when it is activated.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help chromium test test-fast fuzz local synth deploy destroy lint format typecheck nag cfn-lint bench bench-pairs chaos compare check redrive replay schemas catalog clean

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NPM_STAMP)

# The web console's browser test (tests/e2e/test_console.py) drives Debian's chromium: installed here
# when missing, as root or with passwordless sudo. Without it that test skips, and fails when CI is set.
chromium:
	@if command -v chromium >/dev/null 2>&1 || [ -n "$$CHROMIUM" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then echo "chromium: no apt-get here; install chromium or set CHROMIUM=<browser binary>"; exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo"; \
	else echo "chromium: not root and no passwordless sudo; install chromium to run the console's browser test"; exit 0; fi; \
	echo "installing chromium for the console's browser test"; \
	$$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null \
	  || echo "chromium: apt-get failed; the console's browser test will say so"

test: $(STAMP) chromium ## set up everything, then run every test (unit, infrastructure, saga, end-to-end) in parallel; prints the slowest
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=15 $(PYTEST_ARGS)

test-fast: $(STAMP) ## the inner loop: unit and infrastructure tests only (no local cloud)
	$(PY) -m pytest tests/unit tests/infra -n $(TEST_WORKERS) --dist loadgroup --durations=5 $(PYTEST_ARGS)

fuzz: $(STAMP) ## explore longer than make test: the API with fresh random requests, and more fault schedules (EXAMPLES=300 SCHEDULES=20; ORDERFLOW_FUZZ_SEED=<n> replays)
	HYPOTHESIS_PROFILE=default ORDERFLOW_FUZZ_EXAMPLES=$(EXAMPLES) ORDERFLOW_SCHEDULE_EXAMPLES=$(SCHEDULES) \
	  $(PY) -m pytest tests/e2e/test_fuzz.py tests/e2e/test_fault_schedules.py $(PYTEST_ARGS)

local: $(STAMP) ## set up everything, synthesize, and run the app on the local cloud (API on 127.0.0.1:3000, web console on /_console; PORT=... to change)
	$(PY) -m local serve --port $(PORT) --mount /_console=console.mount:mount --hint 'make check ENDPOINT={endpoint}'

synth: $(STAMP) $(NPM_STAMP) ## synthesize the CloudFormation template with cdk-nag (offline)
	npx cdk synth --quiet

deploy: $(STAMP) $(NPM_STAMP) ## deploy to the AWS account of your credentials (AWS_REGION selects the region; CDK_ARGS="-c stage=dev")
	npx cdk deploy $(or $(CDK_ARGS),--require-approval broadening)

destroy: $(STAMP) $(NPM_STAMP) ## remove the stack (tables are retained)
	npx cdk destroy

lint: $(STAMP) ## ruff lint and format check
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP) ## apply ruff fixes and formatting
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

typecheck: $(STAMP) ## mypy over functions/, cdk/, local/, ops/ and console/
	$(PY) -m mypy functions cdk local ops console

cfn-lint: synth ## cfn-lint the synthesized template
	$(VENV)/bin/cfn-lint cdk.out/Orderflow.template.json

bench: $(STAMP) ## the speed figures in one run beside the previous run's: make local start-up, both paths' throughput and latency on the local cloud, every cold start (ARGS=--suite also times make test) -> docs/benchmarks.md
	$(PY) -m ops.bench $(ARGS)

bench-pairs: $(STAMP) ## what a change did, on a machine that drifts: the orchestrated workload on revision AGAINST and on this tree, alternating (AGAINST=<commit> PAIRS=3 ORDERS=100)
	@test -n "$(AGAINST)" || { echo "usage: make bench-pairs AGAINST=<commit> [PAIRS=3] [ORDERS=100]" >&2; exit 2; }
	$(PY) -m ops.bench_pairs --against "$(AGAINST)" --pairs $(or $(PAIRS),3) --orders $(or $(ORDERS),100)

chaos: $(STAMP) ## orders on both paths under every failure class and an outage; redrive, reconciler, invariant checker (ARGS="--orders 300 --failure-rate 0.2")
	$(PY) -m ops.chaos $(ARGS)

compare: $(STAMP) ## both paths under one seeded workload on a fresh local cloud: time to a decision, cost per million orders, coupling, visibility, reliability, complexity -> docs/comparison.md and its charts (ARGS="--orders 30 --seed 2026")
	$(PY) -m ops.compare $(ARGS)

OPS := $(PY) -m ops $(if $(ENDPOINT),--endpoint-url $(ENDPOINT)) $(if $(RESOURCES),--resources $(RESOURCES))

check: $(STAMP) ## the invariant checker (ENDPOINT=http://127.0.0.1:<port> for the local cloud; ARGS=--settled)
	$(OPS) check $(ARGS)

redrive: $(STAMP) ## move DLQ messages back (DLQ="shipping payments", default all; ARGS=--dry-run)
	$(OPS) redrive $(or $(DLQ),--all) $(ARGS)

replay: $(STAMP) ## replay the bus archive (SINCE=ISO [UNTIL=ISO] [ORDER=order id])
	@test -n "$(SINCE)" || { echo "usage: make replay SINCE=<ISO time> [UNTIL=<ISO time>] [ORDER=<order id>] [ENDPOINT=...]" >&2; exit 2; }
	$(OPS) replay --since $(SINCE) $(if $(UNTIL),--until $(UNTIL)) $(if $(ORDER),--order $(ORDER))

schemas: $(STAMP) ## regenerate the event JSON Schemas from the models
	cd functions && ../$(PY) -m shared.schemas

clean: ## remove generated output (keeps the virtualenv)
	rm -rf cdk.out .local .pytest_cache .ruff_cache .mypy_cache

catalog: $(STAMP) ## regenerate docs/events.md from the event models and the template's rules
	$(PY) -m cdk.catalog
