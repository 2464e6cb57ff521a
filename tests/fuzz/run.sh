#!/usr/bin/env bash
# Runs the libFuzzer targets of tests/fuzz.
#
#   tests/fuzz/run.sh SECONDS [TARGET...]   each target (default: all) for SECONDS of fuzzing
#   tests/fuzz/run.sh --seeds               regenerates the committed seed corpora
#
# Builds build-fuzz/ with clang (-fsanitize=fuzzer,address,undefined) first. Each target
# starts from its committed corpus and regression inputs and keeps what it learns in
# build-fuzz/corpus/TARGET (never in the committed corpus). A finding (crash, sanitizer report,
# leak, timeout, out of memory) is saved in build-fuzz/findings/TARGET and fails the run; to
# keep it as a regression case, copy it into tests/fuzz/regressions/TARGET after the fix.
# Prints the CPU time each target used. MUTUAL_FUZZ_JOBS=N runs N targets at once (default 1).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fuzz="$top/tests/fuzz"
out="$top/build-fuzz"
all=(request dispatch config client client_ws)

if ! command -v clang >/dev/null; then
  echo "fuzz: clang is not installed (deploy/install-deps.sh installs it)" >&2
  exit 1
fi
CC=clang cmake -S "$top" -B "$out" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMUTUAL_FUZZ=ON \
  -DMUTUAL_TESTS=OFF >/dev/null
cmake --build "$out" -j"${MUTUAL_BUILD_JOBS:-2}" >/dev/null

if [ "${1:-}" = --seeds ]; then
  rm -rf "$fuzz/corpus"
  "$out/tests/fuzz/gen_corpus" "$fuzz/corpus" "$top/deploy/mutual.conf" "$fuzz/mutual.dict"
  exit 0
fi
secs=${1:?usage: run.sh SECONDS [TARGET...] or run.sh --seeds}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

MUTUAL_FUZZ_TMP=$(mktemp -d /dev/shm/mutual-fuzz-run.XXXXXX 2>/dev/null || mktemp -d)
export MUTUAL_FUZZ_TMP
trap 'rm -rf "$MUTUAL_FUZZ_TMP"' EXIT
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0:${ASAN_OPTIONS:-}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

run_one() {
  local t=$1 work="$out/corpus/$1" found="$out/findings/$1" log="$out/fuzz-$1.log"
  local inputs=("$fuzz/corpus/$t")
  [ -d "$fuzz/regressions/$t" ] && inputs+=("$fuzz/regressions/$t")
  mkdir -p "$work" "$found"
  local dict=()
  case $t in request|dispatch|client|client_ws) dict=(-dict="$fuzz/mutual.dict") ;; esac
  # -max_len: a request frame past 64 KiB is refused before it is decoded.
  local rc=0
  local TIMEFORMAT='%U %S' # CPU seconds of the fuzzer and its writer thread
  { time "$out/tests/fuzz/fuzz_$t" "$work" "${inputs[@]}" "${dict[@]}" \
      -max_total_time="$secs" -max_len=8192 -timeout=20 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$found/" >"$log" 2>&1 || rc=$?; } 2>"$out/fuzz-$t.time"
  local user sys
  read -r user sys <"$out/fuzz-$t.time" || true
  local execs
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -1)
  printf 'fuzz %-9s %6.1f s CPU  %9s runs  %s\n' "$t" "$(awk -v u="${user:-0}" -v s="${sys:-0}" 'BEGIN { print u + s }')" \
    "${execs:-?}" "$([ $rc -eq 0 ] && echo ok || echo "FINDING (see $log, $found)")"
  return $rc
}

fail=0
if [ "${MUTUAL_FUZZ_JOBS:-1}" -gt 1 ]; then
  pids=()
  for t in "${targets[@]}"; do run_one "$t" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || fail=1; done
else
  for t in "${targets[@]}"; do run_one "$t" || fail=1; done
fi
exit $fail
