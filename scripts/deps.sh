#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages tlsrpt-collector needs to build, test and run its local demo.
# Idempotent and silent when everything is present.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang clang-format libclang-rt-14-dev
  libcurl4-openssl-dev libgmime-3.0-dev zlib1g-dev rapidjson-dev libpqxx-dev
  libyaml-cpp-dev doctest-dev libspdlog-dev libcli11-dev libunbound-dev libopendkim-dev
  dns-root-data unbound ldnsutils python3-dkim python3-cryptography
  postgresql postgresql-client dovecot-imapd openssl curl procps time iproute2 jq python3
  man-db bsdextrautils zsh libsystemd-dev
  debhelper dpkg-dev fakeroot lintian
  chromium
  libmicrohttpd-dev
  # the SMTP sink of the notification tests (tests/monitor/sinks.py), run by /usr/bin/python3
  python3-aiosmtpd
  # promtool (tests of /metrics): Debian 12 ships it only in the prometheus package
  prometheus
  # Cyrus IMAP, the harness's second IMAP server (issue 23): cyrus-common (master, libraries)
  # installs beside dovecot-imapd; imapd itself comes from cyrus-imapd, unpacked below.
  # saslpasswd2 (sasl2-bin) writes the test users' sasldb.
  # libeatmydata: the harness's Cyrus without fsync (scripts/services.sh).
  cyrus-common sasl2-bin libeatmydata1
)

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian's cyrus-imapd and dovecot-imapd conflict (both provide imap-server): installing one
# removes the other. scripts/services.sh needs only imapd and idled, so the package is
# unpacked, not installed, into the harness's own directory (matching the installed
# cyrus-common, whose libraries it links).
unpack_cyrus_imapd() {
  local dir=${TLSRPT_CYRUS_IMAPD_DIR:-$repo/.deps/cyrus-imapd}
  local want have=''
  want=$(dpkg-query -W -f='${Version}' cyrus-common 2>/dev/null || true)
  [[ -n $want ]] || return 0
  [[ -f $dir/version ]] && have=$(cat "$dir/version")
  [[ $have == "$want" && -x $dir/usr/lib/cyrus/bin/imapd ]] && return 0
  echo "deps: unpacking cyrus-imapd $want into $dir" >&2
  local tmp
  tmp=$(mktemp -d)
  # apt-get download writes into the current directory, as the _apt user when it can.
  chmod 777 "$tmp"
  (cd "$tmp" && apt-get download -qq "cyrus-imapd=$want" >/dev/null 2>&1) ||
    { rm -rf "$tmp"; echo "deps: cannot download cyrus-imapd $want" >&2; exit 1; }
  rm -rf "$dir"
  mkdir -p "$dir"
  dpkg -x "$tmp"/cyrus-imapd_*.deb "$dir"
  echo "$want" >"$dir/version"
  rm -rf "$tmp"
}

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  unpack_cyrus_imapd
  exit 0
fi

echo "deps: installing ${missing[*]}" >&2
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
# Package installs must not start system-wide servers: the project runs its own on loopback.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod +x "$policy"
  created_policy=1
fi
trap '[[ $created_policy -eq 1 ]] && "${sudo[@]}" rm -f "$policy"' EXIT
"${sudo[@]}" apt-get update -qq >/dev/null
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
unpack_cyrus_imapd
