#!/usr/bin/env bash
# `npm start`: install what is missing, start a local PostgreSQL + Redis unless DATABASE_URL and
# REDIS_URL are given, migrate, and serve. The local services keep running after the app stops
# (their data survives restarts); `npm run services down` stops them and deletes their data.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
npm run -s build

if [[ -z "${DATABASE_URL:-}" || -z "${REDIS_URL:-}" ]]; then
  given_db="${DATABASE_URL:-}" given_redis="${REDIS_URL:-}"
  eval "$(bash scripts/services.sh up)"
  # keep what the user gave; fill in only the missing one
  export DATABASE_URL="${given_db:-$DATABASE_URL}" REDIS_URL="${given_redis:-$REDIS_URL}"
fi

token_file=".local/private-token"
if [[ -z "${PRIVATE_TOKEN:-}" ]]; then
  mkdir -p .local
  if [[ ! -s "$token_file" ]]; then
    (umask 077 && node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("base64url"))' >"$token_file")
  fi
  PRIVATE_TOKEN="$(cat "$token_file")"
  export PRIVATE_TOKEN
  token_hint="cat $token_file"
else
  token_hint="it is the PRIVATE_TOKEN you set"
fi

node dist/migrate.js

port="${PORT:-3000}"
host="${HOST:-127.0.0.1}"
shown="$host"; [[ "$host" == 0.0.0.0 || "$host" == "::" ]] && shown=localhost
cat <<EOF

  Sidekiq Supervisor
  URL:         http://$shown:$port
  Swagger UI:  http://$shown:$port/api/docs
  Admin token: $token_hint   (send it as the PRIVATE-TOKEN header;
               create scoped tokens with POST /api/v1/tokens)
  Stop the local PostgreSQL + Redis later with: npm run services down

EOF
exec node --enable-source-maps dist/main.js
