#!/usr/bin/env bash
# Installs the Debian 12 packages Mutual needs to build, run and test.
# Idempotent: only what is missing is installed. Run as root (or with sudo available).
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config
  libwebsockets-dev libwebsockets-evlib-uv
  libuv1-dev libsqlite3-dev libmsgpack-dev libsodium-dev libcmocka-dev
  valgrind ca-certificates
)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
