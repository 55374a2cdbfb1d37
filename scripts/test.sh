#!/usr/bin/env bash
# The whole test suite: installs the npm packages of the Connect client test (a stock
# connect-es client), then runs every Rust test. The PostgreSQL and cluster tests also
# need SWITCHBOARD_TEST_POSTGRES_URL and SWITCHBOARD_TEST_NATS_URL (see README).
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v npm >/dev/null 2>&1; then
  (cd crates/switchboard-server/tests/connect && npm ci --no-audit --no-fund --loglevel=error)
else
  echo "npm not found: the Connect client test will say it is skipped" >&2
fi

cargo test --workspace "$@"
