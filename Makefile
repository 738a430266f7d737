# dhcpbridge — the two commands of the README (`make demo`, `make test`) plus lint, bench and fuzz.
#   make fuzz    atheris on the wire decoders, the v6 relay unwrap and both engines (fuzz/):
#                FUZZ_SECONDS (600) and FUZZ_RUNS (10000000) per target, whichever ends first;
#                FUZZ_TARGETS (all), FUZZ_JOBS (1 process at a time); crashes in .fuzz/crashes/
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

NATIVE_SOURCES := $(shell $(PYTHON) -c "import runpy; print(' '.join('src/dhcpbridge/' + m for m in runpy.run_path('src/dhcpbridge/_native.py')['MODULES']))" 2>/dev/null)

.PHONY: setup native pure system-deps demo test lint format bench fuzz image clean

setup: $(VENV)/.installed $(VENV)/.native

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,speed]'
	touch $@

# The hot path compiled with mypyc (about 1.6x faster); rebuilt whenever one of its sources changes.
# Without a C compiler it warns and everything runs as pure Python.
$(VENV)/.native: $(VENV)/.installed src/dhcpbridge/_native.py $(NATIVE_SOURCES)
	$(PY) scripts/build_native.py
	touch $@

native:
	rm -f $(VENV)/.native
	$(MAKE) $(VENV)/.native

pure:
	$(PY) scripts/build_native.py --clean
	rm -f $(VENV)/.native

# Debian packages for the end-to-end tests and the benchmark (real clients, relay, perfdhcp, Kea).
system-deps:
	bash scripts/install-system-deps.sh

demo: setup
	$(VENV)/bin/dhcpbridge demo

lint: setup
	$(VENV)/bin/ruff check src tests bench scripts fuzz
	$(VENV)/bin/ruff format --check src tests bench scripts fuzz
	$(VENV)/bin/mypy

format: setup
	$(VENV)/bin/ruff format src tests bench fuzz
	$(VENV)/bin/ruff check --fix src tests bench fuzz

test: setup system-deps lint
	bash scripts/run-tests.sh

bench: setup system-deps
	$(PY) bench/run.py

# The container images (the Dockerfile's server, answer and harvester targets) with podman or
# docker, each run once; on a base made from Debian packages where no registry answers.
image:
	bash contrib/container/build-image.sh

# Coverage-guided fuzzing (atheris) of the pure-Python source; the corpora are then replayed
# through the compiled build. A short budget of the same targets runs in `make test`.
FUZZ_SECONDS ?= 600
FUZZ_RUNS ?= 10000000
FUZZ_TARGETS ?= wire4,wire6,relay6,engine4,engine6
FUZZ_JOBS ?= 1
fuzz: setup
	$(PY) -m fuzz.run --targets $(FUZZ_TARGETS) --seconds $(FUZZ_SECONDS) --runs $(FUZZ_RUNS) --jobs $(FUZZ_JOBS)

clean:
	$(PYTHON) scripts/build_native.py --clean
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .fuzz
