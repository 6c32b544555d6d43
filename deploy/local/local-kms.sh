#!/usr/bin/env bash
# Runs local-kms (github.com/nsmithuk/local-kms), an emulator of the AWS KMS JSON API, on a free port, without
# containers. No Debian package carries it, so it is built once from the Go module proxy with `go install` and
# cached. It is a stand-in for tests and benches only: it keeps keys unprotected in a LevelDB under DIR, checks
# no signatures (any credentials are accepted) and listens on every interface (it has no bind-address setting).
# Usage:
#   deploy/local/local-kms.sh start DIR    -> prints the endpoint URL http://127.0.0.1:<port>
#   deploy/local/local-kms.sh halt DIR     -> stops the emulator, keeps its data and port (to simulate an outage)
#   deploy/local/local-kms.sh restart DIR  -> halts and starts again on the SAME port with the same keys
#   deploy/local/local-kms.sh stop DIR     -> stops the emulator and deletes DIR
#   deploy/local/local-kms.sh fetch        -> only builds the binary into the cache (prints its path)
# DIR/seed.yaml, when present before the first start, seeds keys and aliases (local-kms seeding format).
# Environment:
#   CMK_LOCAL_KMS_VERSION        module version (default v0.0.0-20260228092603-2a5e92d09ab6)
#   CMK_LOCAL_KMS_CACHE_DIR      cache root (default ${XDG_CACHE_HOME:-~/.cache}/openkcm); binary in local-kms-<version>/
#   CMK_LOCAL_KMS_REGION         region the emulator serves (default eu-central-1)
#   CMK_LOCAL_KMS_ACCOUNT_ID     account in its ARNs (default 111122223333)
#   CMK_LOCAL_KMS_START_TIMEOUT  seconds to wait until it answers (default 30)
set -euo pipefail

version=${CMK_LOCAL_KMS_VERSION:-v0.0.0-20260228092603-2a5e92d09ab6}
cache_root=${CMK_LOCAL_KMS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/openkcm}
cache="$cache_root/local-kms-$version"
binary="$cache/bin/local-kms"
region=${CMK_LOCAL_KMS_REGION:-eu-central-1}
account=${CMK_LOCAL_KMS_ACCOUNT_ID:-111122223333}
timeout=${CMK_LOCAL_KMS_START_TIMEOUT:-30}

die() { echo "local-kms.sh: $*" >&2; exit 1; }

# Builds the binary once. GOPATH, GOCACHE and GOBIN live in the cache so a fresh machine (or a user without a
# writable ~/go) needs nothing but the Go toolchain; a lock keeps parallel callers from building twice.
fetch() {
  [ -x "$binary" ] && [ -f "$cache/.complete" ] && return 0
  export PATH="$PATH:/usr/local/go/bin"
  if ! command -v go >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "go not found: installing Debian's golang-go to build local-kms once" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q golang-go >&2 || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q golang-go >&2; }
  fi
  command -v go >/dev/null 2>&1 || die "go not found (looked in PATH and /usr/local/go/bin): needed once to build local-kms $version"
  mkdir -p "$cache_root"
  exec 9>"$cache.lock"
  flock 9
  if [ ! -f "$cache/.complete" ]; then
    mkdir -p "$cache/bin"
    if ! env GOPATH="$cache_root/go" GOMODCACHE="$cache_root/go/pkg/mod" GOCACHE="$cache_root/go-build" \
        GOBIN="$cache/bin" GOFLAGS="-buildvcs=false -modcacherw" GOTOOLCHAIN=local CGO_ENABLED=0 \
        go install "github.com/nsmithuk/local-kms@$version" >"$cache/build.log" 2>&1; then
      cat "$cache/build.log" >&2
      die "could not build github.com/nsmithuk/local-kms@$version (see the go output above)"
    fi
    touch "$cache/.complete"
  fi
  flock -u 9
  exec 9>&-
}

alive() {
  [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

running_pid() {
  local dir=$1 pid
  [ -f "$dir/local-kms.pid" ] || return 1
  pid=$(cat "$dir/local-kms.pid")
  alive "$pid" && grep -qa 'local-kms' "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

# Ready means it answers a KMS API call (ListKeys) with 200, not merely that the port is open.
probe() {
  python3 - "$1" <<'PY'
import http.client, sys
try:
    c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]), timeout=2)
    c.request('POST', '/', body='{}', headers={'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'TrentService.ListKeys'})
    sys.exit(0 if c.getresponse().status == 200 else 1)
except Exception:
    sys.exit(1)
PY
}

start() {
  local dir=$1
  fetch
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if running_pid "$dir" >/dev/null; then die "local-kms is already running with data in $dir"; fi
  # Port 0 lets the kernel pick a free port (no race with other starters); later starts reuse the recorded one.
  local port=0
  [ -f "$dir/port" ] && port=$(cat "$dir/port")
  : >"$dir/local-kms.log"
  KMS_DATA_PATH="$dir/data" KMS_SEED_PATH="$dir/seed.yaml" KMS_REGION="$region" KMS_ACCOUNT_ID="$account" PORT="$port" \
    setsid "$binary" </dev/null >>"$dir/local-kms.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/local-kms.pid"
  local deadline=$((SECONDS + timeout))
  while [ "$port" = 0 ]; do
    port=$(sed 's/\x1b\[[0-9;]*m//g' "$dir/local-kms.log" | sed -n 's/.*Local KMS started on [0-9.]*:\([0-9]*\).*/\1/p' | head -n1)
    [ -n "$port" ] || port=0
    alive "$pid" || { tail -n 20 "$dir/local-kms.log" >&2; die "local-kms exited during start-up (log: $dir/local-kms.log)"; }
    [ "$SECONDS" -lt "$deadline" ] || { kill -9 "$pid" 2>/dev/null || true; die "local-kms did not report its port within ${timeout}s"; }
    [ "$port" != 0 ] || sleep 0.05
  done
  echo "$port" >"$dir/port"
  until probe "$port"; do
    alive "$pid" || { tail -n 20 "$dir/local-kms.log" >&2; die "local-kms exited during start-up (log: $dir/local-kms.log)"; }
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 20 "$dir/local-kms.log" >&2
      kill -9 "$pid" 2>/dev/null || true
      die "local-kms did not answer on 127.0.0.1:$port within ${timeout}s (log: $dir/local-kms.log)"
    fi
    sleep 0.05
  done
  echo "http://127.0.0.1:$port"
}

halt() {
  local dir=$1 pid
  pid=$(running_pid "$dir") || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    alive "$pid" || break
    sleep 0.05
  done
  if alive "$pid"; then
    kill -9 "$pid" 2>/dev/null || true
    while alive "$pid"; do sleep 0.05; done
  fi
  rm -f "$dir/local-kms.pid"
}

cmd=${1:?start|halt|restart|stop|fetch}
case "$cmd" in
  fetch) fetch; echo "$binary" ;;
  start) start "${2:?data directory}" ;;
  halt) halt "${2:?data directory}" ;;
  restart)
    dir=${2:?data directory}
    [ -f "$dir/port" ] || die "no local-kms was started with data in $dir"
    halt "$dir"
    start "$dir"
    ;;
  stop)
    dir=${2:?data directory}
    halt "$dir"
    rm -rf "$dir"
    ;;
  *) echo "unknown command $cmd (start|halt|restart|stop|fetch)" >&2; exit 2 ;;
esac
