#!/usr/bin/env bash
# `npm test`: the C++ core under sanitizers (CMake), then the TypeScript/e2e suite (vitest).
# The addon and dist/ are rebuilt first when missing or older than their sources, so a test run
# never measures a stale build.
set -euo pipefail
cd "$(dirname "$0")/.."

stale() { # stale TARGET SOURCES...: true when TARGET is missing or older than any source
  local target=$1; shift
  [ -e "$target" ] || return 0
  [ -n "$(find "$@" -newer "$target" -type f -print -quit 2>/dev/null)" ]
}
if stale build/Release/mcbench.node native binding.gyp; then
  echo "test: rebuilding the addon (node-gyp)"
  npm run --silent build:native >/dev/null
fi
if stale dist/cli.js src tsconfig.json; then
  echo "test: rebuilding dist/ (tsc)"
  npx tsc -p tsconfig.json
fi
npx tsc -p tsconfig.json --noEmit
npx tsc -p bench/tsconfig.json --noEmit
bash test/native.sh
npx vitest run --config test/vitest.config.ts "$@"
