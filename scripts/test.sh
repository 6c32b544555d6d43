#!/usr/bin/env bash
# `npm test`: everything, on a fresh machine. Brings up the real services the suites need (PostgreSQL from
# Debian's packages, started on a free port by the jest global setup), type-checks, checks the layer rules,
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

# SoftHSM2 (Debian) for the PKCS#11 suites; the script installs it when missing and we are root.
deploy/local/softhsm.sh module >/dev/null

echo "== type check"
npx tsc --noEmit -p tsconfig.json
echo "== layer rules (dependency-cruiser)"
npx depcruise --config .dependency-cruiser.js libs apps
echo "== build"
scripts/build.sh
echo "== test suites"
npx jest --ci "$@"
