#!/usr/bin/env bash
# Runs a throwaway single-node Apache Kafka (KRaft, combined broker + controller) on a free loopback port,
# without containers. No Debian package carries Kafka, so the broker jars come from Maven Central
# (org.apache.kafka:kafka_2.13 and its runtime dependencies), fetched once with Maven and cached.
# Usage:
#   deploy/local/kafka.sh start DIR            -> prints the bootstrap address 127.0.0.1:<port>
#   deploy/local/kafka.sh stop DIR             -> stops the broker and deletes DIR
#   deploy/local/kafka.sh restart DIR [--hard] -> stops (SIGTERM, or SIGKILL with --hard) and starts again on the
#                                                 SAME port with the same data; prints the address again
#   deploy/local/kafka.sh fetch                -> only fills the jar cache (prints its folder)
# Environment:
#   CMK_KAFKA_VERSION        broker version (default 4.1.1)
#   CMK_KAFKA_CACHE_DIR      jar cache root (default ${XDG_CACHE_HOME:-~/.cache}/openkcm), jars in kafka-<version>/
#   CMK_KAFKA_HEAP           JVM heap (default 512m)
#   CMK_KAFKA_START_TIMEOUT  seconds to wait for the broker to serve metadata (default 90)
#   CMK_KAFKA_JVM_OPTS       extra JVM options, e.g. "-XX:TieredStopAtLevel=4" for C2 in long benchmarks
set -euo pipefail

version=${CMK_KAFKA_VERSION:-4.1.1}
cache_root=${CMK_KAFKA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/openkcm}
cache="$cache_root/kafka-$version"
heap=${CMK_KAFKA_HEAP:-512m}
timeout=${CMK_KAFKA_START_TIMEOUT:-90}

die() { echo "kafka.sh: $*" >&2; exit 1; }

