#!/usr/bin/env bash
# The whole test suite: installs the npm packages of the Connect client test (a stock
# connect-es client), checks and tests the TypeScript SDK, runs every Rust test, then
# checks the web client (vendor/ up to date, type-check) and drives it in Chromium against
# the server binary (skipped, with a reason, where no Chromium is found). The
# PostgreSQL and cluster tests also need SWITCHBOARD_TEST_POSTGRES_URL and
# SWITCHBOARD_TEST_NATS_URL (see README).
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v npm >/dev/null 2>&1; then
  (cd crates/switchboard-server/tests/connect && npm ci --no-audit --no-fund --loglevel=error)
  # The TypeScript SDK: generated types match proto/, type-check, unit tests.
  (cd clients/typescript && npm ci --no-audit --no-fund --loglevel=error && npm run --silent check && npm test --silent)
else
  echo "npm not found: the Connect client test and the TypeScript SDK checks are skipped" >&2
fi

cargo test --workspace "$@"

if command -v npm >/dev/null 2>&1; then
  # The web client's browser tests run the binary the cargo tests built.
  cargo build --bin switchboard
  (cd clients/web && npm ci --no-audit --no-fund --loglevel=error && npm run --silent check && npm test --silent)
else
  echo "npm not found: the web client's checks and browser tests are skipped" >&2
fi
