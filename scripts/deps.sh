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
  # promtool (tests of /metrics): Debian 12 ships it only in the prometheus package
  prometheus
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

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
