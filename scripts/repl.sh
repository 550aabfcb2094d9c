#!/usr/bin/env bash
# `npm run repl`: the operator REPL against the same database `npm start` uses (local services
# unless DATABASE_URL / REDIS_URL are set).
set -Eeuo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
npm run -s build
# shellcheck source=scripts/local-env.sh
export SERVICES_QUIET=1
source scripts/local-env.sh
exec node dist/repl.js
