#!/usr/bin/env bash
# `npm start`: the whole control plane in one process on the embedded defaults (PGlite in .data/).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh
scripts/build.sh
exec node --enable-source-maps dist/apps/control-plane/src/main.js
