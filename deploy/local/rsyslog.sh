#!/usr/bin/env bash
# A throwaway rsyslog (Debian's rsyslog and rsyslog-gnutls packages) receiving RFC 5424 syslog over TCP
# (RFC 6587 octet counting) and TLS (RFC 5425) on free loopback ports, writing every message to one file, without
# containers. The SIEM export tests and local runs of the syslog sink use it. Usage:
#   deploy/local/rsyslog.sh install         -> installs the packages with apt-get when missing and we are root
#   deploy/local/rsyslog.sh prepare DIR     -> writes DIR/rsyslog.conf (and a CA + server certificate in DIR/tls when
#                                              rsyslog-gnutls is there) and prints KEY=VALUE lines:
#                                                CMK_RSYSLOGD, CMK_RSYSLOG_CONF, CMK_RSYSLOG_PORT, CMK_RSYSLOG_OUTPUT,
#                                                CMK_RSYSLOG_TLS_PORT and CMK_RSYSLOG_CA (only with TLS)
#   deploy/local/rsyslog.sh start DIR       -> prepare, then start rsyslogd in the background (pid in DIR/rsyslogd.pid)
#   deploy/local/rsyslog.sh stop DIR        -> stops it and removes DIR
# Use:  eval "$(deploy/local/rsyslog.sh start /tmp/rsyslog)"
set -euo pipefail
cmd=${1:?install|prepare|start|stop}

gtls_module() {
  local m
  for m in /usr/lib/*/rsyslog/lmnsd_gtls.so /usr/lib/rsyslog/lmnsd_gtls.so /usr/lib64/rsyslog/lmnsd_gtls.so; do
    [ -e "$m" ] && { echo "$m"; return 0; }
  done
  return 1
}

# rsyslogd lives in /usr/sbin, which is not on a normal user's PATH.
rsyslogd_bin() {
  command -v rsyslogd 2>/dev/null || { [ -x /usr/sbin/rsyslogd ] && echo /usr/sbin/rsyslogd; }
}

install_rsyslog() {
  if rsyslogd_bin >/dev/null && gtls_module >/dev/null; then return 0; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "rsyslog or rsyslog-gnutls not found: installing with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends rsyslog rsyslog-gnutls >&2 ||
      { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends rsyslog rsyslog-gnutls >&2; }
    # The package starts the system daemon where an init system runs; ours are separate processes on their own ports.
  fi
  rsyslogd_bin >/dev/null || { echo "rsyslogd not found (apt-get install rsyslog rsyslog-gnutls, as root)" >&2; exit 3; }
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

make_certs() {
  local t=$1
  mkdir -p "$t"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=cmk test syslog CA" \
    -keyout "$t/ca.key" -out "$t/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$t/server.key" -out "$t/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$t/ext.cnf"
  openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial -days 2 \
    -extfile "$t/ext.cnf" -out "$t/server.pem" 2>/dev/null
  rm -f "$t/server.csr" "$t/ext.cnf" "$t/ca.key"
}

prepare() {
  local dir=$1
  mkdir -p "$dir/work"
  dir=$(cd "$dir" && pwd)
  local port tls_port="" global_tls="" tls_input=""
  port=$(free_port)
  if gtls_module >/dev/null; then
    make_certs "$dir/tls"
    tls_port=$(free_port)
    global_tls=" defaultNetstreamDriverCAFile=\"$dir/tls/ca.pem\" defaultNetstreamDriverCertFile=\"$dir/tls/server.pem\" defaultNetstreamDriverKeyFile=\"$dir/tls/server.key\""
    tls_input="input(type=\"imtcp\" port=\"$tls_port\" address=\"127.0.0.1\" ruleset=\"siem\" streamDriver.name=\"gtls\" streamDriver.mode=\"1\" streamDriver.authMode=\"anon\")"
  fi
  cat >"$dir/rsyslog.conf" <<CONF
global(workDirectory="$dir/work" maxMessageSize="1m"$global_tls)
module(load="imtcp" maxSessions="200")
# Direct main queue: each message is written by omfile before imtcp reads further from the connection, so once
# rsyslog closes a connection after the sender's FIN, everything the sender wrote is in the file. The syslog
# sink's receiver-close confirmation relies on that; production receivers use a disk-assisted queue instead.
main_queue(queue.type="Direct")
input(type="imtcp" port="$port" address="127.0.0.1" ruleset="siem")
$tls_input
ruleset(name="siem") {
  action(type="omfile" file="$dir/messages.log" template="RSYSLOG_SyslogProtocol23Format")
}
CONF
  echo "CMK_RSYSLOGD=$(rsyslogd_bin)"
  echo "CMK_RSYSLOG_CONF=$dir/rsyslog.conf"
  echo "CMK_RSYSLOG_PORT=$port"
  echo "CMK_RSYSLOG_OUTPUT=$dir/messages.log"
  if [ -n "$tls_port" ]; then
    echo "CMK_RSYSLOG_TLS_PORT=$tls_port"
    echo "CMK_RSYSLOG_CA=$dir/tls/ca.pem"
  fi
}

case "$cmd" in
  install) install_rsyslog ;;
  prepare)
    install_rsyslog
    prepare "${2:?directory}"
    ;;
  start)
    install_rsyslog
    dir=${2:?directory}
    vars=$(prepare "$dir")
    dir=$(cd "$dir" && pwd)
    port=$(sed -n 's/^CMK_RSYSLOG_PORT=//p' <<<"$vars")
    "$(rsyslogd_bin)" -f "$dir/rsyslog.conf" -i "$dir/rsyslogd.pid" 2>"$dir/rsyslogd.log"
    for _ in $(seq 1 100); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$vars"; exit 0; fi
      sleep 0.1
    done
    echo "rsyslogd did not start listening on port $port; see $dir/rsyslogd.log" >&2
    exit 4
    ;;
  stop)
    dir=${2:?directory}
    if [ -f "$dir/rsyslogd.pid" ]; then
      pid=$(cat "$dir/rsyslogd.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -rf "$dir"
    ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
