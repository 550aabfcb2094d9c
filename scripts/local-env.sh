# Sourced by start.sh and repl.sh: fills in DATABASE_URL / REDIS_URL from the local services
# (started when needed) unless the user gave them, and PRIVATE_TOKEN from .local/private-token
# (created on first use).
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
