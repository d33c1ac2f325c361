#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Debian package, built and tried as an admin would: dpkg-buildpackage, lintian, install,
# the installed program against the harness's servers, the units through systemd-analyze, and
# a purge that leaves nothing behind. Run by ctest (tests/package) as two tests.
#
#   scripts/package.sh build DIR   build the package from a copy of the tree in DIR; lintian
#   scripts/package.sh check DIR   install DIR's package, try it, purge it (root; needs the
#                                  harness: eval "$(scripts/services.sh start)")
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cmd=${1:-}
out=${2:-}
[[ -n $cmd && -n $out ]] || { echo "usage: $0 build|check DIR" >&2; exit 64; }
mkdir -p "$out"
out=$(cd "$out" && pwd)  # apt-get takes a package file only by a path with a slash

die() { echo "package: $*" >&2; exit 1; }
say() { echo "package: $*" >&2; }

sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo -n)

build() {
  rm -rf "$out"
  mkdir -p "$out/src"
  # A copy of what is tracked (or of the tree, outside git): the package is built from the
  # sources alone, never from a developer's build directories.
  if git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$repo" && git ls-files -z --cached --others --exclude-standard |
      xargs -0 cp --parents -t "$out/src" 2>/dev/null) ||
      die "cannot copy the tree to $out/src"
  else
    tar -C "$repo" --exclude='./build*' --exclude=./.state --exclude=./obj-\* -cf - . |
      tar -C "$out/src" -xf -
  fi
  say "building the package in $out"
  (cd "$out/src" && DEB_BUILD_OPTIONS="parallel=$(nproc)" \
    dpkg-buildpackage -b -us -uc >"$out/build.log" 2>&1) ||
    { tail -n 40 "$out/build.log" >&2; die "dpkg-buildpackage failed (log: $out/build.log)"; }
  local changes
  changes=$(ls "$out"/tlsrpt-collector_*.changes)
  say "lintian $changes"
  # Errors and warnings fail; each accepted warning is overridden in debian/ with its reason.
  lintian --fail-on error,warning "$changes" ||
    die "lintian found errors or warnings"
  ls "$out"/tlsrpt-collector_*.deb >/dev/null
  rm -rf "$out/src"  # nothing of the source tree may be needed by the installed program
  say "built $(basename "$(ls "$out"/tlsrpt-collector_*_*.deb | grep -v dbgsym)")"
}

