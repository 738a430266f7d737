# dhcpbridge — the two commands of the README (`make demo`, `make test`) plus lint and bench.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup system-deps demo test lint format bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,speed]'
	touch $@

# Debian packages for the end-to-end tests and the benchmark (real clients, relay, perfdhcp, Kea).
system-deps:
	bash scripts/install-system-deps.sh

demo: setup
	$(VENV)/bin/dhcpbridge demo

lint: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

format: setup
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

test: setup system-deps lint
	bash scripts/run-tests.sh

bench: setup system-deps
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
