#!/usr/bin/env bash
# Rebuilds the vendored single-file ES modules from their npm packages (needs node and npm;
# the npm registry is the only network access). The browser app has no build step: these
# files are committed, and this script is how they were made and how to update them.
#   web/vendor/regenerate.sh            # the versions pinned below
# Afterwards: rebuild mutuald (the files are embedded) and run the browser tests.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MSGPACK_VERSION=3.1.2
ESBUILD_VERSION=0.24.2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --save-exact "@msgpack/msgpack@$MSGPACK_VERSION" \
  "esbuild@$ESBUILD_VERSION" >/dev/null
npx esbuild node_modules/@msgpack/msgpack/dist.esm/index.mjs --bundle --format=esm --minify \
  --legal-comments=none --target=es2020 --outfile=msgpack.mjs
{
  echo "/* @msgpack/msgpack $MSGPACK_VERSION (https://github.com/msgpack/msgpack-javascript),"
  echo " * ISC License, Copyright 2019 The MessagePack Community. Bundled into one ES module by"
  echo " * web/vendor/regenerate.sh with esbuild $ESBUILD_VERSION; do not edit. */"
  cat msgpack.mjs
} >"$here/msgpack.mjs"
cp node_modules/@msgpack/msgpack/LICENSE "$here/msgpack.LICENSE.txt"
echo "wrote $here/msgpack.mjs ($(wc -c <"$here/msgpack.mjs") bytes)"
