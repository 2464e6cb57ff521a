#!/usr/bin/env bash
# The server under valgrind: start, connect, register, shut down with SIGTERM. Fails on any
# definite or indirect leak and on any memory error.
set -u
valgrind=$1 mutuald=$2 cli=$3
dir=$(mktemp -d /tmp/mutual-vg-XXXXXX)
pid=
# A failed step must not leave the server running under valgrind after the test has ended.
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
"$valgrind" --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
  --log-file="$dir/vg.log" "$mutuald" serve --listen 127.0.0.1:0 --db "$dir/x.db" \
  >"$dir/out" 2>"$dir/err" &
pid=$!
# valgrind starts slowly on a loaded machine: up to 90 s
for _ in $(seq 1 900); do
  grep -q '^listening on' "$dir/out" 2>/dev/null && break
  sleep 0.1
done
port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$dir/out")
if [ -z "$port" ]; then
  echo "server did not start under valgrind"; cat "$dir/err" "$dir/vg.log"; exit 1
fi
export XDG_CONFIG_HOME="$dir/xdg"
printf 'valgrind-password\n' | "$cli" --server "ws://127.0.0.1:$port" register vguser >/dev/null \
  || { echo "register failed"; cat "$dir/err"; exit 1; }
"$cli" ping >/dev/null || { echo "ping failed"; exit 1; }
"$cli" logout >/dev/null || { echo "logout failed"; exit 1; }
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
grep -E 'definitely lost|indirectly lost|ERROR SUMMARY' "$dir/vg.log"
if [ "$rc" -ne 0 ]; then
  echo "valgrind reported errors or leaks (exit $rc):"
  cat "$dir/vg.log"
  exit 1
fi
echo "valgrind: no leaks and no memory errors"
