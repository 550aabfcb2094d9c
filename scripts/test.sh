#!/usr/bin/env bash
# `npm test`: the same set-up as `npm start`, then every tier. Static checks (format, lint,
# typecheck, build) count as tests in the summary; the last line is `N passed, N failed`.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
mkdir -p .local
summary=.local/test-summary.txt
rm -f "$summary" .vitest-report.json

bash scripts/deps.sh

passed=0 failed=0
check() { # check NAME CMD...
  local name="$1"; shift
  echo "== $name" >&2
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "[test] $name FAILED" >&2; fi
}
check format npx prettier --check . --log-level warn
check lint npx eslint . --max-warnings 0
check typecheck npx tsc -p tsconfig.json --noEmit
check build npm run -s build

# Ruby + Sidekiq (and Rails 6.1 Active Job / Action Mailer) for the Ruby-side tests, python-gitlab
# for the GitLab-client test (Debian packages)
bash scripts/ensure-ruby.sh
bash scripts/ensure-sidekiq-cron.sh
bash scripts/ensure-activejob.sh
bash scripts/ensure-python-gitlab.sh
bash scripts/ensure-chromium.sh
# promtool and a real Prometheus for the /metrics tests (Debian's prometheus)
bash scripts/ensure-prometheus.sh
# the alerting rules: valid, and firing (or not) as their unit tests expect
check alert-rules promtool check rules deploy/prometheus/rules.yml deploy/prometheus/findings-rules.yml
check alert-rules-tests promtool test rules deploy/prometheus/rules.test.yml

vitest_rc=0
bash scripts/services.sh run -- npx vitest run --reporter=default --reporter=json \
  --outputFile.json=.vitest-report.json "$@" || vitest_rc=$?

line=$(node -e '
  const fs = require("node:fs");
  const [p, f, rc] = process.argv.slice(1).map(Number);
  let vp = 0, vf = 0;
  try {
    const r = JSON.parse(fs.readFileSync(".vitest-report.json", "utf8"));
    vp = r.numPassedTests;
    // a file that failed outside its tests (import error, hook) counts once; its tests are not double-counted
    const broken = (r.testResults ?? []).filter(
      (f) => f.status === "failed" && !(f.assertionResults ?? []).some((a) => a.status === "failed"),
    ).length;
    vf = r.numFailedTests + broken;
  } catch { vf = 1; }
  if (rc !== 0 && vf === 0) vf = 1; // the runner failed outside any test
  console.log(`${p + vp} passed, ${f + vf} failed`);
' "$passed" "$failed" "$vitest_rc")
echo "$line" >"$summary"
echo "$line"
[[ "$failed" == 0 && "$vitest_rc" == 0 ]]
