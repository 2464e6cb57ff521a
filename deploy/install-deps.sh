#!/usr/bin/env bash
# Installs the Debian 12 packages Mutual needs to build, run and test.
# Idempotent: only what is missing is installed. Run as root (or with sudo available).
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config
  libwebsockets-dev libwebsockets-evlib-uv
  libuv1-dev libsqlite3-dev libpq-dev libmsgpack-dev libsodium-dev libcmocka-dev
  postgresql
  libssl-dev openssl clang clang-format clang-tidy cppcheck
  valgrind ca-certificates
  chromium
)
# The browser tests run under Node.js (node --test, npm ci). Debian's nodejs and npm only when
# no node is installed: a machine that already has its own Node.js keeps it (Debian's npm
# would conflict with an npm installed alongside that node).
if ! command -v node >/dev/null 2>&1; then
  pkgs+=(nodejs npm)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# MUTUAL_APT_UPDATE=always refreshes the package lists even when nothing is missing (CI).
if [ ${#missing[@]} -eq 0 ] && [ "${MUTUAL_APT_UPDATE:-}" != always ]; then
  echo "install-deps: all packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null; then
    echo "install-deps: missing ${missing[*]}; run this as root or install sudo" >&2
    exit 1
  fi
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
