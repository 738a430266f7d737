#!/usr/bin/env bash
# Runs the whole test suite (what `make test` and CI run after setup and lint).
# As root, the end-to-end tests (network namespaces, real DHCP clients) are required: a missing
# tool fails them instead of skipping them. pytest's "no tests collected" (exit 5) fails too.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then
  export DHCPBRIDGE_REQUIRE_E2E=1
  bash scripts/ensure-services.sh  # PostgreSQL and Redis for the shared-store tests
fi
exec .venv/bin/python -m pytest -q "$@"
