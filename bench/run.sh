#!/usr/bin/env bash
# Runs every benchmark against a real PostgreSQL started here (fsync on, as in production) and prints a
# Markdown report to paste into docs/benchmarks.md. Usage: npm run bench [-- name ...]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh
scripts/build.sh
npx swc bench test/support test/doubles -d dist --config-file .swcrc --only '**/*.ts' --quiet
dir=$(mktemp -d /tmp/cmk-bench-XXXX)
trap 'deploy/local/postgres.sh stop "$dir/pg" >/dev/null 2>&1 || true; deploy/local/kafka.sh stop "$dir/kafka" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
export CMK_BENCH_DATABASE_URL=$(CMK_PG_FSYNC=on deploy/local/postgres.sh start "$dir/pg")
# A single-node KRaft broker (Kafka 4.1 from Maven Central), with C2 for steady figures in long runs.
export CMK_BENCH_KAFKA_BROKERS=$(CMK_KAFKA_JVM_OPTS="-XX:TieredStopAtLevel=4" deploy/local/kafka.sh start "$dir/kafka")
export CMK_BENCH_DIR=$dir
benches=("$@")
[ ${#benches[@]} -gt 0 ] || benches=(append-throughput command-api rebuild startup decision kill-switch key-provider-pkcs11 key-provider-aws-kms key-provider-gcp-kms key-provider-azure-keyvault audit-verify)
echo "# machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r), node $(node -v), $(date -u +%Y-%m-%d)"
for b in "${benches[@]}"; do
  node --enable-source-maps "dist/bench/$b.bench.js"
done
