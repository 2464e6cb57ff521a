#!/usr/bin/env bash
# Installs what is missing, builds Mutual and starts the server on an embedded SQLite database
# (created when missing). Extra arguments go to `mutuald serve`, e.g. --listen 0.0.0.0:7681.
# Environment: MUTUAL_DB (default ./mutual.db), MUTUAL_CONFIG (a settings file, optional).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$top/deploy/install-deps.sh"
cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMUTUAL_TESTS=OFF >/dev/null
cmake --build "$top/build" -j"$(nproc)"
args=(serve --db "${MUTUAL_DB:-$PWD/mutual.db}")
if [ -n "${MUTUAL_CONFIG:-}" ]; then args+=(--config "$MUTUAL_CONFIG"); fi
echo "starting mutuald; stop it with Ctrl-C"
exec "$top/build/server/mutuald" "${args[@]}" "$@"
