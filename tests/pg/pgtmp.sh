#!/usr/bin/env bash
# A private PostgreSQL for tests and benchmarks: a new cluster in a directory of its own,
# listening on 127.0.0.1 at a free port, trust authentication, fsync off (test data only).
#
#   tests/pg/pgtmp.sh start DIR   creates and starts it; prints its URL (postgresql://...)
#   tests/pg/pgtmp.sh stop DIR    stops it and removes DIR
#
# PGTMP_DURABLE=1 keeps PostgreSQL's durable defaults (fsync, synchronous_commit), for
# benchmarks that compare it with SQLite's synchronous=full.
#
# PostgreSQL refuses to run as root: as root, the cluster runs as the `postgres` user that
# Debian's package creates.
set -euo pipefail
cmd=${1:?usage: pgtmp.sh start|stop DIR}
dir=${2:?usage: pgtmp.sh start|stop DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "pgtmp: PostgreSQL is not installed (deploy/install-deps.sh installs it)" >&2
  exit 1
fi
as=()
if [ "$(id -u)" = 0 ]; then
  as=(runuser -u postgres --)
fi

case "$cmd" in
start)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ ${#as[@]} -gt 0 ]; then
    chown postgres "$dir"
    # The server's user must reach DIR: a temporary parent made private (mktemp -d) gets
    # search permission, nothing more.
    p=$(dirname "$dir")
    while [ "$p" != / ]; do
      "${as[@]}" test -x "$p" || chmod o+x "$p"
      p=$(dirname "$p")
    done
  fi
  "${as[@]}" "$bin/initdb" -D "$dir/data" -U mutual -A trust -E UTF8 --no-locale \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  speed="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${PGTMP_DURABLE:-}" = 1 ] && speed=""
  # A free port: the kernel's choice is not available to a shell, so try a few at random.
  for _ in $(seq 1 20); do
    port=$((20000 + RANDOM % 40000))
    if "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='$dir' \
          $speed -c max_connections=300" start >/dev/null 2>&1; then
      echo "$port" >"$dir/port"
      echo "postgresql://mutual@127.0.0.1:$port/postgres"
      exit 0
    fi
  done
  echo "pgtmp: PostgreSQL did not start; its log:" >&2
  cat "$dir/server.log" >&2 || true
  exit 1
  ;;
stop)
  if [ -d "$dir/data" ]; then
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: pgtmp.sh start|stop DIR" >&2
  exit 2
  ;;
esac
