#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Formats the C++ sources with clang-format (.clang-format); --check only reports.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mapfile -t files < <(git ls-files -co --exclude-standard -- '*.cpp' '*.hpp' | while read -r f; do [[ -f $f ]] && echo "$f"; done)
[[ ${#files[@]} -eq 0 ]] && exit 0
if [[ ${1:-} == --check ]]; then
  if ! clang-format --dry-run --Werror "${files[@]}" 2>/tmp/format.$$; then
    grep -E '^[^ ].*: (warning|error)' /tmp/format.$$ | cut -d: -f1 | sort -u | sed 's/^/needs formatting: /' >&2
    rm -f /tmp/format.$$
    echo "format: run scripts/format.sh" >&2
    exit 1
  fi
  rm -f /tmp/format.$$
else
  clang-format -i "${files[@]}"
fi
