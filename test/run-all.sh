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
# Files given: just those (e.g. `npm test -- test/units.test.ts`).
if [ $# -gt 0 ]; then
  npx vitest run --config test/vitest.config.ts "$@"
  exit
fi
# The native checks (sanitized builds, two fuzzers: ~2 min, most of it one core) run beside the
# type checks and the files that open no socket, make no namespace and time nothing; the e2e
# files, which measure rates on 2 cores, run after them, alone and one at a time.
PURE=(test/units.test.ts test/stats.test.ts test/run-table.test.ts test/multicast-address.test.ts
  test/inventory.test.ts test/suite-yaml.test.ts test/validation.test.ts)
native_log="$(mktemp)"
trap 'rm -f "$native_log"' EXIT
bash test/native.sh >"$native_log" 2>&1 &
native_pid=$!
side_rc=0
{ npx tsc -p tsconfig.json --noEmit && npx tsc -p bench/tsconfig.json --noEmit &&
  npx vitest run --config test/vitest.config.ts "${PURE[@]}"; } || side_rc=$?
native_rc=0
wait "$native_pid" || native_rc=$?
cat "$native_log"
if [ "$side_rc" != 0 ] || [ "$native_rc" != 0 ]; then
  echo "test: type checks / pure tests exit $side_rc, native checks exit $native_rc" >&2
  exit 1
fi
excludes=()
for f in "${PURE[@]}"; do excludes+=(--exclude "$f"); done
npx vitest run --config test/vitest.config.ts "${excludes[@]}"
