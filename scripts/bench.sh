#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmarks (issue 9): throughput, memory and scaling of tlsrpt-collector against the floors,
# on the local harness. Prints one table and writes BENCHMARKS.md. Never part of ctest.
#
#   scripts/bench.sh [--sizes "1000 10000 100000"] [--e2e-sizes "10000 100000"] [--runs 3]
#                    [--seed 1] [--dashboard-reports 1000000] [--no-write]
#                    [--old-collector PATH] [--old-dashboard PATH] [--huge N] [--stop-latency]
#                    [--no-build]
#
# What runs (each result is the median of --runs runs; the in-process benches take the median
# of their own passes over one in-memory corpus):
#   parse floor   tlsrpt-bench-parse-floor: scan + base64 + inflate + RapidJSON DOM, no project code
#   parse         tlsrpt-bench-parse: tlsrpt::mime::extract + tlsrpt::report::parse
#   store         tlsrpt-bench-store: report_store::write() in batches into a fresh database
#   IMAP floor    tlsrpt-bench-imap-floor: one libcurl connection, UID STORE \Seen, UID FETCH all
#                 one message per command (the per-message floor, libcurl's URL form)
#   bulk floor    tlsrpt-bench-imap-bulk-floor: CONNECT_ONLY, one UID FETCH 1:* (BODY.PEEK[])
#   end to end    tlsrpt-collector poll, bench mailbox -> fresh database, under /usr/bin/time -v
#   dashboard     tlsrpt-bench-dashboard: the pages' reads and rendering over a database filled
#                 by bench/dashboard_fill.sql with --dashboard-reports reports (0: skipped)
#   old e2e       the same with --old-collector PATH (a build of an earlier tree), same run
#   old dashboard --old-dashboard PATH: an earlier tree's tlsrpt-bench-dashboard on the same
#                 filled database, before the current one (before/after in one run)
#   huge reports  --huge N: N mails of 3 policies x 40,000 failure details (19.2 MB of JSON,
#                 under 1 MB as mail) polled; peak RSS (issue 15's pass-level memory bound)
#   stop latency  --stop-latency: `run` against a server that stalls mid-FETCH, SIGTERM, time
#                 to exit (issue 15)
# scripts/bench.sh --only http [--http-n 20000] [--runs 3] measures the HTTP side instead and
# writes its own block of BENCHMARKS.md:
#   HTTP floor    tlsrpt-bench-http serve-floor: the project's HTTP server answering "stored"
#                 without storing (same server, options and threading as `run`)
#   HTTP store    tlsrpt-collector run (receiver only) into a fresh database
#   both driven by tlsrpt-bench-http load: distinct reports over 64 keep-alive connections,
#   then over 256 connections at once, with the server's peak RSS (VmHWM)
# --no-build takes the binaries of TLSRPT_BENCH_BUILD_DIR as they are (any build type; the
# dashboard's figures are mostly PostgreSQL's) instead of a Release build of its own.
# The bench mailbox (IMAP user "bench") is emptied and refilled with tlsrpt-gen before each
# IMAP run; scratch databases are dropped on exit.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${TLSRPT_BENCH_BUILD_DIR:-$repo/build-bench-release}
sizes="1000 10000 100000"
e2e_sizes="10000 100000"
runs=3
seed=1
write_md=1
dashboard_reports=1000000
old_collector=""
old_dashboard=""
huge=0
stop_latency=0
no_build=0
only=
http_n=20000
while [[ $# -gt 0 ]]; do
  case $1 in
    --sizes) sizes=$2; shift 2 ;;
    --e2e-sizes) e2e_sizes=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --dashboard-reports) dashboard_reports=$2; shift 2 ;;
    --no-write) write_md=0; shift ;;
    --old-collector) old_collector=$2; shift 2 ;;
    --old-dashboard) old_dashboard=$2; shift 2 ;;
    --huge) huge=$2; shift 2 ;;
    --stop-latency) stop_latency=1; shift ;;
    --no-build) no_build=1; shift ;;
    --only) only=$2; shift 2 ;;
    --http-n) http_n=$2; shift 2 ;;
    -h|--help) sed -n '2,39p' "$0"; exit 0 ;;
    *) echo "bench: unknown argument $1" >&2; exit 64 ;;
  esac
done

