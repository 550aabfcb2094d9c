#!/usr/bin/env bash
# Installs node_modules from the lockfile when missing or older than package-lock.json.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "[deps] npm ci" >&2
  npm ci --no-audit --no-fund >&2
fi
