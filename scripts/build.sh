#!/usr/bin/env bash
# Compiles apps and libs with swc (fast; type checking is part of `npm test`).
set -euo pipefail
cd "$(dirname "$0")/.."
npx swc apps libs -d dist --config-file .swcrc --only '**/*.ts' --ignore '**/*.spec.ts,**/*.int-spec.ts,**/*.e2e-spec.ts,**/testing/**' --quiet
