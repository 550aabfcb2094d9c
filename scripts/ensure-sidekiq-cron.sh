#!/usr/bin/env bash
# Installs Debian's ruby-sidekiq-cron (1.8, with fugit) when missing (idempotent). The periodic-jobs
# tests create cron jobs with the real gem and read them back through it (test/ruby/sidekiq_cron.rb).
set -Eeuo pipefail
if command -v ruby >/dev/null 2>&1 && ruby -e 'require "sidekiq"; require "sidekiq/cron/job"' >/dev/null 2>&1; then
  exit 0
fi
APT=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -q -y)
as_root() { if [[ "$(id -u)" == 0 ]]; then "$@"; else sudo -n "$@"; fi; }
if ! apt-cache policy ruby-sidekiq-cron 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  as_root "${APT[@]}" update >/dev/null
fi
as_root "${APT[@]}" install --no-install-recommends ruby ruby-sidekiq ruby-sidekiq-cron >/dev/null
echo "[ruby] installed sidekiq-cron $(ruby -e 'require "sidekiq"; require "sidekiq/cron"; print Sidekiq::Cron::VERSION rescue print "?"')" >&2
