#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The dashboard as `run` serves it: a scratch database with the fixtures of fixtures.py (and
# the hostile ones, and a rejected message), the real program running with an `http:` section
# on a free loopback port and http.users set, then curl for what an HTTP client sees (basic
# auth, headers, escaping, methods, the other routes left open) and browser_check.py for what
# a browser sees, against `summary --format json`. Screenshots go to OUT_DIR.
#
#   served_test.sh TLSRPT_COLLECTOR_BIN OUT_DIR
set -euo pipefail
bin=$1
out=$(realpath -m "$2")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
: "${TLSRPT_TEST_PG_ADMIN_URL:?not set: start the harness with eval \"\$(scripts/services.sh start)\"}"
command -v chromium >/dev/null || { echo "chromium is not installed (scripts/deps.sh)" >&2; exit 1; }

db=tlsrpt_served_$$
work=$(mktemp -d)
pid=
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    wait "$pid" || true
  fi
  psql -qAtX "$TLSRPT_TEST_PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
  [[ -n ${KEEP:-} ]] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
psql -qAtX "$TLSRPT_TEST_PG_ADMIN_URL" -c "CREATE DATABASE $db" >/dev/null

export TLSRPT_DATABASE_URL="${TLSRPT_TEST_PG_ADMIN_URL%/*}/$db"
export TLSRPT_MIGRATIONS_DIR="$src/migrations"
unset TLSRPT_CONFIG
fail() {
  echo "FAIL $*" >&2
  exit 1
}

"$bin" --log-level warn migrate >/dev/null
python3 "$here/fixtures.py" "$work/normal" >/dev/null
python3 "$here/fixtures.py" "$work/hostile" --hostile >/dev/null
"$bin" --log-level warn ingest "$work/normal" "$work/hostile"
printf '{"organization-name": "<script>window.__pwned=9</script>", "policies": [' >"$work/broken.json"
rc=0
"$bin" --log-level warn ingest "$work/broken.json" 2>/dev/null || rc=$?
[[ $rc -eq 65 ]] || fail "ingest of a broken report: exit $rc, expected 65"

# A reader with a SHA-512 crypt(3) hash, as `openssl passwd -6` writes it.
hash=$(openssl passwd -6 -salt h20saltsalt 'correct horse')
# The readiness rule over time relaxed (as in report_test.sh), so that the fixtures' 20 days
# and the badges can be compared with `summary` under the same rules.
cat >"$work/config.yaml" <<YAML
alerts:
  rules:
    min_days: 1
    min_reporters: 1
    quiet_days: 1
http:
  listen: ["127.0.0.1:0"]
  users:
    - name: reader
      password_hash: "$hash"
YAML
"$bin" -c "$work/config.yaml" --log-level info run 2>"$work/run.log" &
pid=$!
port=
for _ in $(seq 1 300); do
  port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$work/run.log" | head -n1)
  [[ -n $port ]] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/run.log" >&2; fail "run ended before listening"; }
  sleep 0.1
done
[[ -n $port ]] || { cat "$work/run.log" >&2; fail "run did not listen within 30 s"; }
base=http://127.0.0.1:$port
good=(-u 'reader:correct horse')

# status BODY_FILE ARGS...: the HTTP status of one curl request, the body kept in BODY_FILE.
status() {
  local body=$1
  shift
  curl -sS --max-time 60 -o "$body" -D "$body.headers" -w '%{http_code}' "$@"
}
expect() {  # expect CODE WHAT ARGS...
  local want=$1 what=$2
  shift 2
  local got
  got=$(status "$work/body" "$@")
  [[ $got == "$want" ]] || fail "$what: HTTP $got, expected $want: $(head -c 300 "$work/body")"
}

# Basic auth (RFC 7617): nothing without the right name and password, and the challenge says so.
expect 401 "the overview without credentials" "$base/"
grep -qi '^WWW-Authenticate: Basic realm="tlsrpt-collector"' "$work/body.headers" ||
  fail "401 without a Basic challenge"
expect 401 "a wrong password" -u 'reader:wrong' "$base/"
expect 401 "an unknown user" -u 'someone:correct horse' "$base/"
expect 401 "a malformed Authorization header" -H 'Authorization: Basic %%%' "$base/"
expect 401 "the messages page without credentials" "$base/messages"

# The findings are evaluated off the request path, once at the start: wait for them.
for _ in $(seq 1 300); do
  expect 200 "the overview" "${good[@]}" "$base/"
  grep -q 'data-findings="pending"' "$work/body" || break
  sleep 0.1
