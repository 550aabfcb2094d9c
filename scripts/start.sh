#!/usr/bin/env bash
# `npm start`: install what is missing, start a local PostgreSQL + Redis unless DATABASE_URL and
# REDIS_URL are given, migrate, and serve. The local services keep running after the app stops
# (their data survives restarts); `npm run services down` stops them and deletes their data.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
npm run -s build

# shellcheck source=scripts/local-env.sh
source scripts/local-env.sh

node dist/src/migrate.js

port="${PORT:-3000}"
host="${HOST:-127.0.0.1}"
shown="$host"; [[ "$host" == 0.0.0.0 || "$host" == "::" ]] && shown=localhost
cat <<EOF

  Sidekiq Supervisor
  URL:         http://$shown:$port
  Swagger UI:  http://$shown:$port/api/docs
  Dashboard:   http://$shown:$port/sidekiq   (sign in with a token)
  Admin token: $token_hint   (send it as the PRIVATE-TOKEN header;
               create scoped tokens with POST /api/v1/tokens)
  Stop the local PostgreSQL + Redis later with: npm run services down

EOF
# a 64 MB young generation: an ingest batch's objects live until its commit, and with V8's default
# (16 MB) they outlive two scavenges and get promoted (bench:ingest: ~20% less of the service's CPU
# per event); a --max-semi-space-size in NODE_OPTIONS comes later on the line and wins
export NODE_OPTIONS="--max-semi-space-size=64${NODE_OPTIONS:+ $NODE_OPTIONS}"
exec node --enable-source-maps dist/src/main.js
