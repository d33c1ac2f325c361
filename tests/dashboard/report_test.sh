#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `report --html` in a real browser: a scratch database with the fixtures of fixtures.py (and
# the hostile ones, and a rejected message), the file written by the program, and
# browser_check.py's checks against `summary --format json`. Screenshots go to OUT_DIR.
#
#   report_test.sh TLSRPT_COLLECTOR_BIN OUT_DIR
set -euo pipefail
bin=$1
out=$(realpath -m "$2")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
: "${TLSRPT_TEST_PG_ADMIN_URL:?not set: start the harness with eval \"\$(scripts/services.sh start)\"}"
command -v chromium >/dev/null || { echo "chromium is not installed (scripts/deps.sh)" >&2; exit 1; }

db=tlsrpt_dashboard_$$
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
python3 "$here/fixtures.py" "$work/normal" >/dev/null
python3 "$here/fixtures.py" "$work/hostile" --hostile >/dev/null
run ingest "$work/normal" "$work/hostile"
# A message that is rejected, for the messages page (exit 65 is its outcome, not a failure).
printf '{"organization-name": "<script>window.__pwned=9</script>", "policies": [' >"$work/broken.json"
rc=0
run ingest "$work/broken.json" 2>/dev/null || rc=$?
[[ $rc -eq 65 ]] || { echo "ingest of a broken report: exit $rc, expected 65" >&2; exit 1; }

# The badges are the monitor's readiness (tlsrpt.sts_readiness_at(), the rules of
# alerts.rules), the same rows `summary` judges by: under the same configuration the verdicts
# must be equal. The rules are relaxed so that the fixtures' 20 days give both verdicts.
printf 'alerts:\n  rules:\n    min_days: 1\n    min_reporters: 1\n    quiet_days: 1\n' >"$work/window.yaml"
run -c "$work/window.yaml" summary --format json --days 30 >"$work/summary.json"
mkdir -p "$out"
run -c "$work/window.yaml" report --html "$out/report.html" --days 30
run -c "$work/window.yaml" report --html "$out/report-example.com.html" --days 30 --domain example.com
grep -q 'id="finding-table"' "$out/report.html" || { echo "report.html: no findings" >&2; exit 1; }
grep -q 'Content-Security-Policy' "$out/report.html"
if grep -q -i -E '(src|href)="(https?:)?//' "$out/report.html"; then
  echo "report.html refers to an external resource" >&2
  exit 1
fi

# The checks must be able to fail: a page that runs a script and loads an image from elsewhere.
cat >"$work/planted.html" <<'HTML'
<!DOCTYPE html><html><body><table id="domain-table"><tbody></tbody></table>
<img src="http://192.0.2.1/pixel.png"><script>window.__pwned = 1</script></body></html>
HTML

python3 "$here/browser_check.py" --summary "$work/summary.json" --out "$out" \
  --expect-fail "planted=file://$work/planted.html" \
  "report=file://$out/report.html" "report-example.com=file://$out/report-example.com.html"
