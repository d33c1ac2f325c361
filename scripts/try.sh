#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# "Try it": installs what is missing, builds, starts a local PostgreSQL and Dovecot (loopback
# only, state in .state/), loads the project's sample report mail (tests/data/mail) into the
# `demo` mailbox, polls it into PostgreSQL and prints the summary. Run it twice: the second run
# loads nothing, and the poll finds nothing new.
#
# Stop the services afterwards with: scripts/services.sh stop
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
build=${TLSRPT_BUILD_DIR:-$repo/build}

say() { printf '\n==> %s\n' "$*"; }
die() { echo "try: $*" >&2; exit 1; }

say "dependencies"
scripts/deps.sh

say "build ($build)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target tlsrpt-collector >/dev/null
bin=$build/app/tlsrpt-collector
[[ -x $bin ]] || die "the build did not produce $bin"

say "services"
eval "$(scripts/services.sh start)"
echo "PostgreSQL on 127.0.0.1:$TLSRPT_TEST_PG_PORT, Dovecot on 127.0.0.1:$TLSRPT_TEST_IMAPS_PORT (imaps)"

# The demo's own database, kept between runs (that is what makes the second run a no-op).
demo_db=tlsrpt_demo
export TLSRPT_DATABASE_URL="${TLSRPT_TEST_PG_ADMIN_URL%/*}/$demo_db"
fresh_db=0
if [[ -z $(psql -qAtX "$TLSRPT_TEST_PG_ADMIN_URL" -c "select 1 from pg_database where datname = '$demo_db'") ]]; then
  psql -qAtX "$TLSRPT_TEST_PG_ADMIN_URL" -c "create database $demo_db" >/dev/null
  echo "created database $demo_db"
  fresh_db=1
fi

say "sample report mail -> the demo mailbox (INBOX of user demo)"
shopt -s nullglob
samples=(tests/data/mail/*.eml)
[[ ${#samples[@]} -gt 0 ]] || die "no sample mail in tests/data/mail: nothing to load"
imap=(curl -sS --cacert "$TLSRPT_TEST_CA_FILE" -u "demo:$TLSRPT_TEST_IMAP_PASSWORD")
inbox="imaps://127.0.0.1:$TLSRPT_TEST_IMAPS_PORT/INBOX"
# A new database with an old mailbox would find every sample already marked processed and
# show an empty summary: start the demo mailbox afresh with the database.
if [[ $fresh_db -eq 1 ]]; then
  "${imap[@]}" "$inbox" -X 'UID STORE 1:* +FLAGS.SILENT (\Deleted)' >/dev/null 2>&1 || true
  "${imap[@]}" "$inbox" -X 'EXPUNGE' >/dev/null 2>&1 || true
fi
loaded=0 present=0
for f in "${samples[@]}"; do
  # A message already in the mailbox (by its Message-ID) is not loaded twice.
  id=$(grep -im1 '^Message-ID:' "$f" | sed 's/^[^:]*:[[:space:]]*//; s/[[:space:]]*$//' || true)
  if [[ -n $id ]] && "${imap[@]}" "$inbox" -X "UID SEARCH HEADER Message-ID \"$id\"" |
    grep -q '^\* SEARCH [0-9]'; then
    present=$((present + 1))
    continue
  fi
  "${imap[@]}" "$inbox" -T "$f"
  loaded=$((loaded + 1))
done
echo "loaded $loaded new message(s); $present were already in the mailbox"

config=$TLSRPT_STATE_DIR/demo/config.yaml
mkdir -p "$(dirname "$config")"
cat >"$config" <<YAML
# Written by scripts/try.sh for the local demo mailbox.
mailboxes:
  - name: demo
    url: imaps://127.0.0.1:$TLSRPT_TEST_IMAPS_PORT/INBOX
    username: demo
    password_env: TLSRPT_DEMO_PASSWORD
    ca_file: $TLSRPT_TEST_CA_FILE
YAML
export TLSRPT_DEMO_PASSWORD=$TLSRPT_TEST_IMAP_PASSWORD

say "poll: one pass over the mailbox ($bin -c $config poll)"
rc=0
"$bin" -c "$config" poll || rc=$?
[[ $rc -eq 0 ]] || die "poll failed (exit $rc): see the messages above"

# The samples are dated; a wide window shows them whatever today's date is.
say "summary ($bin summary --days 3650)"
"$bin" summary --days 3650

cat <<EOF2

Done. Try also:
  $bin parse tests/data/mail/${samples[0]##*/}
  $bin summary --days 3650 --format json
  TLSRPT_DEMO_PASSWORD=... $bin -c $config check-config --connect
Run scripts/try.sh again: it loads nothing and the poll finds nothing new.
Stop the services with: scripts/services.sh stop
EOF2
