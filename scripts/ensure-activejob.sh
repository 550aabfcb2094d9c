#!/usr/bin/env bash
# Installs Debian's ruby-activejob and ruby-actionmailer (Rails 6.1) when missing (idempotent). Used by
# the Active Job end-to-end test: a real Sidekiq runs real Active Job and Action Mailer jobs with the
# Ruby client installed. Needs ruby and ruby-sidekiq (scripts/ensure-ruby.sh) first.
set -Eeuo pipefail
if ruby -e 'require "active_job"; require "action_mailer"' >/dev/null 2>&1; then
  exit 0
fi
APT=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -q -y)
as_root() { if [[ "$(id -u)" == 0 ]]; then "$@"; else sudo -n "$@"; fi; }
if ! apt-cache policy ruby-actionmailer 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  as_root "${APT[@]}" update >/dev/null
fi
as_root "${APT[@]}" install --no-install-recommends ruby-activejob ruby-actionmailer >/dev/null
echo "[activejob] installed activejob $(ruby -e 'require "active_job"; print ActiveJob.version') and actionmailer $(ruby -e 'require "action_mailer"; print ActionMailer.version')" >&2
