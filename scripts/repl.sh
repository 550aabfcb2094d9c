#!/usr/bin/env bash
# `npm run repl`: the operator REPL against the same database `npm start` uses (local services
# unless DATABASE_URL / REDIS_URL are set). Built into .local/repl-dist (scripts/build-repl.sh), so
# a service running from dist/ is left alone.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
entry="$(bash scripts/build-repl.sh)"
# shellcheck source=scripts/local-env.sh
export SERVICES_QUIET=1
source scripts/local-env.sh
exec node --enable-source-maps "$entry"
