# unitrace — run `make help` for the list of targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help run test lint fmt bench bench-commission bench-lookup bench-labels-zpl bench-labels-pdf clean bench-event-hash bench-supply bench-recalls bench-imports bench-public bench-sellthrough docs

help: ## Show this help
	@awk 'BEGIN{FS=":.*## "} /^[a-zA-Z_-]+:.*## /{printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP) ## Create .venv and install unitrace with its development tools

run: $(STAMP) ## Migrate ./unitrace.db (or $$UNITRACE_DATABASE_URL), load demo data if empty, serve on :8000
	$(BIN)/unitrace db upgrade
	$(BIN)/unitrace demo load --if-empty
	$(BIN)/unitrace serve

test: $(STAMP) ## Run the whole test suite (PostgreSQL too when UNITRACE_TEST_POSTGRES_URL is set)
	$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

docs: $(STAMP) ## Regenerate docs/csv.md from the CSV upload layouts
	$(BIN)/unitrace import docs -o docs/csv.md

lint: $(STAMP) ## ruff (lint + format check), mypy strict, import-linter layer contract
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: $(STAMP) ## Format and auto-fix with ruff
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: bench-lookup bench-commission bench-labels-zpl bench-labels-pdf bench-event-hash bench-supply bench-recalls bench-imports bench-public bench-sellthrough ## Run every benchmark (figures printed as name=value lines)

bench-commission: $(STAMP) ## Commission 1,000,000 units on fresh SQLite (and PostgreSQL when UNITRACE_BENCH_POSTGRES_URL is set)
	$(BIN)/python bench/bench_commission.py

bench-lookup: $(STAMP) ## Unit lookups by code through the service layer
	$(BIN)/python bench/bench_lookup.py

bench-labels-zpl: $(STAMP) ## ZPL for 1,000,000 labels; pre-flight scan check of 10,000 labels
	$(BIN)/python bench/bench_labels_zpl.py

bench-labels-pdf: $(STAMP) ## PDF of 100,000 finished-goods labels (Letter 30-up), vs bare QR encoding
	$(BIN)/python bench/bench_labels_pdf.py

bench-event-hash: $(STAMP) ## Canonical CBV 2.0 event hashes/s over the reference vectors, vs bare SHA-256
	$(BIN)/python bench/bench_event_hash.py

bench-supply: $(STAMP) ## Ship and receive a 10,000-unit pallet with one scan each; single-unit sales/s
	$(BIN)/python bench/bench_supply.py

bench-recalls: $(STAMP) ## Preview, activate and report a recall of a 100,000-unit batch among 1,000,000 units
	$(BIN)/python bench/bench_recalls.py

bench-imports: $(STAMP) ## Validate and apply a 1,000,000-row sales CSV (UNITRACE_BENCH_ROWS to change)
	$(BIN)/python bench/bench_imports.py

bench-public: $(STAMP) ## Public verification over HTTP with wrk (1,000,000 units): JSON and page req/s, p99, under enumeration
	$(BIN)/python bench/bench_public.py

bench-sellthrough: $(STAMP) ## Sell-through by product and store for a brand with 10,000,000 units (UNITRACE_BENCH_UNITS to change)
	$(BIN)/python -u bench/bench_sellthrough.py

clean: ## Remove the virtualenv and caches (keeps unitrace.db)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
