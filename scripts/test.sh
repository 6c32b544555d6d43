#!/usr/bin/env bash
# `npm test`: everything, on a fresh machine. Brings up the real services the suites need (PostgreSQL from
# Debian's packages, and a single-node Kafka from Maven Central, both started on free ports by the jest global setup), type-checks, checks the layer rules,
# and runs every suite: units (*.spec.ts), adapters against real services (*.int-spec.ts), whole system (*.e2e-spec.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing PostgreSQL from Debian's packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    # Debian's package starts a cluster of its own; the tests start their own on a free port instead.
    service postgresql stop >/dev/null 2>&1 || true
  else
    echo "PostgreSQL server binaries are missing: apt-get install postgresql" >&2
    exit 1
  fi
fi

# Kafka for the mesh suites: Java 17+ runs the broker, Maven fetches its jars once from Maven Central.
if ! command -v java >/dev/null 2>&1 || ! command -v mvn >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing Java and Maven from Debian's packages (for the Kafka broker)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless maven >/dev/null
  else
    echo "Java 17+ and Maven are missing: apt-get install openjdk-17-jre-headless maven" >&2
    exit 1
  fi
fi
deploy/local/kafka.sh fetch >/dev/null

# SoftHSM2 (Debian) for the PKCS#11 suites; the script installs it when missing and we are root.
deploy/local/softhsm.sh module >/dev/null
# rsyslog + rsyslog-gnutls (Debian) for the syslog SIEM sink suites (a real receiver over TCP and TLS).
deploy/local/rsyslog.sh install >/dev/null
# local-kms, the AWS KMS emulator, built once from its Go module with the Go toolchain.
deploy/local/local-kms.sh fetch >/dev/null

echo "== type check"
npx tsc --noEmit -p tsconfig.json
echo "== layer rules (dependency-cruiser)"
npx depcruise --config .dependency-cruiser.js libs apps
echo "== build"
scripts/build.sh
echo "== test suites"
npx jest --ci "$@"
