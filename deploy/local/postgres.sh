#!/usr/bin/env bash
# Starts a throwaway PostgreSQL (Debian's postgresql package) on a free loopback port in a temporary
# directory, without containers. Usage:
#   deploy/local/postgres.sh start DIR   -> prints the connection URL (superuser "cmk", database "cmk")
#   deploy/local/postgres.sh stop DIR
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?data directory}

find_bin() {
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/$1" ]; then echo "$d/$1"; return 0; fi
  done
  command -v "$1" || return 1
}

case "$cmd" in
  start)
    initdb=$(find_bin initdb) || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 3; }
    pg_ctl=$(find_bin pg_ctl)
    mkdir -p "$dir"
    # Postgres refuses to run as root; use the 'postgres' system user when we are root.
    run=()
    if [ "$(id -u)" = 0 ]; then
      id postgres >/dev/null 2>&1 || useradd --system --home "$dir" postgres
      chown -R postgres "$dir"
      # the postgres user must be able to traverse every parent directory
      p=$(cd "$dir" && pwd)
      while [ "$p" != / ]; do p=$(dirname "$p"); chmod o+x "$p" 2>/dev/null || true; done
      run=(runuser -u postgres --)
    fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    "${run[@]}" "$initdb" -D "$dir/data" -U cmk --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 300
shared_buffers = 256MB
fsync = ${CMK_PG_FSYNC:-on}
synchronous_commit = ${CMK_PG_SYNCHRONOUS_COMMIT:-on}
CONF
    "${run[@]}" "$pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null
    "${run[@]}" "$(find_bin createdb)" -h 127.0.0.1 -p "$port" -U cmk cmk
    echo "postgres://cmk@127.0.0.1:$port/cmk"
    ;;
  stop)
    pg_ctl=$(find_bin pg_ctl)
    run=()
    [ "$(id -u)" = 0 ] && run=(runuser -u postgres --)
    [ -d "$dir/data" ] && "${run[@]}" "$pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
