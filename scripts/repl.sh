#!/usr/bin/env bash
# `npm run repl`: the operator REPL against the same database `npm start` uses (local services
# unless DATABASE_URL / REDIS_URL are set).
set -Eeuo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
npm run -s build
if [[ -z "${DATABASE_URL:-}" || -z "${REDIS_URL:-}" ]]; then
  given_db="${DATABASE_URL:-}" given_redis="${REDIS_URL:-}"
  eval "$(SERVICES_QUIET=1 bash scripts/services.sh up)"
  export DATABASE_URL="${given_db:-$DATABASE_URL}" REDIS_URL="${given_redis:-$REDIS_URL}"
fi
if [[ -z "${PRIVATE_TOKEN:-}" && -s .local/private-token ]]; then
  PRIVATE_TOKEN="$(cat .local/private-token)"
  export PRIVATE_TOKEN
fi
exec node dist/repl.js
