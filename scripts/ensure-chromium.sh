#!/usr/bin/env bash
# Installs Debian's chromium when missing (idempotent). Used by the test set-up for the dashboard's
# browser test (playwright-core drives this Chromium; it never downloads a browser of its own).
set -Eeuo pipefail
if [[ -x /usr/bin/chromium ]]; then
  exit 0
fi
APT=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -q -y)
as_root() { if [[ "$(id -u)" == 0 ]]; then "$@"; else sudo -n "$@"; fi; }
if ! apt-cache policy chromium 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  as_root "${APT[@]}" update >/dev/null
fi
as_root "${APT[@]}" install chromium >/dev/null
echo "[chromium] installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)" >&2
