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
echo "== ThreadSanitizer build (the loop thread, the writer thread and libuv's pool)"
# Any report fails the run: the integration tests start the TSan-built mutuald, which inherits
# these options. it_commands is left to the other builds: its CLI steps wait fixed times that
# TSan-slowed processes overrun.
(
  unset ASAN_OPTIONS UBSAN_OPTIONS
  export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
  cmake -S "$top" -B "$top/build-tsan" -DCMAKE_BUILD_TYPE=Debug -DMUTUAL_TSAN=ON \
    -DMUTUAL_WERROR=ON >/dev/null
  cmake --build "$top/build-tsan" -j"$jobs"
  cd "$top/build-tsan" && ctest --output-on-failure -j"$jobs" -E '^it_commands$'
)

echo "== all tests passed in both builds"
