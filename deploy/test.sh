#!/usr/bin/env bash
# Installs what is missing, builds Mutual twice (plain, and with AddressSanitizer and
# UndefinedBehaviorSanitizer) and runs every test in both builds: unit tests, integration tests
# against the real server over WebSockets, the server under valgrind, and the browser app in a
# headless Chromium (tests/web, run beside the sanitizer build to keep the whole run short). Any
# failure, sanitizer report, leak or accessibility violation fails the run.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc)
bash "$top/deploy/install-deps.sh"

echo "== plain build"
# MUTUAL_TESTS=ON always: deploy/run.sh configures the same build/ with the tests off.
cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMUTUAL_WERROR=ON \
  -DMUTUAL_TESTS=ON >/dev/null
cmake --build "$top/build" -j"$jobs"
(cd "$top/build" && ctest --output-on-failure -j"$jobs")

# The browser tests drive the plain build's mutuald; they run in the background while the
# sanitizer build compiles and runs, and their output is printed when both are done.
echo "== browser tests (tests/web, in the background) and sanitizer build (ASan + UBSan)"
web_log=$(mktemp)
(
  cd "$top/tests/web"
  npm ci --no-audit --no-fund
  MUTUALD="$top/build/server/mutuald" MUTUAL_SCREENSHOTS="$top/build/web-screenshots" \
    node --test --test-concurrency=1
) >"$web_log" 2>&1 &
web_pid=$!

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
asan_rc=0
{
  cmake -S "$top" -B "$top/build-asan" -DCMAKE_BUILD_TYPE=Debug -DMUTUAL_SANITIZE=ON \
    -DMUTUAL_WERROR=ON -DMUTUAL_TESTS=ON >/dev/null &&
    cmake --build "$top/build-asan" -j"$jobs" &&
    (cd "$top/build-asan" && ctest --output-on-failure -j"$jobs")
} || asan_rc=$?
web_rc=0
wait "$web_pid" || web_rc=$?
echo "== browser tests output"
cat "$web_log"
rm -f "$web_log"
echo "== sanitizer build and tests: $([ $asan_rc -eq 0 ] && echo passed || echo "FAILED ($asan_rc)")"
echo "== browser tests: $([ $web_rc -eq 0 ] && echo passed || echo "FAILED ($web_rc)")"
if [ $asan_rc -ne 0 ] || [ $web_rc -ne 0 ]; then
  exit 1
fi

# Short libFuzzer runs (about 20 s each) of every target in tests/fuzz, from the committed
# corpora; any finding fails the run. tests/fuzz/run.sh SECONDS runs them longer.
if command -v clang >/dev/null; then
  echo "== fuzzing (${MUTUAL_FUZZ_SECONDS:-20} s a target)"
  MUTUAL_BUILD_JOBS=$jobs bash "$top/tests/fuzz/run.sh" "${MUTUAL_FUZZ_SECONDS:-20}"
else
  echo "== fuzzing skipped: clang is not installed"
fi
echo "== all tests passed in both builds and in the browser"