done
grep -q 'data-findings="[1-9]' "$work/body" ||
  fail "overview: no open findings shown: $(grep -o 'data-findings="[^"]*"' "$work/body")"
# The fixtures' small reporter that went silent five days ago, and the rejected message, are
# what `check` finds too.
grep -q '<tr data-severity="warning" data-rule="silent-reporter">' "$work/body" ||
  fail "overview: the silent-reporter finding is missing"
grep -q 'no reports from Small Mail AB for 5 days' "$work/body" ||
  fail "overview: the finding does not name the silent reporter"
grep -q '<tr data-severity="warning" data-rule="collector">' "$work/body" ||
  fail "overview: the rejected message's finding is missing"
"$bin" -c "$work/config.yaml" --log-level warn check --format json >"$work/check.json" || true
want=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$work/check.json")
grep -q "data-findings=\"$want\"" "$work/body" || fail "overview: not the $want findings of check"

# The pages, with the headers that keep report data inert.
grep -qi "^Content-Security-Policy: default-src 'none'" "$work/body.headers" || fail "overview: no CSP header"
grep -qi "^Content-Security-Policy: .*frame-ancestors 'none'" "$work/body.headers" ||
  fail "overview: no frame-ancestors"
grep -qi '^X-Content-Type-Options: nosniff' "$work/body.headers" || fail "overview: no nosniff"
grep -qi '^Content-Type: text/html; charset=utf-8' "$work/body.headers" || fail "overview: type"
grep -q 'example.com' "$work/body" || fail "overview: example.com not shown"
grep -q 'hostile.example' "$work/body" || fail "overview: hostile.example not shown"
# Escaped, never raw: the reporter names of the hostile fixtures are markup.
grep -q '&lt;script&gt;window.__pwned=1&lt;/script&gt;' "$work/body" ||
  fail "overview: the hostile reporter is not shown escaped"
grep -q '<script' "$work/body" && fail "overview: a <script> element in the page"
grep -q $'\u202e' "$work/body" && fail "overview: a bidi override in the page"

# The query string reaches the pages: ?days=7 is a window of 8 UTC days.
expect 200 "the overview of 7 days" "${good[@]}" "$base/?days=7"
grep -q '(8 days, by the start' "$work/body" || fail "?days=7 did not set the window"
expect 200 "example.com's page" "${good[@]}" "$base/domain?name=example.com&days=30"
grep -q 'data-domain="example.com"' "$work/body" || fail "domain page: not example.com's"
expect 200 "hostile.example's page" "${good[@]}" "$base/domain?name=Hostile.Example."
grep -q '<script' "$work/body" && fail "hostile.example's page: a <script> element"
grep -q 'mx0.&lt;b&gt;hostile&lt;/b&gt;.example' "$work/body" ||
  fail "hostile.example's page: the hostile MX host is not shown escaped"
# A name from the query string is escaped on the 404 page too.
expect 404 "an unknown domain" "${good[@]}" "$base/domain?name=%3Cscript%3Ealert(1)%3C/script%3E"
grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$work/body" || fail "404: the name is not escaped"
grep -q '<script' "$work/body" && fail "404: a <script> element"
expect 200 "the messages page" "${good[@]}" "$base/messages"
grep -q 'rejected' "$work/body" || fail "messages page: the rejected message is not listed"
expect 404 "a path nobody serves" "${good[@]}" "$base/admin"

# Read-only: HEAD answers like GET without a body; nothing else is taken.
head_code=$(curl -sS --max-time 60 -I -o "$work/head" -w '%{http_code}' "${good[@]}" "$base/")
[[ $head_code == 200 ]] || fail "HEAD /: HTTP $head_code"
expect 405 "a POST to the overview" "${good[@]}" -X POST --data 'x=1' "$base/"
grep -qi '^Allow: GET, HEAD' "$work/body.headers" || fail "405 without Allow: GET, HEAD"

# The rest of the HTTP side stays as it was: health and metrics need no password, and the
# metrics count the dashboard's answers by route.
expect 200 "/healthz without credentials" "$base/healthz"
expect 200 "/metrics without credentials" "$base/metrics"
grep -q 'tlsrpt_collector_http_requests_total{path="/",code="401"}' "$work/body" ||
  fail "/metrics does not count the dashboard's 401s: $(grep http_requests "$work/body" | head -5)"
grep -q 'tlsrpt_collector_http_requests_total{path="/domain",code="200"}' "$work/body" ||
  fail "/metrics does not count the domain page"

# The browser: the same checks as for the report file, on the served pages.
"$bin" -c "$work/config.yaml" --log-level warn summary --format json --days 30 >"$work/summary.json"
mkdir -p "$out"
python3 "$here/browser_check.py" --summary "$work/summary.json" --out "$out" \
  --auth 'reader:correct horse' \
  "served-overview=$base/" "served-example.com=$base/domain?name=example.com" \
  "served-hostile=$base/domain?name=hostile.example" "messages=$base/messages"
# And it can fail: without credentials every page is a 401.
if python3 "$here/browser_check.py" --summary "$work/summary.json" --out "$work/shots" \
  "unauthorized=$base/" >"$work/unauth.log" 2>&1; then
  fail "the browser check passed a page answered 401"
fi
grep -q 'HTTP 401' "$work/unauth.log" || fail "the browser check did not see the 401: $(cat "$work/unauth.log")"

# SIGTERM: run stops cleanly.
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
[[ $rc -eq 0 ]] || { cat "$work/run.log" >&2; fail "run exited $rc after SIGTERM"; }
echo "served dashboard: all checks passed on $base"
