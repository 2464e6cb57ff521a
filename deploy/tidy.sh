#!/usr/bin/env bash
# Static analysis gate: clang-tidy (checks in .clang-tidy, tests/.clang-tidy) and cppcheck over
# server/, client/, protocol/ and tests/, with the compile flags of build-tidy/'s
# compile_commands.json (configured here, not built). Any finding fails the run.
# Usage: deploy/tidy.sh [FILE...]   (default: every C file in the compile database)
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${MUTUAL_TIDY_BUILD:-$top/build-tidy}
jobs=$(nproc)

cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DMUTUAL_TESTS=ON \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
db=$build/compile_commands.json

# The sources of the four folders, once each. tests/client/op_name_probe.c is left out: one of
# its two compile commands misspells an op name on purpose (a test that it does not compile).
if [ $# -gt 0 ]; then
  files=$(for f in "$@"; do realpath "$f"; done)
else
  files=$(grep -o '"file": *"[^"]*"' "$db" | sed 's/.*"\([^"]*\)"$/\1/' | sort -u |
    grep -E "^$top/(server|client|protocol|tests)/" | grep -v '/op_name_probe\.c$')
fi

log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

echo "== clang-tidy ($(printf '%s\n' "$files" | wc -l) files, $jobs at a time)"
# gcc-only warning flags in the database are not findings; everything else clang-tidy prints
# as "file:line:col: warning|error:" is one.
printf '%s\n' "$files" |
  nice xargs -P"$jobs" -n4 clang-tidy -p "$build" --quiet \
    --extra-arg=-Wno-unknown-warning-option >"$log/tidy" 2>"$log/tidy.err" || true
tidy_n=$(grep -cE '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' "$log/tidy" || true)
if [ "$tidy_n" -ne 0 ]; then
  cat "$log/tidy"
  echo "clang-tidy: $tidy_n findings" >&2
fi

echo "== cppcheck"
# Findings of the kinds error, warning, portability and performance; style is clang-format's
# and clang-tidy's business. --inline-suppr lets a line carry "cppcheck-suppress ID // why".
cppcheck_rc=0
# shellcheck disable=SC2086
nice cppcheck --quiet --std=c11 -j"$jobs" --inline-suppr --error-exitcode=1 \
  --enable=warning,portability,performance \
  --suppress=missingIncludeSystem --suppress=unmatchedSuppression \
  --template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
  -I "$top/include" -I "$top/protocol" -I "$top/server" -I "$top/client" \
  -I "$top/tests/integration" -I "$top/tests/server" \
  $files 2>"$log/cppcheck" || cppcheck_rc=$?
if [ -s "$log/cppcheck" ]; then
  cat "$log/cppcheck"
  cppcheck_rc=1
fi

if [ "$tidy_n" -ne 0 ] || [ "$cppcheck_rc" -ne 0 ]; then
  echo "tidy: FAILED (clang-tidy $tidy_n findings; cppcheck $([ $cppcheck_rc -eq 0 ] && echo clean || echo findings))" >&2
  exit 1
fi
echo "tidy: clean (clang-tidy, cppcheck)"
