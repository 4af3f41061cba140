#!/usr/bin/env bash
# Native checks: the core's unit tests under ASan+UBSan (CMake + CTest), then the addon built by
# cmake-js from the same CMakeLists.txt and loaded into node.
# Quiet on success apart from the test summary; the build logs are printed when a step fails.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
jobs="${JOBS:-2}"
test_dir="$root/build-cmake"
addon_dir="$root/build-cmake-addon"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

# Runs a command with its output in $log; shows the log and fails if the command fails.
quiet() {
  if ! "$@" >"$log" 2>&1; then
    echo "native.sh: failed: $*" >&2
    cat "$log" >&2
    exit 1
  fi
}

start=$SECONDS

# 1. Core + unit tests, sanitized.
quiet cmake -S "$root" -B "$test_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMCBENCH_SANITIZE="address;undefined" -DMCBENCH_BUILD_ADDON=OFF
quiet cmake --build "$test_dir" -j "$jobs"
quiet ctest --test-dir "$test_dir" --output-on-failure
# The test binary's own summary (ctest above already proved it passes).
"$test_dir/mcbench_core_test"

# 2. The addon through cmake-js (what `npm run build:cmake` runs; offline: package.json's
#    binary.napi_versions makes it use node-addon-api's headers, no download), then loaded into
#    node. `npm install` built the other one with node-gyp: both build files stay in step.
quiet node "$root/node_modules/cmake-js/bin/cmake-js" build -O "$addon_dir" -T mcbench
addon="$addon_dir/Release/mcbench.node"
if ! node -e "const m=require(process.argv[1]); if(typeof m.Sender!=='function'||typeof m.Receiver!=='function') process.exit(1)" "$addon"; then
  echo "native.sh: $addon does not export Sender and Receiver" >&2
  exit 1
fi

# 3. The receiver's batch processing under libFuzzer (native/fuzz, ASan+UBSan) for a bounded
#    time, from the repo's corpus; new inputs go to a scratch directory (the corpus stays as is).
#    Needs clang with its fuzzer runtime (.ci/run installs clang and libclang-rt-dev); skipped
#    with a note elsewhere, never in CI.
fuzz_dir="$root/build-fuzz"
fuzz_seconds="${MCBENCH_FUZZ_SECONDS:-45}"
fuzz_probe='extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }'
fuzzed=""
if command -v clang++ >/dev/null && clang++ -fsanitize=fuzzer -x c++ - -o /dev/null <<<"$fuzz_probe" 2>/dev/null; then
  quiet cmake -S "$root" -B "$fuzz_dir" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMCBENCH_FUZZ=ON -DMCBENCH_BUILD_TESTS=OFF -DMCBENCH_BUILD_ADDON=OFF
  quiet cmake --build "$fuzz_dir" -j "$jobs" -t mcbench_receiver_fuzz
  fuzz_work="$(mktemp -d)"
  trap 'rm -f "$log"; rm -rf "$fuzz_work"' EXIT
  if ! "$fuzz_dir/mcbench_receiver_fuzz" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$fuzz_dir/" "$fuzz_work" "$root/native/fuzz/corpus" >"$log" 2>&1; then
    echo "native.sh: the fuzzer found a failure (the input is in $fuzz_dir/, crash-* / timeout-*):" >&2
    tail -n 60 "$log" >&2
    exit 1
  fi
  fuzzed=", fuzzed $(sed -n 's/^stat::number_of_executed_units: *//p' "$log") inputs in ${fuzz_seconds} s"
  # the RTT mode's reply handling (native/fuzz/rtt_fuzz.cc), from its corpus of found failures
  # (native/fuzz/rtt-corpus: inputs that once broke it, replayed every run), for a shorter time
  rtt_seconds="${MCBENCH_RTT_FUZZ_SECONDS:-10}"
  quiet cmake --build "$fuzz_dir" -j "$jobs" -t mcbench_rtt_fuzz
  mkdir -p "$fuzz_work/rtt"
  if ! "$fuzz_dir/mcbench_rtt_fuzz" -max_total_time="$rtt_seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$fuzz_dir/" "$fuzz_work/rtt" "$root/native/fuzz/rtt-corpus" >"$log" 2>&1; then
    echo "native.sh: the RTT fuzzer found a failure (the input is in $fuzz_dir/, crash-* / timeout-*):" >&2
    tail -n 60 "$log" >&2
    exit 1
  fi
  fuzzed+=", RTT replies $(sed -n 's/^stat::number_of_executed_units: *//p' "$log") inputs in ${rtt_seconds} s"
elif [ "${CI:-}" = true ]; then
  echo "native.sh: clang++ with libFuzzer is missing (apt-get install clang libclang-rt-dev)" >&2
  exit 1
else
  fuzzed=", fuzzing skipped (no clang++ with libFuzzer)"
fi

echo "native: core tests passed (ASan+UBSan), addon loads${fuzzed} ($((SECONDS - start)) s)"