java_bin() {
  local j=${JAVA_HOME:+$JAVA_HOME/bin/}java
  command -v "$j" >/dev/null 2>&1 || die "java not found: Kafka 4 needs Java 17+ (apt-get install openjdk-17-jre-headless)"
  local major
  major=$("$j" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')
  [ "${major:-0}" -ge 17 ] || die "Kafka $version needs Java 17+, found Java ${major:-unknown} at $(command -v "$j")"
  echo "$j"
}

# Fetches the broker jars once into $cache/libs. A lock keeps parallel callers from fetching twice.
fetch() {
  [ -f "$cache/.complete" ] && return 0
  command -v mvn >/dev/null 2>&1 || die "mvn not found: needed once to fetch Kafka $version from Maven Central (apt-get install maven)"
  mkdir -p "$cache_root"
  exec 9>"$cache.lock"
  flock 9
  if [ ! -f "$cache/.complete" ]; then
    local work
    work=$(mktemp -d "$cache_root/.fetch-XXXXXX")
    # Kafka logs through slf4j 1.x; log4j-slf4j-impl routes that to log4j2 so DIR/kafka.log has the broker's log.
    cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>openkcm.local</groupId><artifactId>kafka-fetch</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version></dependency>
  </dependencies>
</project>
POM
    if ! mvn -B -q -f "$work/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
        -DoutputDirectory="$work/libs" >"$work/mvn.log" 2>&1; then
      cat "$work/mvn.log" >&2
      rm -rf "$work"
      die "could not fetch org.apache.kafka:kafka_2.13:$version from Maven Central (see the Maven output above)"
    fi
    rm -rf "$cache"
    mkdir -p "$cache"
    mv "$work/libs" "$cache/libs"
    rm -rf "$work"
    touch "$cache/.complete"
  fi
  flock -u 9
  exec 9>&-
}

# What went wrong, first: the broker's errors, then the end of its log.
show_log() {
  echo "--- errors in $1:" >&2
  grep -E '\] (ERROR|FATAL) ' "$1" | head -n 5 | cut -c1-400 >&2 || true
  echo "--- last lines of $1:" >&2
  tail -n 15 "$1" | cut -c1-400 >&2
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Asks the broker for cluster metadata over the wire (ApiVersions, then Metadata) and succeeds only when
# it lists at least one broker, i.e. the KRaft broker is registered, unfenced and serving clients.
probe() {
  python3 - "$1" <<'PY'
import socket, struct, sys
port = int(sys.argv[1])
def call(sock, api_key, version, corr, body):
    client = b'kafka.sh'
    hdr = struct.pack('>hhih', api_key, version, corr, len(client)) + client
    msg = hdr + body
    sock.sendall(struct.pack('>i', len(msg)) + msg)
    def read(n):
        buf = b''
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk: raise EOFError('connection closed')
            buf += chunk
        return buf
    (size,) = struct.unpack('>i', read(4))
    return read(size)
try:
    with socket.create_connection(('127.0.0.1', port), timeout=2) as s:
        r = call(s, 18, 0, 1, b'')  # ApiVersions v0
        _, err, n = struct.unpack('>ihi', r[:10])
        if err != 0: sys.exit(1)
        ranges = {}
        for i in range(n):
            k, lo, hi = struct.unpack('>hhh', r[10 + 6 * i:16 + 6 * i])
            ranges[k] = (lo, hi)
        lo, hi = ranges.get(3, (0, -1))
        v = min(hi, 8)
        if v < max(lo, 1): sys.exit(1)
        body = struct.pack('>i', 0)  # no topics, just brokers
        if v >= 4: body += b'\x00'
        if v >= 8: body += b'\x00\x00'
        r = call(s, 3, v, 2, body)
        off = 4 + (4 if v >= 3 else 0)  # correlation id, throttle time
        (brokers,) = struct.unpack('>i', r[off:off + 4])
        sys.exit(0 if brokers >= 1 else 1)
except Exception:
    sys.exit(1)
PY
}

# Alive and not a zombie: an exited broker can stay a zombie for a while under a slow-reaping init, but it has
# already released its ports and files.
alive() {
  [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

running_pid() {
  local dir=$1 pid
  [ -f "$dir/kafka.pid" ] || return 1
  pid=$(cat "$dir/kafka.pid")
  alive "$pid" && grep -qa 'kafka.Kafka' "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

start() {
  local dir=$1
  fetch
  local java
  java=$(java_bin)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if running_pid "$dir" >/dev/null; then die "a broker is already running with data in $dir"; fi

  local port cport
  if [ -f "$dir/ports" ]; then
    read -r port cport <"$dir/ports"
  else
    port=$(free_port)
    cport=$(free_port)
    while [ "$cport" = "$port" ]; do cport=$(free_port); done
    echo "$port $cport" >"$dir/ports"
  fi

  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
log.cleaner.backoff.ms=1000
# A crashed broker's old registration blocks its own restart until this session expires (default 9 s).
broker.session.timeout.ms=3000
broker.heartbeat.interval.ms=500
PROPS

  cat >"$dir/log4j2.properties" <<'LOG'
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = out
logger.state.name = state.change.logger
logger.state.level = warn
LOG

  local cp="$cache/libs/*"
  # C1 only (TieredStopAtLevel=1): starts in about half the time, and on two cores gave a lower p99 over short
  # runs than letting C2 compile in the background. CMK_KAFKA_JVM_OPTS adds to (or overrides) these.
  local jvm=(-Xms128m "-Xmx$heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
    -XX:+ExplicitGCInvokesConcurrent -XX:TieredStopAtLevel=1 -Xshare:auto -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$dir/log4j2.properties" -Dkafka.logs.dir="$dir")
  # shellcheck disable=SC2206 # word splitting is the point: several JVM options in one variable
  if [ -n "${CMK_KAFKA_JVM_OPTS:-}" ]; then jvm+=($CMK_KAFKA_JVM_OPTS); fi

  if [ ! -f "$dir/data/meta.properties" ]; then
    local cluster_id
    # A Kafka Uuid: 16 random bytes, URL-safe base64 without padding. Like Kafka's own generator, never one
    # starting with '-', which the storage tool would read as an option.
    cluster_id=$(python3 -c 'import base64,os
while True:
    u = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
    if not u.startswith("-"): break
print(u)')
    if ! "$java" "${jvm[@]}" -cp "$cp" kafka.tools.StorageTool format --ignore-formatted \
        -t "$cluster_id" -c "$dir/server.properties" >"$dir/format.log" 2>&1; then
      cat "$dir/format.log" >&2
      die "formatting KRaft storage in $dir/data failed"
    fi
  fi

  # Detached from our stdout so callers reading it (execFileSync) return as soon as we print the address.
  setsid "$java" "${jvm[@]}" -cp "$cp" kafka.Kafka "$dir/server.properties" </dev/null >>"$dir/kafka.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/kafka.pid"

  local deadline=$((SECONDS + timeout))
  until probe "$port"; do
    if ! alive "$pid"; then
      show_log "$dir/kafka.log"
      die "the broker exited during start-up (log: $dir/kafka.log)"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      show_log "$dir/kafka.log"
      kill -9 "$pid" 2>/dev/null || true
      die "the broker did not serve metadata on 127.0.0.1:$port within ${timeout}s (log: $dir/kafka.log)"
    fi
    sleep 0.2
  done
  echo "127.0.0.1:$port"
}

# Stops the broker but keeps its data and ports. SIGTERM gives a controlled shutdown; --hard simulates a crash.
halt() {
  local dir=$1 signal=${2:-TERM} pid
  pid=$(running_pid "$dir") || return 0
  kill "-$signal" "$pid" 2>/dev/null || true
  for _ in $(seq 1 600); do
    alive "$pid" || break
    sleep 0.05
  done
  if alive "$pid"; then
    kill -9 "$pid" 2>/dev/null || true
    while alive "$pid"; do sleep 0.05; done
  fi
  rm -f "$dir/kafka.pid"
}

cmd=${1:?start|stop|restart|fetch}
case "$cmd" in
  fetch) fetch; echo "$cache" ;;
  start) start "${2:?data directory}" ;;
  stop)
    dir=${2:?data directory}
    # The data is deleted next, so there is nothing to shut down cleanly for.
    halt "$dir" KILL
    rm -rf "$dir"
    ;;
  restart)
    dir=${2:?data directory}
    [ -f "$dir/ports" ] || die "no broker was started with data in $dir"
    if [ "${3:-}" = --hard ]; then halt "$dir" KILL; else halt "$dir" TERM; fi
    start "$dir"
    ;;
  *) echo "unknown command $cmd (start|stop|restart|fetch)" >&2; exit 2 ;;
esac