check() {
  local deb
  deb=$(ls "$out"/tlsrpt-collector_*_*.deb | grep -v dbgsym) || die "no package in $out: build first"
  [[ -n ${TLSRPT_TEST_DATABASE_URL:-} ]] || die "no harness: eval \"\$(scripts/services.sh start)\" first"
  dpkg-query -W -f='${Status}' tlsrpt-collector 2>/dev/null | grep -q "install ok installed" &&
    die "tlsrpt-collector is installed already: this test would remove it"

  say "installing $(basename "$deb")"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "$deb" >"$out/install.log" 2>&1 || { cat "$out/install.log" >&2; die "install failed"; }
  trap 'purge' EXIT
  local files
  files=$(dpkg -L tlsrpt-collector)

  # The installed program alone: run from /, with a PATH of system directories only, and no
  # hint towards the source tree or a build.
  local tmp
  tmp=$(mktemp -d)
  chmod 0755 "$tmp"
  clean_env=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/nonexistent)
  run_installed() { (cd / && "${clean_env[@]}" "$@"); }

  [[ $(command -v tlsrpt-collector) == /usr/bin/tlsrpt-collector ]] ||
    die "the program is not /usr/bin/tlsrpt-collector"
  local version
  version=$(run_installed /usr/bin/tlsrpt-collector --version)
  say "installed: $version"
  [[ $version == "tlsrpt-collector "* ]] || die "--version says: $version"

  [[ -f /usr/share/man/man1/tlsrpt-collector.1.gz ]] || die "no man page"
  run_installed man -P cat tlsrpt-collector 2>/dev/null | grep -q "EXIT STATUS" ||
    die "man tlsrpt-collector does not show the manual"
  [[ -f /usr/share/bash-completion/completions/tlsrpt-collector ]] || die "no bash completion"
  [[ -f /usr/share/zsh/vendor-completions/_tlsrpt-collector ]] || die "no zsh completion"
  [[ -f /usr/share/doc/tlsrpt-collector/README.md ]] || die "no README in the docs"
  [[ -f /usr/lib/sysusers.d/tlsrpt-collector.conf ]] || die "no sysusers.d entry"
  id tlsrpt >/dev/null 2>&1 || die "the postinst did not create the tlsrpt user"
  [[ $(stat -c '%a %U %G' /etc/tlsrpt-collector/config.yaml) == "640 root tlsrpt" ]] ||
    die "config.yaml is $(stat -c '%a %U %G' /etc/tlsrpt-collector/config.yaml)"
  [[ $(stat -c '%a' /etc/tlsrpt-collector/environment) == 600 ]] || die "environment is not 0600"
  [[ $(stat -c '%a' /etc/tlsrpt-collector/credentials) == 700 ]] ||
    die "credentials/ is not 0700"
  # The shipped configuration is valid as it is (everything in it is a comment).
  run_installed /usr/bin/tlsrpt-collector -c /etc/tlsrpt-collector/config.yaml check-config \
    >/dev/null 2>&1 || [[ $? -eq 78 ]] || die "check-config on the shipped file crashed"

  # migrate into a fresh database of the harness, through the installed migrations.
  local db=tlsrpt_package_test
  psql -qAtX "$TLSRPT_TEST_PG_ADMIN_URL" -c "drop database if exists $db" >/dev/null 2>&1
  psql -qAtX "$TLSRPT_TEST_PG_ADMIN_URL" -c "create database $db owner tlsrpt" >/dev/null
  local url=${TLSRPT_TEST_DATABASE_URL%/*}/$db
  run_installed env TLSRPT_DATABASE_URL="$url" /usr/bin/tlsrpt-collector migrate 2>"$tmp/migrate.log" ||
    { cat "$tmp/migrate.log" >&2; die "the installed migrate failed"; }
  local installed_migrations applied
  installed_migrations=$(ls /usr/share/tlsrpt-collector/migrations/*.sql | wc -l)
  applied=$(psql -qAtX "$url" -c "select count(*) from tlsrpt.schema_migrations")
  [[ $applied -eq $installed_migrations && $applied -gt 0 ]] ||
    die "migrate applied $applied of $installed_migrations installed migrations"

  # One poll of a mailbox with one report in it.
  local folder=package-test
  local curl_imap=(curl -sS --cacert "$TLSRPT_TEST_CA_FILE" -u "t4:$TLSRPT_TEST_IMAP_PASSWORD")
  local base="imaps://127.0.0.1:$TLSRPT_TEST_IMAPS_PORT"
  "${curl_imap[@]}" "$base/" -X "DELETE $folder" >/dev/null 2>&1 || true
  "${curl_imap[@]}" "$base/" -X "CREATE $folder" >/dev/null
  "${curl_imap[@]}" "$base/$folder" -T "$repo/tests/data/mail/inbox-example.com-2026-11-02.eml" >/dev/null
  cp "$TLSRPT_TEST_CA_FILE" "$tmp/ca.pem"
  chmod 0644 "$tmp/ca.pem"
  cat >"$tmp/config.yaml" <<EOF
mailboxes:
  - name: package
    url: $base/$folder
    username: t4
    password_env: TLSRPT_PACKAGE_PW
    ca_file: $tmp/ca.pem
EOF
  run_installed env TLSRPT_DATABASE_URL="$url" TLSRPT_PACKAGE_PW="$TLSRPT_TEST_IMAP_PASSWORD" \
    /usr/bin/tlsrpt-collector -c "$tmp/config.yaml" poll 2>"$tmp/poll.log" ||
    { cat "$tmp/poll.log" >&2; die "the installed poll failed"; }
  local reports
  reports=$(psql -qAtX "$url" -c "select count(*) from tlsrpt.reports")
  [[ $reports -eq 1 ]] || { cat "$tmp/poll.log" >&2; die "poll stored $reports reports, not 1"; }
  say "installed migrate and poll: $applied migrations, $reports report stored"
  psql -qAtX "$TLSRPT_TEST_PG_ADMIN_URL" -c "drop database if exists $db" >/dev/null

  # The units as installed.
  systemd-analyze verify /lib/systemd/system/tlsrpt-collector.service \
    /lib/systemd/system/tlsrpt-collector-poll.service \
    /lib/systemd/system/tlsrpt-collector-poll.timer 2>&1 | tee "$tmp/verify.log" >&2
  [[ ! -s $tmp/verify.log ]] || die "systemd-analyze verify complained"
  local unit exposure
  for unit in tlsrpt-collector.service tlsrpt-collector-poll.service; do
    # --threshold is on systemd's internal scale (ten times the printed level): 20 is 2.0.
    systemd-analyze security --offline=true --threshold=20 "/lib/systemd/system/$unit" \
      >"$tmp/security.log" 2>&1 || { tail -n 5 "$tmp/security.log" >&2; die "$unit: exposure above 2.0"; }
    exposure=$(grep -o 'Overall exposure level for [^:]*: [0-9.]*' "$tmp/security.log")
    say "$exposure"
  done
  rm -rf "$tmp"

  trap - EXIT
  purge
  # Nothing of the package is left: no file it installed, and none of its directories of its
  # own (shared ones like /usr/share/man stay, of course).
  local left=0 f
  while IFS= read -r f; do
    # Directories (and /lib, a link to one on a merged-/usr system) may be shared.
    [[ (-e $f || -L $f) && ! -d $f ]] && { say "left behind: $f"; left=1; }
  done <<<"$files"
  for f in /etc/tlsrpt-collector /usr/share/tlsrpt-collector /usr/share/doc/tlsrpt-collector; do
    [[ -e $f ]] && { say "left behind: $f"; left=1; }
  done
  [[ $left -eq 0 ]] || die "the purge left files behind"
  say "purged: nothing left"
}

purge() {
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive dpkg --purge tlsrpt-collector >/dev/null
}

case $cmd in
  build) build ;;
  check) check ;;
  *) echo "usage: $0 build|check DIR" >&2; exit 64 ;;
esac
