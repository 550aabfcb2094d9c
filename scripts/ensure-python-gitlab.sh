#!/usr/bin/env bash
# Installs Debian's python3-gitlab when missing (idempotent). Used by the test set-up for the
# GitLab-client test that calls the Sidekiq Metrics API through the real python-gitlab. Debian's
# interpreter by its path: a python3 earlier on PATH (pyenv, venv) does not see dist-packages.
set -Eeuo pipefail
PY=/usr/bin/python3
if [[ -x "$PY" ]] && "$PY" -c 'import gitlab' >/dev/null 2>&1; then
  exit 0
fi
APT=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -q -y)
as_root() { if [[ "$(id -u)" == 0 ]]; then "$@"; else sudo -n "$@"; fi; }
if ! apt-cache policy python3-gitlab 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  as_root "${APT[@]}" update >/dev/null
fi
as_root "${APT[@]}" install --no-install-recommends python3 python3-gitlab >/dev/null
echo "[python-gitlab] installed python-gitlab $("$PY" -c 'import gitlab; print(gitlab.__version__)')" >&2
