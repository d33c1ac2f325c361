#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The local service harness: a private PostgreSQL 15 cluster, a private Dovecot instance, a
# small OAuth2 token service that Dovecot introspects tokens against
# (tests/harness/oauth2_server.py) and a private Cyrus IMAP (the second real IMAP server the
# IMAP and e2e tests also run against), on loopback only, with all state under one directory.
# Used by the tests, the benchmarks and the README's "try it" command.
#
#   scripts/services.sh start   start them (idempotent); prints the environment to use
#   scripts/services.sh stop    stop what this script started, by pid
#   scripts/services.sh env     print the environment (for: eval "$(scripts/services.sh env)")
#   scripts/services.sh status  say what is running (exit 0 only when all are)
#
# Environment: TLSRPT_STATE_DIR (default: <repo>/.state), TLSRPT_PG_PORT, TLSRPT_IMAP_PORT,
# TLSRPT_IMAPS_PORT, TLSRPT_OAUTH_PORT, TLSRPT_CYRUS_PORT, TLSRPT_CYRUS_IMAPS_PORT (default:
# free ports picked at first start, then kept); TLSRPT_CYRUS=0 leaves Cyrus out;
# TLSRPT_CYRUS_IMAPD_DIR: where scripts/deps.sh unpacked Debian's cyrus-imapd (default
# <repo>/.deps/cyrus-imapd).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state=${TLSRPT_STATE_DIR:-$repo/.state}
pgbin=/usr/lib/postgresql/15/bin
mail_user=tlsrpt-mail
test_password=tlsrpt-test-password
imap_users=(reports demo bench t1 t2 t3 t4 t5 t6 t7 t8 t9)
# Logs in only with an OAuth2 token from the token service (its passdb is oauth2).
oauth_user=oauth

die() { echo "services: $*" >&2; exit 1; }
log() { echo "services: $*" >&2; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
  # Below the kernel's ephemeral range: a port that some outgoing connection holds as its
  # local port cannot be bound by a listener, and a connect test does not see that.
  local p low
  low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  ((low > 12000)) || low=32768
  for _ in $(seq 1 200); do
    p=$((10000 + RANDOM % (low - 10000)))
    port_in_use "$p" && continue
    ss -Htan "( sport = :$p )" 2>/dev/null | grep -q . && continue
    echo "$p"
    return
  done
  die "cannot pick a free port"
}

