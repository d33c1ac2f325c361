#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every source file of the project carries an SPDX licence line (Apache-2.0, see LICENSE):
#   scripts/spdx.sh           add it where it is missing
#   scripts/spdx.sh --check   list the files without it; exit 1 if there are any (CI)
# Source files: C++, CMake, shell, Python, SQL, JavaScript and CSS. Data (test samples, JSON,
# mail), documents and the applied-once SQL migrations are not marked.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
check=0
[[ ${1:-} == --check ]] && check=1
tag="SPDX-License-Identifier: Apache-2.0"

comment_for() {  # the comment leader of a file's language, empty when it is not a source
  case $1 in
    *.cpp | *.hpp | *.h | *.c | *.js | *.css) echo "//" ;;
    *.sql) echo "--" ;;
    *.sh | *.py | *.cmake | */CMakeLists.txt | CMakeLists.txt | *.service.in | *.timer | \
      *.conf | debian/rules) echo "#" ;;
    *) echo "" ;;
  esac
}

missing=()
while IFS= read -r -d '' f; do
  [[ -f $f ]] || continue
  # Migrations are recorded with their SHA-256 once applied: they never change, not even here.
  case $f in tests/data/* | fuzz/corpus/* | fuzz/*/corpus/* | migrations/*) continue ;; esac
  leader=$(comment_for "$f")
  [[ -n $leader ]] || continue
  head -n 5 "$f" | grep -q "$tag" && continue
  if [[ $check -eq 1 ]]; then
    missing+=("$f")
    continue
  fi
  tmp=$(mktemp)
  if head -n 1 "$f" | grep -q '^#!'; then
    { head -n 1 "$f"; echo "$leader $tag"; tail -n +2 "$f"; } >"$tmp"
  else
    { echo "$leader $tag"; cat "$f"; } >"$tmp"
  fi
  chmod --reference="$f" "$tmp"
  mv "$tmp" "$f"
done < <(git ls-files -z --cached --others --exclude-standard)

if [[ $check -eq 1 && ${#missing[@]} -gt 0 ]]; then
  printf 'spdx: no "%s" line in:\n' "$tag" >&2
  printf '  %s\n' "${missing[@]}" >&2
  echo "spdx: run scripts/spdx.sh to add it" >&2
  exit 1
fi
exit 0
