#!/usr/bin/env bash
# Installs Debian's ruby and ruby-sidekiq when missing (idempotent). Used by the test set-up for the
# Ruby-side tests (a real Sidekiq) and by the Ruby client's end-to-end test.
set -Eeuo pipefail
if command -v ruby >/dev/null 2>&1 && ruby -e 'require "sidekiq"' >/dev/null 2>&1; then
  exit 0
fi
APT=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -q -y)
as_root() { if [[ "$(id -u)" == 0 ]]; then "$@"; else sudo -n "$@"; fi; }
if ! apt-cache policy ruby-sidekiq 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  as_root "${APT[@]}" update >/dev/null
fi
as_root "${APT[@]}" install --no-install-recommends ruby ruby-sidekiq >/dev/null
echo "[ruby] installed ruby $(ruby -e 'print RUBY_VERSION') and sidekiq $(ruby -e 'require "sidekiq"; print Sidekiq::VERSION')" >&2
