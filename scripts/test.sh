#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The whole test suite, on a fresh Debian 12 machine or a developer's: installs what is
# missing, builds (warnings as errors), starts the local PostgreSQL and Dovecot, runs every
# test through ctest, runs the tests again under ASan/UBSan, runs the fuzzers time-boxed,
# checks formatting, and stops the services even when a test fails.
#
#   scripts/test.sh            everything
#   TLSRPT_TEST_QUICK=1 ...    skip the sanitizer build and the fuzzers
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
jobs=$(nproc)
build=${TLSRPT_BUILD_DIR:-$repo/build}
asan_build=${TLSRPT_ASAN_BUILD_DIR:-$repo/build-asan}

step() { printf '\n==> %s\n' "$*"; }

# The shared corpus of real samples (label `corpus`) is optional on a developer's clone and
# required in CI, where leaving its tests out would hide a regression.
corpus=${TLSRPT_CORPUS_DIR:-$repo/../shared/corpus}
no_corpus=''
if [[ ! -d $corpus ]]; then
  if [[ ${CI:-} == true ]]; then
    echo "test.sh: cannot find the corpus at $corpus (CI=true needs it; set TLSRPT_CORPUS_DIR)" >&2
    exit 1
  fi
  echo "test.sh: no corpus at $corpus: tests labelled 'corpus' not run (set TLSRPT_CORPUS_DIR=/path/to/corpus to run them)"
  no_corpus='|corpus'
fi

step "dependencies"
scripts/deps.sh

step "build ($build)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTLSRPT_WERROR=ON >/dev/null
cmake --build "$build" -j "$jobs"

step "services"
trap 'step "stopping services"; scripts/services.sh stop' EXIT
eval "$(scripts/services.sh start)"

failed=0
step "tests"
# ctest takes one -LE (a regular expression over labels): "^$" excludes nothing.
ctest --test-dir "$build" --output-on-failure -j "$jobs" -LE "^${no_corpus#|}\$" || failed=1

if [[ -z ${TLSRPT_TEST_QUICK:-} ]]; then
  step "build with ASan/UBSan ($asan_build)"
  cmake -S . -B "$asan_build" -DCMAKE_BUILD_TYPE=Debug -DTLSRPT_WERROR=ON -DTLSRPT_SANITIZE=ON >/dev/null
  cmake --build "$asan_build" -j "$jobs"
  step "tests under ASan/UBSan"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    LSAN_OPTIONS=suppressions=$repo/tests/lsan.supp:print_suppressions=0 \
    ctest --test-dir "$asan_build" --output-on-failure -j "$jobs" -LE "^(package$no_corpus)\$" || failed=1

  if [[ -x scripts/fuzz.sh ]]; then
    step "fuzzers (time-boxed)"
    scripts/fuzz.sh || failed=1
  fi
fi

step "formatting"
scripts/format.sh --check || failed=1
scripts/spdx.sh --check || failed=1

if [[ $failed -ne 0 ]]; then
  step "FAILED"
  exit 1
fi
step "all tests passed"
