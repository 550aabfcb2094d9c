#!/usr/bin/env bash
# Compiles the service for `npm run repl` into .local/repl-dist, never into dist/: a service
# started from this folder (`npm start`) runs dist/, and rewriting it under a running process mixes
# old and new code on its next lazy import or restart. Incremental: when nothing changed since the
# last REPL, tsc writes nothing and the REPL starts at once. Prints the entry to run.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
out=.local/repl-dist
mkdir -p "$out"
npx --no-install tsc -p tsconfig.build.json --outDir "$out" --incremental \
  --tsBuildInfoFile "$out/.tsbuildinfo" >&2
echo "$out/src/repl.js"
