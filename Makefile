# giftbot: every target sets up .venv on first use, so on a fresh machine the command alone is enough.
#
#   make demo    a scripted session against SimCord's in-memory Discord (no token needed)
#   make test    lint, format check, type check, Dockerfile lint, tests, the demo, a quick bench
#   make bench   the benchmark suite: prints a table, writes bench/results.json (docs/benchmarks.md)
#   make run     the real bot (needs DISCORD_TOKEN; see README.md)
#   make clean   remove the venv and caches (never the database in data/)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

# The stamp's name carries a checksum of pyproject.toml, so editing the dependencies reinstalls.
STAMP := $(VENV)/.installed-$(firstword $(shell cksum pyproject.toml))
DEMO_LOG := $(VENV)/demo.log

.DEFAULT_GOAL := help
.PHONY: help install demo test lint typecheck dockerlint pytest demo-check bench bench-check run clean

help:
	@sed -n 's/^#   //p' Makefile

$(STAMP):
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check --quiet -e ".[dev]"
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m demo

test: lint typecheck dockerlint pytest demo-check bench-check

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

dockerlint: $(STAMP)
	$(BIN)/hadolint Dockerfile

pytest: $(STAMP)
	$(BIN)/pytest -q

# The demo runs quietly inside `make test`; its transcript is shown only when it fails.
demo-check: $(STAMP)
	@echo "$(PY) -m demo > $(DEMO_LOG)"
	@$(PY) -m demo > $(DEMO_LOG) 2>&1 || { cat $(DEMO_LOG); echo "make test: the demo failed (above)"; exit 1; }
	@echo "demo ok ($$(wc -l < $(DEMO_LOG)) lines in $(DEMO_LOG))"

bench: $(STAMP)
	$(PY) -m bench

# Every benchmark step at toy sizes (under a minute), so the suite never rots; its figures don't count.
# The A/B tool too (the last commit against the working tree, one round), the GIL and process-split probes,
# and the count of log pages a gift writes.
bench-check: $(STAMP)
	$(PY) -m bench --quick
	$(PY) -m bench.ab HEAD --runs 1 --gifts 1000 --wallets 1000
	$(PY) -m bench.gil --rounds 1 --gifts 1000 --wallets 1000
	$(PY) -m bench.split --rounds 1 --gifts 1000 --wallets 1000
	$(PY) -m bench.pages --gifts 1000 --wallets 1000

run: $(STAMP)
	$(BIN)/giftbot run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis build dist *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
