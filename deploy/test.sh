#!/usr/bin/env bash
# Installs what is missing, then builds and tests Mutual in every way CI checks it:
#   1. plain build: unit and integration tests (ctest -jN, N = cores; MUTUAL_CTEST_ROUNDS=2 runs
#      them twice in a row, to catch a test that depends on timing or on another test);
#   2. the integration tests once more with every server on PostgreSQL (a private cluster,
#      tests/pg/pgtmp.sh);
#   3. the browser app in a headless Chromium (tests/web), beside
#   4. the AddressSanitizer + UndefinedBehaviorSanitizer build and its tests;
#   5. the ThreadSanitizer build and its tests;
#   6. short libFuzzer runs of every target in tests/fuzz (when clang is present);
# after a style check of every C file against .clang-format and static analysis (deploy/tidy.sh).
# Any failure, sanitizer report, leak or accessibility violation fails the run.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc)
ctest_jobs=${MUTUAL_CTEST_JOBS:-$jobs}
rounds=${MUTUAL_CTEST_ROUNDS:-1}
bash "$top/deploy/install-deps.sh"

echo "== style (clang-format --dry-run --Werror, .clang-format)"
(cd "$top" && git ls-files -z '*.c' '*.h' | xargs -0 clang-format --dry-run --Werror)
echo "style: clean"

echo "== static analysis (deploy/tidy.sh: clang-tidy and cppcheck)"
bash "$top/deploy/tidy.sh"

echo "== plain build"
# MUTUAL_TESTS=ON always: deploy/run.sh configures the same build/ with the tests off.
cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMUTUAL_WERROR=ON \
  -DMUTUAL_TESTS=ON >/dev/null
cmake --build "$top/build" -j"$jobs"
for round in $(seq 1 "$rounds"); do
  echo "== plain tests, round $round of $rounds (ctest -j$ctest_jobs)"
  (cd "$top/build" && ctest --output-on-failure -j"$ctest_jobs")
done

# The integration suite against PostgreSQL: each server gets a database of its own in a
# private cluster that lives as long as this step.
echo "== integration tests on PostgreSQL (ctest -j$ctest_jobs -R '^(it_|test_db)')"
pg_dir=$(mktemp -d)
trap 'bash "$top/tests/pg/pgtmp.sh" stop "$pg_dir/pg"; rm -rf "$pg_dir"' EXIT
MUTUAL_TEST_PG=$(bash "$top/tests/pg/pgtmp.sh" start "$pg_dir/pg")
(cd "$top/build" && MUTUAL_TEST_PG=$MUTUAL_TEST_PG ctest --output-on-failure -j"$ctest_jobs" -R '^(it_|test_db$)')
bash "$top/tests/pg/pgtmp.sh" stop "$pg_dir/pg"

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

asan_rc=0
(
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  cmake -S "$top" -B "$top/build-asan" -DCMAKE_BUILD_TYPE=Debug -DMUTUAL_SANITIZE=ON \
    -DMUTUAL_WERROR=ON -DMUTUAL_TESTS=ON >/dev/null
  cmake --build "$top/build-asan" -j"$jobs"
  cd "$top/build-asan" && ctest --output-on-failure -j"$jobs"
) || asan_rc=$?
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

echo "== ThreadSanitizer build (the loop thread, the writer thread and libuv's pool)"
# Any report fails the run: the integration tests start the TSan-built mutuald, which inherits
# these options. The tests run here are those whose requests cross threads (Argon2id on libuv's
# pool, writer jobs for accounts, check-ins, consent, DMs, administration and meetings); the
# rest add time, not coverage of shared state, and run in the other two builds.
(
  export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
  cmake -S "$top" -B "$top/build-tsan" -DCMAKE_BUILD_TYPE=Debug -DMUTUAL_TSAN=ON \
    -DMUTUAL_WERROR=ON -DMUTUAL_TESTS=ON >/dev/null
  cmake --build "$top/build-tsan" -j"$jobs"
  cd "$top/build-tsan" && ctest --output-on-failure -j"$jobs" \
    -R '^(test_store|it_accounts|it_checkins|it_messaging|it_admin|it_mentoring|it_meetings)$'
)

# Short libFuzzer runs (about 20 s each) of every target in tests/fuzz, from the committed
# corpora; any finding fails the run. tests/fuzz/run.sh SECONDS runs them longer.
if command -v clang >/dev/null; then
  echo "== fuzzing (${MUTUAL_FUZZ_SECONDS:-20} s a target)"
  MUTUAL_BUILD_JOBS=$jobs bash "$top/tests/fuzz/run.sh" "${MUTUAL_FUZZ_SECONDS:-20}"
else
  echo "== fuzzing skipped: clang is not installed"
fi
echo "== all tests passed: plain, PostgreSQL, browser, ASan+UBSan, TSan, fuzzing"
