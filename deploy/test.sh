#!/usr/bin/env bash
# Installs what is missing, builds Mutual twice (plain, and with AddressSanitizer and
# UndefinedBehaviorSanitizer) and runs every test in both builds: unit tests, integration tests
# against the real server over WebSockets, and the server under valgrind. Any failure, sanitizer
# report or leak fails the run.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc)
bash "$top/deploy/install-deps.sh"

echo "== plain build"
cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMUTUAL_WERROR=ON >/dev/null
cmake --build "$top/build" -j"$jobs"
(cd "$top/build" && ctest --output-on-failure -j"$jobs")

echo "== sanitizer build (ASan + UBSan)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cmake -S "$top" -B "$top/build-asan" -DCMAKE_BUILD_TYPE=Debug -DMUTUAL_SANITIZE=ON \
  -DMUTUAL_WERROR=ON >/dev/null
cmake --build "$top/build-asan" -j"$jobs"
(cd "$top/build-asan" && ctest --output-on-failure -j"$jobs")

# Short libFuzzer runs (about 20 s each) of every target in tests/fuzz, from the committed
# corpora; any finding fails the run. tests/fuzz/run.sh SECONDS runs them longer.
if command -v clang >/dev/null; then
  echo "== fuzzing (${MUTUAL_FUZZ_SECONDS:-20} s a target)"
  MUTUAL_BUILD_JOBS=$jobs bash "$top/tests/fuzz/run.sh" "${MUTUAL_FUZZ_SECONDS:-20}"
else
  echo "== fuzzing skipped: clang is not installed"
fi
echo "== all tests passed in both builds"
