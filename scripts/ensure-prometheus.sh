#!/usr/bin/env bash
# Installs Debian's prometheus (prometheus and promtool) when missing (idempotent). Used by the test
# set-up: `promtool check metrics` on a real scrape, and a real Prometheus scraping the service with
# a Bearer token. The tests start their own Prometheus on a free loopback port; the package's own
# service is not needed (and is not started where policy-rc.d forbids it).
set -Eeuo pipefail
if [[ -x /usr/bin/prometheus && -x /usr/bin/promtool ]]; then
  exit 0
fi
APT=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -q -y)
as_root() { if [[ "$(id -u)" == 0 ]]; then "$@"; else sudo -n "$@"; fi; }
if ! apt-cache policy prometheus 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  as_root "${APT[@]}" update >/dev/null
fi
as_root "${APT[@]}" install --no-install-recommends prometheus >/dev/null
echo "[prometheus] installed $(/usr/bin/prometheus --version 2>&1 | head -1)" >&2