log() { echo "bench: $*" >&2; }
die() { log "$*"; exit 1; }
"$repo/scripts/deps.sh"
[[ -x /usr/bin/time ]] || die "/usr/bin/time is needed (apt-get install time)"

# ---- build (Release, no tests) -------------------------------------------------------------
if [[ $no_build -eq 0 ]]; then
  log "building in $build"
  mkdir -p "$build"
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTLSRPT_BUILD_TESTS=OFF \
    -DTLSRPT_BUILD_BENCH=ON >"$build/bench-configure.log" 2>&1 ||
    die "cmake configure failed, see $build/bench-configure.log"
  cmake --build "$build" -j"$(nproc)" >"$build/bench-build.log" 2>&1 ||
    die "build failed, see $build/bench-build.log"
else
  log "using the binaries in $build as they are (--no-build)"
fi
bin=$build/bench
gen=$bin/tlsrpt-gen
collector=$build/app/tlsrpt-collector
have() { [[ -x $1 ]]; }

# ---- services --------------------------------------------------------------------------------
if ! "$repo/scripts/services.sh" status >/dev/null 2>&1; then
  log "starting the local services"
  "$repo/scripts/services.sh" start >/dev/null
fi
eval "$("$repo/scripts/services.sh" env)"
export TLSRPT_TEST_IMAP_PASSWORD
mail_home=$TLSRPT_TEST_MAIL_DIR/bench
maildir=$mail_home/Maildir
imap_url=imap://$TLSRPT_TEST_IMAP_HOST:$TLSRPT_TEST_IMAP_PORT

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
work=$(mktemp -d /tmp/tlsrpt-bench.XXXXXX)
results=$work/results.jsonl
: >"$results"
dbs=()
cleanup() {
  for db in "${dbs[@]}"; do
    psql -q "$TLSRPT_TEST_PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  done
  rm -rf "$work" "$maildir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # so that the EXIT trap (dropping the databases) runs on a kill too

new_db() {  # sets url to a fresh scratch database (not in a subshell: cleanup must see dbs)
  local name=tlsrpt_bench_$$_${#dbs[@]}
  psql -q "$TLSRPT_TEST_PG_ADMIN_URL" -c "CREATE DATABASE $name" >/dev/null
  dbs+=("$name")
  url="${TLSRPT_TEST_PG_ADMIN_URL%/*}/$name"
}
drop_db() {
  psql -q "$TLSRPT_TEST_PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS ${1##*/}" >/dev/null
}

fill_mailbox() {  # fill_mailbox N: the bench INBOX holds exactly the first N mails of the seed
  rm -rf "$maildir"
  install -d -m 700 "$mail_home"
  [[ $(id -u) -eq 0 ]] && chown "$TLSRPT_TEST_MAIL_USER:" "$mail_home"
  "$gen" --count "$1" --seed "$seed" --maildir "$maildir" --owner "$TLSRPT_TEST_MAIL_USER" \
    >"$work/expect-$1.json"
  # The new files' writeback (0.4 GB for 100k) would otherwise compete with the timed run.
  sync
  # Dovecot builds its index and moves new/ to cur/ on the first SELECT: do that outside the
  # timed part, for the floor and the collector alike (it is reported separately).
  "$bin/tlsrpt-bench-imap-floor" --url "$imap_url" --user bench --select-only
}

record() {  # record KIND N JSON
  jq -c --arg kind "$1" --argjson n "$2" '. + {kind: $kind, n: $n}' <<<"$3" >>"$results"
}

# ---- HTTP (--only http) ----------------------------------------------------------------------
wait_for() {  # wait_for FILE REGEX: group 1 of the first matching log line, within 20 s
  local i v
  for i in $(seq 1 400); do
    v=$(sed -nE "s#.*$2.*#\1#p" "$1" | head -n1)
    [[ -n $v ]] && { echo "$v"; return; }
    sleep 0.05
  done
  die "timed out waiting for /$2/ in $1: $(tail -n3 "$1")"
}
hwm_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

http_bench() {
  local hb=$bin/tlsrpt-bench-http port pid r out conns stored
  have "$hb" || die "tlsrpt-bench-http was not built"
  local floor_rates=() store_rates=() floor_rss=() store_rss=() floor256=() store256=()
  for r in $(seq 1 "$runs"); do
    "$hb" serve-floor >"$work/floor.log" 2>&1 &
    pid=$!
    port=$(wait_for "$work/floor.log" '^port ([0-9]+)')
    out=$("$hb" load "$port" "$http_n" 64)
    log "HTTP floor, 64 connections: $out"
    floor_rates+=("$(jq .per_second <<<"$out")")
    out=$("$hb" load "$port" "$http_n" 256)
    log "HTTP floor, 256 connections: $out"
    floor256+=("$(jq .per_second <<<"$out")")
    floor_rss+=("$(hwm_kib "$pid")")
    kill "$pid"; wait "$pid" || true

    for conns in 64 256; do
      new_db
      cat >"$work/http.yaml" <<YAML
database:
  url: $url
logging:
  level: warn
http:
  listen: ["127.0.0.1:0"]
  max_connections: 300
YAML
      "$collector" -c "$work/http.yaml" --log-level info run >"$work/run.log" 2>&1 &
      pid=$!
      port=$(wait_for "$work/run.log" 'listening on http://127\.0\.0\.1:([0-9]+)/')
      out=$("$hb" load "$port" "$http_n" "$conns")
      log "HTTP store, $conns connections: $out"
      stored=$(psql -At "$url" -c "SELECT count(*) FROM tlsrpt.reports")
      [[ $stored -eq $http_n ]] || die "HTTP store: $stored reports stored, expected $http_n"
      if [[ $conns -eq 64 ]]; then
        store_rates+=("$(jq .per_second <<<"$out")")
      else
        store256+=("$(jq .per_second <<<"$out")")
        store_rss+=("$(hwm_kib "$pid")")
      fi
      kill "$pid"; wait "$pid" || true
      drop_db "$url"
    done
  done
  local f s f2 s2 fr sr block=$work/http.md md=$repo/BENCHMARKS.md
  f=$(printf '%s\n' "${floor_rates[@]}" | median)
  s=$(printf '%s\n' "${store_rates[@]}" | median)
  f2=$(printf '%s\n' "${floor256[@]}" | median)
  s2=$(printf '%s\n' "${store256[@]}" | median)
  fr=$(printf '%s\n' "${floor_rss[@]}" | median)
  sr=$(printf '%s\n' "${store_rss[@]}" | median)
  cat >"$block" <<EOF
<!-- bench-http:begin (written by scripts/bench.sh --only http; edit outside these markers) -->
Produced by \`scripts/bench.sh --only http --http-n $http_n --runs $runs\` on $(date -u +%Y-%m-%d)
($(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); load
average at the end $(cut -d' ' -f1-3 /proc/loadavg)). $http_n distinct reports (bare JSON,
about 0.6 KB) per run, median of $runs runs; client, server and PostgreSQL share the machine.

| | 64 keep-alive connections | 256 connections | peak RSS of the server (256 connections) |
|---|---|---|---|
| HTTP floor (answers without storing) | $(printf "%'.0f" "$f") req/s | $(printf "%'.0f" "$f2") req/s | $(printf "%.1f" "$(echo "$fr / 1024" | bc -l)") MiB |
| \`run\`: parse, store, ledger, answer | $(printf "%'.0f" "$s") reports/s | $(printf "%'.0f" "$s2") reports/s | $(printf "%.1f" "$(echo "$sr / 1024" | bc -l)") MiB |

At 64 connections storing takes $(printf "%.1f" "$(echo "$f / $s" | bc -l)") x the floor's time per request. Every run
checks that all $http_n reports were stored.
<!-- bench-http:end -->
EOF
  cat "$block"
  [[ $write_md -eq 1 ]] || return 0
  if grep -q '<!-- bench-http:begin' "$md"; then
    awk -v gen="$block" '
      /<!-- bench-http:begin/ { while ((getline line < gen) > 0) print line; skip = 1; next }
      /<!-- bench-http:end -->/ { skip = 0; next }
      !skip { print }' "$md" >"$md.new"
  else
    { cat "$md"; echo; echo "## HTTP receiver (issue 18)"; echo; cat "$block"; } >"$md.new"
  fi
  mv "$md.new" "$md"
  log "wrote the HTTP block of $md"
}
if [[ $only == http ]]; then
  http_bench
  exit 0
fi

# ---- in-memory benches -----------------------------------------------------------------------
for n in $sizes; do
  log "parse floor, $n messages"
  record parse_floor "$n" "$("$bin/tlsrpt-bench-parse-floor" --count "$n" --seed "$seed" --runs "$runs")"
  if have "$bin/tlsrpt-bench-parse"; then
    log "parse, $n messages"
    record parse "$n" "$("$bin/tlsrpt-bench-parse" --count "$n" --seed "$seed" --runs "$runs")"
  fi
  if have "$bin/tlsrpt-bench-store"; then
    for r in $(seq "$runs"); do
      log "store, $n messages, run $r"
      new_db
      out=$("$bin/tlsrpt-bench-store" --url "$url" --count "$n" --seed "$seed" --batch 1000)
      rows=0
      for t in $(psql -At "$url" -c "SELECT tablename FROM pg_tables WHERE schemaname = 'tlsrpt'"); do
        rows=$((rows + $(psql -At "$url" -c "SELECT count(*) FROM tlsrpt.$t")))
      done
      record store "$n" "$(jq -c --argjson rows "${rows:-0}" '. + {rows: $rows,
               rows_per_s: ($rows / .seconds)}' <<<"$out")"
      drop_db "$url"
    done
  fi
done

# ---- IMAP floor and end to end ---------------------------------------------------------------
e2e_run() {  # e2e_run KIND COLLECTOR N: fill, poll into a fresh database, record
  local kind=$1 coll=$2 n=$3
  fill_mailbox "$n" >/dev/null
  new_db
  cat >"$work/config.yaml" <<YAML
database:
  url: $url
  migrate_on_start: true
mailboxes:
  - name: bench
    url: $imap_url/INBOX
    username: bench
    password_env: TLSRPT_TEST_IMAP_PASSWORD
    allow_plaintext: true
logging:
  level: warn
YAML
  "$coll" --config "$work/config.yaml" migrate >/dev/null
  /usr/bin/time -v -o "$work/time.txt" "$coll" --config "$work/config.yaml" poll \
    >"$work/poll.out" 2>"$work/poll.err" || {
    log "poll failed (exit $?): $(tail -n 3 "$work/poll.err")"
    tail -n 1 "$work/poll.err" | sed 's/^.*error: //; s/|/\\|/g' | cut -c1-300 >"$work/poll-failure.txt"
    drop_db "$url"
    return 0
  }
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0;
           for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$work/time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
  reports=$(psql -At "$url" -c "SELECT count(*) FROM tlsrpt.reports")
  expected=$(jq .reports "$work/expect-$n.json")
  record "$kind" "$n" "$(jq -nc --argjson s "$wall" --argjson rss "$rss" --argjson n "$n" \
    --argjson got "$reports" --argjson want "$expected" \
    '{seconds: $s, messages_per_s: ($n / $s), peak_rss_kib: $rss, reports: $got,
      expected_reports: $want}')"
  [[ $reports == "$expected" ]] || log "WARNING: poll stored $reports reports, expected $expected"
  drop_db "$url"
}

poll_supported=0
if have "$collector" && "$collector" poll --help >/dev/null 2>&1; then poll_supported=1; fi
for n in $e2e_sizes; do
  for r in $(seq "$runs"); do
    log "IMAP floor, $n messages, run $r"
    sel=$(fill_mailbox "$n")
    record imap_select "$n" "$sel"
    # The bulk floor first: it leaves the read state alone, the per-message one marks all read.
    record imap_bulk_floor "$n" "$("$bin/tlsrpt-bench-imap-bulk-floor" --url "$imap_url" --user bench)"
    record imap_floor "$n" "$("$bin/tlsrpt-bench-imap-floor" --url "$imap_url" --user bench)"
    [[ $poll_supported -eq 1 ]] || continue
    log "end to end (poll), $n messages, run $r"
    e2e_run e2e "$collector" "$n"
    if [[ -n $old_collector ]]; then
      log "end to end (poll, $old_collector), $n messages, run $r"
      e2e_run e2e_old "$old_collector" "$n"
    fi
  done
done

# ---- huge reports: the pass-level memory bound (issue 15) ------------------------------------
if [[ $huge -gt 0 && $poll_supported -eq 1 ]]; then
  log "huge reports: $huge mails of 3 policies x 40,000 failure details"
  rm -rf "$maildir"
  install -d -m 700 "$mail_home" "$maildir/new" "$maildir/cur" "$maildir/tmp"
  python3 - "$maildir/new" "$huge" <<'PY'
import base64, gzip, json, sys
out, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    policies = []
    for p in range(3):
        details = [{"result-type": "certificate-expired",
                    "sending-mta-ip": "10.%d.%d.%d" % (p, j // 250, j % 250),
                    "receiving-mx-hostname": "mx%d.huge.example" % (j % 97),
                    "receiving-ip": "198.51.100.%d" % (j % 250),
                    "failed-session-count": 1}
                   for j in range(40000)]
        policies.append({"policy": {"policy-type": "sts",
                                    "policy-string": ["version: STSv1", "mode: enforce",
                                                      "mx: *.huge.example", "max_age: 86400"],
                                    "policy-domain": "huge%d.example" % p,
                                    "mx-host": ["*.huge.example"]},
                         "summary": {"total-successful-session-count": 10,
                                     "total-failure-session-count": 40000},
                         "failure-details": details})
    report = {"organization-name": "Huge Reporter", "contact-info": "tlsrpt@huge.example",
              "report-id": "huge-%d" % i,
              "date-range": {"start-datetime": "2026-11-01T00:00:00Z",
                             "end-datetime": "2026-11-01T23:59:59Z"},
              "policies": policies}
    body = base64.encodebytes(gzip.compress(json.dumps(report, separators=(",", ":")).encode(), 6)).decode()
    msg = ("From: tlsrpt@huge.example\r\nTo: tlsrpt@example.org\r\n"
           "Subject: Report Domain: huge.example Submitter: huge.example Report-ID: <huge-%d>\r\n"
           "TLS-Report-Domain: huge.example\r\nTLS-Report-Submitter: huge.example\r\n"
           "Message-ID: <huge-%d@huge.example>\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/report; report-type=tlsrpt; boundary=\"b\"\r\n\r\n"
           "--b\r\nContent-Type: text/plain\r\n\r\nA huge report.\r\n"
           "--b\r\nContent-Type: application/tlsrpt+gzip\r\n"
           "Content-Transfer-Encoding: base64\r\n"
           "Content-Disposition: attachment; filename=\"huge.example!%d.json.gz\"\r\n\r\n"
           % (i, i, i)) + body.replace("\n", "\r\n") + "--b--\r\n"
    with open("%s/%d.huge:2," % (out, i), "w") as f:
        f.write(msg)
PY
  [[ $(id -u) -eq 0 ]] && chown -R "$TLSRPT_TEST_MAIL_USER:" "$mail_home"
  "$bin/tlsrpt-bench-imap-floor" --url "$imap_url" --user bench --select-only >/dev/null
  echo "{\"reports\": $huge}" >"$work/expect-$huge.json"
  fill_mailbox() { :; }  # the mailbox is filled above; e2e_run must not refill it
  e2e_run e2e_huge "$collector" "$huge"
  unset -f fill_mailbox
fi

# ---- stop latency: SIGTERM during a FETCH the server never finishes (issue 15) ----------------
if [[ $stop_latency -eq 1 && $poll_supported -eq 1 ]]; then
  log "stop latency: SIGTERM while a FETCH stalls"
  port_file=$work/stall.port
  python3 - "$port_file" <<'PY' &
import socket, sys, threading
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(4)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
def talk(c):
    c.sendall(b"* OK stall ready\r\n")
    buf = b""
    while True:
        d = c.recv(4096)
        if not d: return
        buf += d
        while b"\r\n" in buf:
            line, buf = buf.split(b"\r\n", 1)
            tag, _, rest = line.partition(b" ")
            up = rest.upper()
            if up.startswith(b"CAPABILITY"):
                c.sendall(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK done\r\n")
            elif up.startswith(b"SELECT"):
                c.sendall(b"* 1 EXISTS\r\n* OK [UIDVALIDITY 7] x\r\n* OK [UIDNEXT 2] x\r\n" + tag + b" OK [READ-WRITE] done\r\n")
            elif up.startswith(b"UID SEARCH"):
                c.sendall(b"* SEARCH 1\r\n" + tag + b" OK done\r\n")
            elif up.startswith(b"UID FETCH") and b"BODY.PEEK" in up:
                c.sendall(b"* 1 FETCH (UID 1 BODY[] {1000}\r\nonly the start")  # and nothing more
            elif up.startswith(b"UID FETCH"):
                c.sendall(b"* 1 FETCH (UID 1 RFC822.SIZE 1000 FLAGS ())\r\n" + tag + b" OK done\r\n")
            elif up.startswith(b"LOGOUT"):
                c.sendall(b"* BYE\r\n" + tag + b" OK done\r\n"); return
            else:
                c.sendall(tag + b" OK done\r\n")
while True:
    c, _ = s.accept()
    threading.Thread(target=talk, args=(c,), daemon=True).start()
PY
  stall_pid=$!
  for _ in $(seq 50); do [[ -s $port_file ]] && break; sleep 0.1; done
  new_db
  cat >"$work/stall.yaml" <<YAML
database:
  url: $url
  migrate_on_start: true
mailboxes:
  - name: stall
    url: imap://127.0.0.1:$(cat "$port_file")/INBOX
    username: bench
    password_env: TLSRPT_TEST_IMAP_PASSWORD
    allow_plaintext: true
logging:
  level: warn
YAML
  "$collector" --config "$work/stall.yaml" migrate >/dev/null
  "$collector" --config "$work/stall.yaml" run >"$work/stall.out" 2>"$work/stall.err" &
  run_pid=$!
  sleep 3  # logged in, searched, and stuck in the FETCH (operation_timeout is 120 s)
  t0=$(date +%s.%N)
  kill -TERM "$run_pid"
  wait "$run_pid" || true
  t1=$(date +%s.%N)
  kill "$stall_pid" 2>/dev/null || true
  wait "$stall_pid" 2>/dev/null || true
  record stop_latency 1 "$(jq -nc --argjson s "$(echo "$t1 - $t0" | bc -l)" '{seconds: $s}')"
  drop_db "$url"
fi
rm -rf "$maildir"

# ---- dashboard -------------------------------------------------------------------------------
: >"$work/dashboard.txt"
if [[ $dashboard_reports -gt 0 ]] && have "$bin/tlsrpt-bench-dashboard"; then
  log "dashboard: filling a database with $dashboard_reports reports"
  new_db
  TLSRPT_DATABASE_URL=$url TLSRPT_MIGRATIONS_DIR=$repo/migrations "$collector" --log-level warn \
    migrate >/dev/null
  fill_start=$(date +%s.%N)
  psql -q -v reports="$dashboard_reports" -f "$repo/bench/dashboard_fill.sql" "$url" >/dev/null
  fill_s=$(echo "$(date +%s.%N) - $fill_start" | bc -l)
  log "dashboard: reading and rendering the pages"
  {
    printf -- "- %s reports filled by SQL in %.0f s (rollups by the write-time triggers); rollup \
rows: %s daily, %s failure\n" "$dashboard_reports" "$fill_s" \
      "$(psql -At "$url" -c "SELECT count(*) FROM tlsrpt.daily_rollup")" \
      "$(psql -At "$url" -c "SELECT count(*) FROM tlsrpt.daily_failure_rollup")"
    printf -- "- coarse rollup rows (0009): %s per day and domain, %s per day, domain and reporter\n" \
      "$(psql -At "$url" -c "SELECT count(*) FROM tlsrpt.daily_domain_rollup" 2>/dev/null || echo -)" \
      "$(psql -At "$url" -c "SELECT count(*) FROM tlsrpt.daily_reporter_rollup" 2>/dev/null || echo -)"
    if [[ -n $old_dashboard ]]; then
      log "dashboard: the old tree's pages ($old_dashboard)"
      "$old_dashboard" "$url" "$runs" | sed 's/^/- before: /'
    fi
    "$bin/tlsrpt-bench-dashboard" "$url" "$runs" | sed "s/^/- ${old_dashboard:+after: }/"
  } >"$work/dashboard.txt"
  cat "$work/dashboard.txt" >&2
  drop_db "$url"
fi

# ---- the table -------------------------------------------------------------------------------
med() {  # med KIND N FIELD: median over the runs, or empty
  jq -s --arg k "$1" --argjson n "$2" --arg f "$3" '[.[] | select(.kind == $k and .n == $n) |
    .[$f] | select(. != null)] | sort | if length == 0 then empty
    else (if length % 2 == 1 then .[length / 2 | floor]
          else (.[length / 2 - 1] + .[length / 2]) / 2 end) end' "$results"
}
fmt() { [[ -n $1 ]] && printf "%'.0f" "$1" || printf "not measured"; }
fmt1() { [[ -n $1 ]] && printf "%.1f" "$1" || printf "-"; }
mib() { [[ -n $1 ]] && printf "%.1f" "$(echo "$1 / 1024" | bc -l)" || printf "-"; }

table=$work/table.md
{
  echo "| measurement | N | messages/s | MB/s | reports/s | rows/s | seconds | peak RSS MiB |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  for n in $sizes; do
    for k in parse_floor parse; do
      v=$(med $k "$n" messages_per_s)
      [[ -n $v ]] || { echo "| $k | $n | not measured yet: module not built | | | | | |"; continue; }
      echo "| $k | $n | $(fmt "$v") | $(fmt1 "$(med $k "$n" mb_per_s)") | | | \
$(printf %.3f "$(med $k "$n" seconds)") | $(mib "$(med $k "$n" peak_rss_kib)") \
(corpus $(mib "$(med $k "$n" corpus_rss_kib)")) |"
    done
    v=$(med store "$n" reports_per_s)
    if [[ -n $v ]]; then
      echo "| store | $n | $(fmt "$(med store "$n" messages_per_s)") | | $(fmt "$v") | \
$(fmt "$(med store "$n" rows_per_s)") | $(printf %.3f "$(med store "$n" seconds)") | \
$(mib "$(med store "$n" peak_rss_kib)") |"
    else
      echo "| store | $n | not measured yet: store bench not built | | | | | |"
    fi
  done
  for n in $e2e_sizes; do
    v=$(med imap_floor "$n" messages_per_s)
    echo "| imap_floor | $n | $(fmt "$v") | $(fmt1 "$(med imap_floor "$n" mb_per_s)") | | | \
$(printf %.3f "$(med imap_floor "$n" seconds)") | |"
    v=$(med imap_bulk_floor "$n" messages_per_s)
    [[ -z $v ]] || echo "| imap_bulk_floor | $n | $(fmt "$v") | \
$(fmt1 "$(med imap_bulk_floor "$n" mb_per_s)") | | | $(printf %.3f "$(med imap_bulk_floor "$n" seconds)") | |"
    v=$(med e2e_old "$n" messages_per_s)
    [[ -z $v ]] || echo "| e2e poll (old collector) | $n | $(fmt "$v") | | | | \
$(printf %.3f "$(med e2e_old "$n" seconds)") | $(mib "$(med e2e_old "$n" peak_rss_kib)") |"
    v=$(med e2e "$n" messages_per_s)
    if [[ -n $v ]]; then
      echo "| e2e poll | $n | $(fmt "$v") | | | | $(printf %.3f "$(med e2e "$n" seconds)") | \
$(mib "$(med e2e "$n" peak_rss_kib)") |"
    else
      why="tlsrpt-collector poll not available"
      [[ -s $work/poll-failure.txt ]] && why="poll failed: $(cat "$work/poll-failure.txt")"
      echo "| e2e poll | $n | not measured yet: $why | | | | | |"
    fi
  done
} >"$table"
echo
cat "$table"
echo
{
for n in $sizes; do
  f=$(med parse_floor "$n" messages_per_s)
  p=$(med parse "$n" messages_per_s)
  [[ -z $f || -z $p ]] || printf -- "- parse at N=%s: %.1f x the floor's time\n" "$n" \
    "$(echo "$f / $p" | bc -l)"
done
for n in $sizes; do
  b=$(med store "$n" backend_cpu_s)
  c=$(med store "$n" client_cpu_s)
  r=$(med store "$n" reports)
  [[ -z $b || -z $c || -z $r ]] || printf -- "- store at N=%s: %.0f µs of PostgreSQL backend CPU \
and %.0f µs of client CPU per report (partly overlapped): one writer's ceiling ~%.0f reports/s\n" \
    "$n" "$(echo "$b * 1000000 / $r" | bc -l)" "$(echo "$c * 1000000 / $r" | bc -l)" \
    "$(echo "$r / $b" | bc -l)"
done
for n in $e2e_sizes; do
  f=$(med imap_floor "$n" messages_per_s)
  e=$(med e2e "$n" messages_per_s)
  [[ -z $f || -z $e ]] || printf -- "- end to end at N=%s: %.2f x the IMAP floor's time\n" "$n" \
    "$(echo "$f / $e" | bc -l)"
done
for n in $e2e_sizes; do
  b=$(med imap_bulk_floor "$n" messages_per_s)
  e=$(med e2e "$n" messages_per_s)
  o=$(med e2e_old "$n" messages_per_s)
  [[ -z $b || -z $e ]] || printf -- "- end to end at N=%s: %.2f x the bulk floor's time\n" "$n" \
    "$(echo "$b / $e" | bc -l)"
  [[ -z $o || -z $e ]] || printf -- "- end to end at N=%s: %.2f x as fast as the old collector\n" \
    "$n" "$(echo "$e / $o" | bc -l)"
done
h=$(med e2e_huge "$huge" peak_rss_kib)
[[ -z $h ]] || printf -- "- %s huge reports (3 policies x 40,000 failure details each): peak RSS %s MiB, %s s\n" \
  "$huge" "$(mib "$h")" "$(printf %.1f "$(med e2e_huge "$huge" seconds)")"
l=$(med stop_latency 1 seconds)
[[ -z $l ]] || printf -- "- SIGTERM during a FETCH stalled on the server: run exits after %.2f s\n" "$l"
} | tee "$work/ratios.txt"
cp "$results" "$build/bench-results.jsonl"

# ---- BENCHMARKS.md ---------------------------------------------------------------------------
[[ $write_md -eq 1 ]] || exit 0
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
gxx=$(g++ --version | head -n1)
pg=$(psql -At "$TLSRPT_TEST_PG_ADMIN_URL" -c "SHOW server_version")
dovecot=$(dovecot --version 2>/dev/null || echo unknown)
curlv=$(curl-config --version 2>/dev/null || curl --version | head -n1)
gmime=$(pkg-config --modversion gmime-3.0)
generated=$work/generated.md
cat >"$generated" <<EOF
<!-- bench:begin (written by scripts/bench.sh; edit outside these markers) -->
Produced by \`scripts/bench.sh\` on $(date -u +%Y-%m-%d). Not part of the tests: speed is
never asserted in ctest.

### Machine
- $(nproc) cores: $cpu; $mem memory; $(uname -sr)
- $gxx; PostgreSQL $pg; Dovecot $dovecot; $curlv; GMime $gmime
- PostgreSQL and Dovecot are the local harness (scripts/services.sh), on the same machine.
- Load average (1/5/15 min) at the start: $load_start; at the end: $(cut -d' ' -f1-3 /proc/loadavg).
  Anything above ~0.5 means other work shared the two cores and the figures are pessimistic.

### Corpus
\`tlsrpt-gen --count N --seed $seed\` (bench/gen). Totals:
$(for n in $sizes; do echo "- N=$n: \`$("$gen" --count "$n" --seed "$seed" --expect)\`"; done)

### Figures (median of $runs runs; the in-process benches take the median of $runs passes over one in-memory corpus)
$(cat "$table")

$(cat "$work/ratios.txt")

$( [[ -s $work/dashboard.txt ]] && { echo "Dashboard (median of $runs, 30-day window; overview = store reads + HTML):"; cat "$work/dashboard.txt"; })

Command: \`scripts/bench.sh --sizes "$sizes" --e2e-sizes "$e2e_sizes" --runs $runs --seed $seed --dashboard-reports $dashboard_reports\`.
Peak RSS of the in-memory benches includes the corpus they hold (in brackets).
<!-- bench:end -->
EOF
md=$repo/BENCHMARKS.md
if [[ -f $md ]] && grep -q '<!-- bench:begin' "$md"; then
  # Replace only the generated block; the analysis around it is kept.
  awk -v gen="$generated" '
    /<!-- bench:begin/ { while ((getline line < gen) > 0) print line; skip = 1; next }
    /<!-- bench:end -->/ { skip = 0; next }
    !skip { print }' "$md" >"$md.new"
else
  { echo "# Benchmarks"; echo; cat "$generated"; } >"$md.new"
fi
mv "$md.new" "$md"
log "wrote $md"
