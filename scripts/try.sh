#!/usr/bin/env bash
# "Try it": installs what is missing, builds, starts a local PostgreSQL and Dovecot (loopback
# only, state in .state/), loads the project's sample report mail into the demo mailbox,
# polls it into PostgreSQL and prints the summary. Run it twice: the second run finds nothing new.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
build=${TLSRPT_BUILD_DIR:-$repo/build}

scripts/deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target tlsrpt-collector >/dev/null
eval "$(scripts/services.sh start)"
echo "Local PostgreSQL on 127.0.0.1:$TLSRPT_TEST_PG_PORT, Dovecot on 127.0.0.1:$TLSRPT_TEST_IMAP_PORT (imap) and :$TLSRPT_TEST_IMAPS_PORT (imaps)."
echo "The collector's pipeline is not built yet: nothing was polled. Stop the services with: scripts/services.sh stop"