as_user() {  # as_user USER CMD...: run as USER when we are root, else as ourselves
  local user=$1; shift
  if [[ $(id -u) -eq 0 ]]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

ensure_user() {
  [[ $(id -u) -eq 0 ]] || return 0
  id "$mail_user" >/dev/null 2>&1 ||
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$mail_user"
  id postgres >/dev/null 2>&1 ||
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postgres
}

load_ports() {
  if [[ -f $state/ports ]]; then
    # shellcheck disable=SC1091
    source "$state/ports"
  fi
  pg_port=${TLSRPT_PG_PORT:-${pg_port:-$(pick_port)}}
  imap_port=${TLSRPT_IMAP_PORT:-${imap_port:-$(pick_port)}}
  imaps_port=${TLSRPT_IMAPS_PORT:-${imaps_port:-$(pick_port)}}
  oauth_port=${TLSRPT_OAUTH_PORT:-${oauth_port:-$(pick_port)}}
  cyrus_port=${TLSRPT_CYRUS_PORT:-${cyrus_port:-$(pick_port)}}
  cyrus_imaps_port=${TLSRPT_CYRUS_IMAPS_PORT:-${cyrus_imaps_port:-$(pick_port)}}
  printf 'pg_port=%s\nimap_port=%s\nimaps_port=%s\noauth_port=%s\ncyrus_port=%s\ncyrus_imaps_port=%s\n' \
    "$pg_port" "$imap_port" "$imaps_port" "$oauth_port" "$cyrus_port" "$cyrus_imaps_port" \
    >"$state/ports"
}

pid_alive() { [[ -f $1 ]] && kill -0 "$(head -n1 "$1")" 2>/dev/null; }

write_env() {
  cat >"$state/env.sh" <<ENV
export TLSRPT_STATE_DIR='$state'
export TLSRPT_TEST_PG_HOST=127.0.0.1
export TLSRPT_TEST_PG_PORT=$pg_port
export TLSRPT_TEST_DATABASE_URL='postgresql://tlsrpt:tlsrpt@127.0.0.1:$pg_port/tlsrpt_test'
export TLSRPT_TEST_PG_ADMIN_URL='postgresql://tlsrpt:tlsrpt@127.0.0.1:$pg_port/postgres'
export TLSRPT_TEST_IMAP_HOST=127.0.0.1
export TLSRPT_TEST_IMAP_PORT=$imap_port
export TLSRPT_TEST_IMAPS_PORT=$imaps_port
export TLSRPT_TEST_IMAP_PASSWORD='$test_password'
export TLSRPT_TEST_IMAP_USERS='${imap_users[*]}'
export TLSRPT_TEST_CA_FILE='$state/tls/ca.pem'
export TLSRPT_TEST_MAIL_DIR='$state/mail'
export TLSRPT_TEST_MAIL_USER='$mail_user'
export TLSRPT_TEST_DOVECOT_CONF='$state/dovecot/dovecot.conf'
export TLSRPT_TEST_OAUTH_URL='http://127.0.0.1:$oauth_port'
export TLSRPT_TEST_OAUTH_USER='$oauth_user'
ENV
  if [[ $cyrus_running -eq 1 ]]; then
    cat >>"$state/env.sh" <<ENV
export TLSRPT_TEST_CYRUS_IMAP_PORT=$cyrus_port
export TLSRPT_TEST_CYRUS_IMAPS_PORT=$cyrus_imaps_port
export TLSRPT_TEST_CYRUS_VERSION='$cyrus_version'
ENV
  fi
}

# --- PostgreSQL --------------------------------------------------------------------------

start_pg() {
  local dir=$state/pg
  mkdir -p "$dir"
  if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir"; fi
  chmod 700 "$dir"
  if [[ ! -f $dir/data/PG_VERSION ]]; then
    local pwfile=$dir/pw
    echo tlsrpt >"$pwfile"
    if [[ $(id -u) -eq 0 ]]; then chown postgres: "$pwfile"; fi
    as_user postgres "$pgbin/initdb" -D "$dir/data" -U tlsrpt --pwfile="$pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; die "cannot initdb in $dir/data"; }
    rm -f "$pwfile"
  fi
  if pid_alive "$dir/data/postmaster.pid"; then return 0; fi
  mkdir -p "$dir/sock"
  if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir/sock"; fi
  as_user postgres "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $dir/sock -c max_connections=100" \
    start >/dev/null || { tail -n 20 "$dir/postgres.log" >&2; die "cannot start PostgreSQL"; }
  for db in tlsrpt_test tlsrpt; do
    as_user postgres psql -h "$dir/sock" -p "$pg_port" -U tlsrpt -d postgres -qAt \
      -c "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 ||
      as_user postgres psql -h "$dir/sock" -p "$pg_port" -U tlsrpt -d postgres -q \
        -c "CREATE DATABASE $db" >/dev/null
  done
}

stop_pg() {
  local dir=$state/pg
  if pid_alive "$dir/data/postmaster.pid"; then
    as_user postgres "$pgbin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null ||
      kill -9 "$(head -n1 "$dir/data/postmaster.pid")" 2>/dev/null || true
  fi
}

# --- Dovecot -----------------------------------------------------------------------------

make_certs() {
  local dir=$state/tls
  [[ -f $dir/server.pem && -f $dir/ca.pem ]] && return 0
  mkdir -p "$dir"
  (
    cd "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=tlsrpt-collector test CA" \
      -keyout ca.key -out ca.pem 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key \
      -out server.csr 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >ext.cnf
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile ext.cnf -out server.pem 2>/dev/null
    # A certificate no test trusts, for "certificate not trusted" cases.
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
      -keyout untrusted.key -out untrusted.pem 2>/dev/null
    rm -f server.csr ext.cnf
    chmod 600 ./*.key
  )
}

write_dovecot_conf() {
  local dir=$state/dovecot
  mkdir -p "$dir/run" "$dir/state" "$state/mail"
  local owner=""
  if [[ $(id -u) -eq 0 ]]; then
    owner=$mail_user
    chown "$mail_user:" "$state/mail"
  else
    owner=$(id -un)
  fi
  local uid gid
  uid=$(id -u "$owner")
  gid=$(id -g "$owner")
  : >"$dir/passwd"
  for u in "${imap_users[@]}"; do
    echo "$u:{PLAIN}$test_password:$uid:$gid::$state/mail/$u::" >>"$dir/passwd"
  done
  # No password: this user can only log in with a token (the oauth2 passdb).
  : >"$dir/oauth-users"
  echo "$oauth_user::$uid:$gid::$state/mail/$oauth_user::" >>"$dir/oauth-users"
  # RFC 7662 introspection against the harness's token service.
  cat >"$dir/oauth2.conf.ext" <<OAUTH
introspection_mode = post
introspection_url = http://127.0.0.1:$oauth_port/introspect
username_attribute = username
active_attribute = active
active_value = true
force_introspection = yes
timeout_msecs = 5000
OAUTH
  cat >"$dir/dovecot.conf" <<CONF
# Generated by scripts/services.sh; reads no system configuration.
base_dir = $dir/run
state_dir = $dir/state
instance_name = tlsrpt-test-$imap_port
log_path = $dir/dovecot.log
info_log_path = $dir/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <$state/tls/server.pem
ssl_key = <$state/tls/server.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
mail_location = maildir:~/Maildir
mail_plugins =
first_valid_uid = 1
first_valid_gid = 1
passdb {
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%n $dir/passwd
}
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $dir/oauth2.conf.ext
}
userdb {
  driver = passwd-file
  args = username_format=%n $dir/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%n $dir/oauth-users
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Archive {
    auto = no
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imap_port
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $imaps_port
    ssl = yes
  }
}
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}
protocol imap {
  mail_max_userip_connections = 50
}
CONF
  if [[ $(id -u) -ne 0 ]]; then
    printf 'default_internal_user = %s\ndefault_login_user = %s\n' "$owner" "$owner" >>"$dir/dovecot.conf"
  fi
}

start_dovecot() {
  local dir=$state/dovecot
  make_certs
  local before=""
  # A state directory from before oauth2.conf.ext existed lacks it: cat's failure must not end
  # the script (set -e), the comparison below then sees a change and reloads.
  [[ -f $dir/dovecot.conf ]] && before=$(cat "$dir/dovecot.conf" "$dir/oauth2.conf.ext" 2>/dev/null || true)
  write_dovecot_conf
  if pid_alive "$dir/run/master.pid"; then
    # A harness started by an older version of this script: SIGHUP makes Dovecot re-read it.
    if [[ $before != "$(cat "$dir/dovecot.conf" "$dir/oauth2.conf.ext")" ]]; then
      kill -HUP "$(head -n1 "$dir/run/master.pid")"
      sleep 1
    fi
    return 0
  fi
  # Dovecot keeps the caller's stdout/stderr open unless they are redirected.
  dovecot -c "$dir/dovecot.conf" </dev/null >>"$dir/dovecot.log" 2>&1 ||
    { tail -n 20 "$dir/dovecot.log" >&2; die "cannot start Dovecot"; }
  for _ in $(seq 1 100); do
    port_in_use "$imap_port" && port_in_use "$imaps_port" && return 0
    sleep 0.1
  done
  tail -n 20 "$dir/dovecot.log" >&2
  die "Dovecot did not open ports $imap_port/$imaps_port"
}

# --- OAuth2 token service ----------------------------------------------------------------

start_oauth() {
  local dir=$state/oauth
  mkdir -p "$dir"
  if pid_alive "$dir/pid"; then return 0; fi
  rm -f "$dir/pid"
  python3 "$repo/tests/harness/oauth2_server.py" "$oauth_port" "$dir/pid" \
    </dev/null >>"$dir/oauth.log" 2>&1 &
  disown
  for _ in $(seq 1 100); do
    [[ -f $dir/pid ]] && port_in_use "$oauth_port" && return 0
    sleep 0.1
  done
  tail -n 20 "$dir/oauth.log" >&2
  die "the OAuth2 token service did not open port $oauth_port"
}

stop_oauth() {
  local pidfile=$state/oauth/pid
  if pid_alive "$pidfile"; then
    kill "$(head -n1 "$pidfile")" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

stop_dovecot() {
  local pidfile=$state/dovecot/run/master.pid
  if pid_alive "$pidfile"; then
    local pid
    pid=$(head -n1 "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
}

# --- Cyrus IMAP --------------------------------------------------------------------------
# Debian's cyrus-imapd conflicts with dovecot-imapd (both provide imap-server), but
# cyrus-common (master, the libraries, the tools) installs beside Dovecot, and scripts/deps.sh
# unpacks imapd and idled from the cyrus-imapd package into $cyrus_imapd_dir. Users and
# password as for Dovecot (a sasldb of our own), folders at the top level like Dovecot's
# (altnamespace, "/" as separator).

cyrus_running=0
cyrus_version=''
cyrus_bin=/usr/lib/cyrus/bin
cyrus_imapd_dir=${TLSRPT_CYRUS_IMAPD_DIR:-$repo/.deps/cyrus-imapd}/usr/lib/cyrus/bin
cyrus_admin=cyrusadmin

cyrus_available() {
  [[ ${TLSRPT_CYRUS:-1} != 0 ]] || return 1
  if [[ ! -x $cyrus_bin/master || ! -x $cyrus_imapd_dir/imapd ]] || ! command -v saslpasswd2 >/dev/null; then
    log "Cyrus IMAP left out: no $cyrus_bin/master, $cyrus_imapd_dir/imapd or saslpasswd2 (run scripts/deps.sh)"
    return 1
  fi
}

write_cyrus_conf() {
  local dir=$state/cyrus owner
  if [[ $(id -u) -eq 0 ]]; then owner=$mail_user; else owner=$(id -un); fi
  mkdir -p "$dir/config" "$dir/spool" "$dir/run/socket" "$dir/run/proc" "$dir/run/lock" "$dir/tls"
  # Cyrus reads its key as the unprivileged user it becomes.
  cp "$state/tls/server.pem" "$state/tls/server.key" "$dir/tls/"
  cat >"$dir/imapd.conf" <<CONF
# Generated by scripts/services.sh; reads no system configuration.
configdirectory: $dir/config
defaultpartition: default
partition-default: $dir/spool
proc_path: $dir/run/proc
mboxname_lockpath: $dir/run/lock
idlesocket: $dir/run/socket/idle
notifysocket: $dir/run/socket/notify
lmtpsocket: $dir/run/socket/lmtp
master_pid_file: $dir/run/master.pid
servername: localhost
cyrus_user: $owner
admins: $cyrus_admin
altnamespace: yes
unixhierarchysep: yes
hashimapspool: false
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $dir/sasldb2
sasl_mech_list: PLAIN LOGIN
tls_server_cert: $dir/tls/server.pem
tls_server_key: $dir/tls/server.key
tls_versions: tls1_2 tls1_3
syslog_prefix: tlsrpt-cyrus-$cyrus_port
autocreate_quota: 0
# IDLE: idled (DAEMON below) tells imapd of new mail at once; without it Cyrus looks every
# imapidlepoll seconds (60 by default), and the IDLE tests would wait that long (issue 23).
imapidlepoll: 1
maxlogins_per_user: 0
CONF
  cat >"$dir/cyrus.conf" <<CONF
# Generated by scripts/services.sh.
START {
  recover cmd="$cyrus_bin/ctl_cyrusdb -C $dir/imapd.conf -r"
}
SERVICES {
  imap cmd="$cyrus_imapd_dir/imapd -C $dir/imapd.conf" listen="127.0.0.1:$cyrus_port" prefork=0 maxchild=100
  imaps cmd="$cyrus_imapd_dir/imapd -s -C $dir/imapd.conf" listen="127.0.0.1:$cyrus_imaps_port" prefork=0 maxchild=100
}
DAEMON {
  idled cmd="$cyrus_imapd_dir/idled -C $dir/imapd.conf"
}
CONF
  if [[ ! -f $dir/sasldb2 ]]; then
    for u in "${imap_users[@]}" "$cyrus_admin"; do
      echo -n "$test_password" | saslpasswd2 -p -c -f "$dir/sasldb2" -u localhost "$u"
    done
  fi
  if [[ $(id -u) -eq 0 ]]; then chown -R "$owner:" "$dir"; fi
  chmod 600 "$dir/sasldb2" "$dir/tls/server.key"
}

start_cyrus() {
  cyrus_available || return 0
  local dir=$state/cyrus
  make_certs
  write_cyrus_conf
  cyrus_version=$(dpkg-query -W -f='${Version}' cyrus-common 2>/dev/null || true)
  if ! pid_alive "$dir/run/master.pid"; then
    rm -f "$dir/run/master.pid"
    # Cyrus syncs every APPEND and flag change to disk: on a busy machine that made the e2e
    # suite's Cyrus half take minutes of waiting for the disk. A harness throwaway needs no
    # durability, so its syncs become no-ops (libeatmydata, when installed: scripts/deps.sh).
    local preload=''
    preload=$(ldconfig -p 2>/dev/null | awk '/libeatmydata\.so /{print $NF; exit}')
    LD_PRELOAD=$preload "$cyrus_bin/master" -C "$dir/imapd.conf" -M "$dir/cyrus.conf" -p "$dir/run/master.pid" -d \
      </dev/null >>"$dir/master.log" 2>&1 || { tail -n 20 "$dir/master.log" >&2; die "cannot start Cyrus IMAP"; }
    local up=0
    for _ in $(seq 1 100); do
      if port_in_use "$cyrus_port" && port_in_use "$cyrus_imaps_port"; then up=1; break; fi
      sleep 0.1
    done
    [[ $up -eq 1 ]] || { tail -n 20 "$dir/master.log" >&2; die "Cyrus did not open ports $cyrus_port/$cyrus_imaps_port"; }
  fi
  # Each user's INBOX, created by the admin (idempotent: an existing one is left alone).
  if [[ ! -f $dir/users-created ]]; then
    python3 - "$cyrus_port" "$cyrus_admin" "$test_password" "${imap_users[@]}" <<'PY' ||
import imaplib, sys
port, admin, password, users = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
m = imaplib.IMAP4("127.0.0.1", port)
m.login(admin, password)
for u in users:
    typ, data = m.create("user/" + u)
    if typ != "OK" and b"already exists" not in b" ".join(data).lower():
        sys.exit("cannot create user/%s: %s" % (u, data))
m.logout()
PY
      die "cannot create the Cyrus test users"
    touch "$dir/users-created"
  fi
  cyrus_running=1
}

stop_cyrus() {
  local pidfile=$state/cyrus/run/master.pid
  if pid_alive "$pidfile"; then
    local pid
    pid=$(head -n1 "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
}

case ${1:-} in
  start)
    mkdir -p "$state"
    chmod 755 "$state"
    ensure_user
    load_ports
    start_pg
    start_oauth
    start_dovecot
    start_cyrus
    write_env
    cat "$state/env.sh"
    ;;
  stop)
    stop_cyrus
    stop_dovecot
    stop_oauth
    stop_pg
    ;;
  env)
    [[ -f $state/env.sh ]] || die "not started (no $state/env.sh)"
    cat "$state/env.sh"
    ;;
  status)  # exit 0 when all run, else 3 (LSB "not running")
    rc=0
    svcs=("postgresql $state/pg/data/postmaster.pid" "dovecot $state/dovecot/run/master.pid"
      "oauth2 $state/oauth/pid")
    if cyrus_available 2>/dev/null; then svcs+=("cyrus $state/cyrus/run/master.pid"); fi
    for svc in "${svcs[@]}"; do
      if pid_alive "${svc#* }"; then
        echo "${svc%% *}: running"
      else
        echo "${svc%% *}: stopped"
        rc=3
      fi
    done
    exit $rc
    ;;
  *)
    echo "usage: $0 start|stop|env|status" >&2
    exit 64
    ;;
esac
