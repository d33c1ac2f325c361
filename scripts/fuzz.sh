#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer targets (fuzz/*_fuzzer.cpp) with clang, ASan and UBSan in build-fuzz and
# runs each one time-boxed, seeded from the shared corpus and tests/data.
#   TLSRPT_FUZZ_SECONDS   seconds per fuzzer at most (default 60)
#   TLSRPT_FUZZ_RUNS      inputs per fuzzer at most (default 100000)
#   TLSRPT_FUZZ_SEED      libFuzzer's seed (default 1; "random" for a new one each time)
# A fixed seed, a fresh working corpus and an input budget keep CI's runs close to what a
# developer ran on the same commit (libFuzzer is not bit-for-bit repeatable: coverage
# feedback varies slightly between runs), so CI explores little beyond what was checked before
# a stop. Exploring further is a matter of TLSRPT_FUZZ_SEED=random and a larger
# TLSRPT_FUZZ_RUNS; every finding is kept as a regression input.
#   TLSRPT_CORPUS_DIR     the shared corpus (default ../shared/corpus)
#   TLSRPT_FUZZ_BUILD_DIR build directory (default build-fuzz)
# Exits 1 when a fuzzer finds a crash, a leak, a timeout or an out-of-memory; the input is
# kept under build-fuzz/artifacts/ and the output says where to keep it as a regression test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
seconds=${TLSRPT_FUZZ_SECONDS:-60}
runs=${TLSRPT_FUZZ_RUNS:-100000}
seed=${TLSRPT_FUZZ_SEED:-1}
[[ $seed == random ]] && seed=0  # libFuzzer picks one
corpus=${TLSRPT_CORPUS_DIR:-$root/../shared/corpus}
build=${TLSRPT_FUZZ_BUILD_DIR:-$root/build-fuzz}
jobs=${TLSRPT_FUZZ_BUILD_JOBS:-2}

# The module whose tests replay a fuzzer's regression inputs (tests/data/<module>/...).
module_of() {
  case $1 in
    extract) echo mime ;;
    *) echo "$1" ;;
  esac
}

# Seeds for a fuzzer: the JSON reports (and, for message extraction, whole messages and gzip)
# of the shared corpus, and the module's own samples and kept regressions.
seed_patterns() {
  case $1 in
    report) echo '*.json' ;;
    *) echo '*.json *.json.gz *.gz *.eml' ;;
  esac
}

command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (scripts/deps.sh)" >&2; exit 2; }

names=()
for src in fuzz/*_fuzzer.cpp; do
  [[ -f $src ]] || continue
  n=$(basename "$src" .cpp)
  names+=("${n%_fuzzer}")
done
[[ ${#names[@]} -gt 0 ]] || { echo "fuzz: no fuzz/*_fuzzer.cpp" >&2; exit 2; }

echo "fuzz: configuring $build"
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTLSRPT_FUZZ=ON -DTLSRPT_BUILD_TESTS=OFF >"$build.configure.log" 2>&1 ||
  { cat "$build.configure.log" >&2; echo "fuzz: cannot configure $build" >&2; exit 2; }
# fuzz/CMakeLists.txt skips a fuzzer whose library is not built; so does this script.
available=$(cmake --build "$build" --target help | sed -n 's/^\.\.\. \([a-z_]*_fuzzer\).*/\1/p')
targets=()
built=()
for n in "${names[@]}"; do
  if grep -qx "${n}_fuzzer" <<<"$available"; then
    targets+=("${n}_fuzzer")
    built+=("$n")
  else
    echo "fuzz: warning: ${n}_fuzzer has no target (see $build.configure.log)" >&2
  fi
done
[[ ${#targets[@]} -gt 0 ]] || { echo "fuzz: no fuzzer target to build" >&2; exit 2; }
names=("${built[@]}")
echo "fuzz: building ${targets[*]}"
cmake --build "$build" -j "$jobs" --target "${targets[@]}"

# LeakSanitizer needs ptrace, which some containers forbid; it is on wherever it can run.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
for n in "${names[@]}"; do
  exe=$(find "$build/fuzz" -maxdepth 1 -type f -name "${n}_fuzzer" | head -n 1)
  [[ -n $exe ]] || { echo "fuzz: ${n}_fuzzer was not built" >&2; failed+=("$n"); continue; }
  module=$(module_of "$n")
  work=$build/corpus/$n
  seeds=$build/seeds/$n
  artifacts=$build/artifacts/$n/
  rm -rf "$seeds" "$work"
  mkdir -p "$work" "$seeds" "$artifacts"
  read -r -a patterns <<<"$(seed_patterns "$n")"
  find_args=()
  for p in "${patterns[@]}"; do find_args+=(-name "$p" -o); done
  unset 'find_args[${#find_args[@]}-1]'
  i=0
  if [[ -d $corpus ]]; then
    while IFS= read -r -d '' f; do cp "$f" "$seeds/corpus-$((i++))"; done \
      < <(find "$corpus" -type f \( "${find_args[@]}" \) -print0 | sort -z)
  else
    echo "fuzz: warning: corpus $corpus not found, seeding from tests/data only" >&2
  fi
  if [[ -d tests/data/$module ]]; then
    while IFS= read -r -d '' f; do cp "$f" "$seeds/data-$((i++))"; done \
      < <(find "tests/data/$module" -type f ! -name '*.md' -print0 | sort -z)
  fi
  dict=()
  [[ -f fuzz/$n.dict ]] && dict=(-dict="fuzz/$n.dict")
  echo "fuzz: running ${n}_fuzzer for ${runs} inputs or ${seconds}s, seed ${seed} ($i seeds)"
  find "$artifacts" -type f | sort >"$build/$n.before"
  status=0
  "$exe" -seed="$seed" -runs="$runs" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$artifacts" "${dict[@]}" "$work" "$seeds" \
    >"$build/$n.log" 2>&1 || status=$?
  tail -n 25 "$build/$n.log"
  mapfile -t found < <(find "$artifacts" -type f | sort | comm -13 "$build/$n.before" -)
  if [[ $status -ne 0 || ${#found[@]} -gt 0 ]]; then
    failed+=("$n")
    echo "fuzz: ${n}_fuzzer FAILED (exit $status); full log: $build/$n.log" >&2
    for f in "${found[@]}"; do
      echo "fuzz: finding: $f" >&2
      echo "fuzz:   keep it as a regression test once fixed:" >&2
      echo "fuzz:     cp '$f' tests/data/$module/fuzz-regressions/$n-$(sha1sum "$f" | cut -c1-12)" >&2
      echo "fuzz:   (the $module unit tests replay every file there)" >&2
    done
  fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: OK: ${names[*]} (${runs} inputs or ${seconds}s each, seed ${seed})"
