#!/usr/bin/env bash
# Benchmarks (issue 9): throughput, memory and scaling of tlsrpt-collector against the floors,
# on the local harness. Prints one table and writes BENCHMARKS.md. Never part of ctest.
#
#   scripts/bench.sh [--sizes "1000 10000 100000"] [--e2e-sizes "10000 100000"] [--runs 3]
#                    [--seed 1] [--dashboard-reports 1000000] [--no-write]
#
# What runs (each result is the median of --runs runs; the in-process benches take the median
# of their own passes over one in-memory corpus):
#   parse floor   tlsrpt-bench-parse-floor: scan + base64 + inflate + RapidJSON DOM, no project code
#   parse         tlsrpt-bench-parse: tlsrpt::mime::extract + tlsrpt::report::parse
#   store         tlsrpt-bench-store: report_store::write() in batches into a fresh database
#   IMAP floor    tlsrpt-bench-imap-floor: one libcurl connection, UID STORE \Seen, UID FETCH all
#   end to end    tlsrpt-collector poll, bench mailbox -> fresh database, under /usr/bin/time -v
#   dashboard     tlsrpt-bench-dashboard: the pages' reads and rendering over a database filled
#                 by bench/dashboard_fill.sql with --dashboard-reports reports (0: skipped)
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
while [[ $# -gt 0 ]]; do
  case $1 in
    --sizes) sizes=$2; shift 2 ;;
    --e2e-sizes) e2e_sizes=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --dashboard-reports) dashboard_reports=$2; shift 2 ;;
    --no-write) write_md=0; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "bench: unknown argument $1" >&2; exit 64 ;;
  esac
done

log() { echo "bench: $*" >&2; }
die() { log "$*"; exit 1; }
"$repo/scripts/deps.sh"
[[ -x /usr/bin/time ]] || die "/usr/bin/time is needed (apt-get install time)"

# ---- build (Release, no tests) -------------------------------------------------------------
log "building in $build"
mkdir -p "$build"
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTLSRPT_BUILD_TESTS=OFF \
  -DTLSRPT_BUILD_BENCH=ON >"$build/bench-configure.log" 2>&1 ||
  die "cmake configure failed, see $build/bench-configure.log"
cmake --build "$build" -j"$(nproc)" >"$build/bench-build.log" 2>&1 ||
  die "build failed, see $build/bench-build.log"
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
poll_supported=0
if have "$collector" && "$collector" poll --help >/dev/null 2>&1; then poll_supported=1; fi
for n in $e2e_sizes; do
  for r in $(seq "$runs"); do
    log "IMAP floor, $n messages, run $r"
    sel=$(fill_mailbox "$n")
    record imap_select "$n" "$sel"
    record imap_floor "$n" "$("$bin/tlsrpt-bench-imap-floor" --url "$imap_url" --user bench)"
    [[ $poll_supported -eq 1 ]] || continue
    log "end to end (poll), $n messages, run $r"
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
    "$collector" --config "$work/config.yaml" migrate >/dev/null
    /usr/bin/time -v -o "$work/time.txt" "$collector" --config "$work/config.yaml" poll \
      >"$work/poll.out" 2>"$work/poll.err" || {
      log "poll failed (exit $?): $(tail -n 3 "$work/poll.err")"
      tail -n 1 "$work/poll.err" | sed 's/^.*error: //; s/|/\\|/g' | cut -c1-300 >"$work/poll-failure.txt"
      drop_db "$url"
      continue
    }
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0;
             for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$work/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
    reports=$(psql -At "$url" -c "SELECT count(*) FROM tlsrpt.reports")
    expected=$(jq .reports "$work/expect-$n.json")
    record e2e "$n" "$(jq -nc --argjson s "$wall" --argjson rss "$rss" --argjson n "$n" \
      --argjson got "$reports" --argjson want "$expected" \
      '{seconds: $s, messages_per_s: ($n / $s), peak_rss_kib: $rss, reports: $got,
        expected_reports: $want}')"
    [[ $reports == "$expected" ]] || log "WARNING: poll stored $reports reports, expected $expected"
    drop_db "$url"
  done
done
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
    "$bin/tlsrpt-bench-dashboard" "$url" "$runs" | sed 's/^/- /'
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
