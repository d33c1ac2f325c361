#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Grafana dashboard's SQL against the real schema: a scratch database with the dashboard
# fixtures and a rejected message, then grafana_check.py.
#
#   grafana_test.sh TLSRPT_COLLECTOR_BIN
set -euo pipefail
bin=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
: "${TLSRPT_TEST_PG_ADMIN_URL:?not set: start the harness with eval \"\$(scripts/services.sh start)\"}"

db=tlsrpt_grafana_$$
work=$(mktemp -d)
cleanup() {
  psql -qAtX "$TLSRPT_TEST_PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
psql -qAtX "$TLSRPT_TEST_PG_ADMIN_URL" -c "CREATE DATABASE $db" >/dev/null
export TLSRPT_DATABASE_URL="${TLSRPT_TEST_PG_ADMIN_URL%/*}/$db"
export TLSRPT_MIGRATIONS_DIR="$src/migrations"
unset TLSRPT_CONFIG
run() { "$bin" --log-level warn "$@"; }

run migrate >/dev/null
python3 "$src/tests/dashboard/fixtures.py" "$work/normal" >/dev/null
run ingest "$work/normal"
printf '{"policies": [' >"$work/broken.json"
run ingest "$work/broken.json" 2>/dev/null && { echo "a broken report was not rejected" >&2; exit 1; }
run summary --format json --days 30 --top 1000 >"$work/summary.json"
run summary --format json --days 30 --top 1000 --domain example.net >"$work/summary-net.json"
python3 "$here/grafana_check.py" "$src/packaging/grafana/tlsrpt-collector.json" \
  "$TLSRPT_DATABASE_URL" "$work/summary.json" "$work/summary-net.json"
