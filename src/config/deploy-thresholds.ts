/** When a job class counts as regressed after a deploy (README "Failures and deploys"). */
export interface DeployThresholds {
  /** failure rate up by more than this many percentage points… */
  readonly failureRatePoints: number;
  /** …with at least this many failures after the deploy */
  readonly minFailures: number;
  /** p95 up by more than this many percent… */
  readonly p95IncreasePercent: number;
  /** …with at least this many jobs in each window */
  readonly minRuns: number;
}

const KEYS: Record<string, keyof DeployThresholds> = {
  failure_rate_points: 'failureRatePoints',
  min_failures: 'minFailures',
  p95_increase_percent: 'p95IncreasePercent',
  min_runs: 'minRuns',
};

/**
 * DEPLOY_CLASS_OVERRIDES: a JSON object from job class to the thresholds it sets for itself,
 * `{"ReportJob": {"p95_increase_percent": 200, "min_runs": 50}}`; null when it is not one (unknown
 * key, a value that is not a number ≥ 0, more than 1,000 classes).
 */
export function parseDeployOverrides(
  text: string,
): ReadonlyMap<string, Partial<DeployThresholds>> | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return null;
  }
  const entries = Object.entries(parsed);
  if (entries.length > 1000) {
    return null;
  }
  const overrides = new Map<string, Partial<DeployThresholds>>();
  for (const [jobClass, value] of entries) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      return null;
    }
    const thresholds: Partial<Record<keyof DeployThresholds, number>> = {};
    for (const [key, n] of Object.entries(value as Record<string, unknown>)) {
      const name = KEYS[key];
      if (!name || typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
        return null;
      }
      thresholds[name] = n;
    }
    overrides.set(jobClass, Object.freeze(thresholds));
  }
  return overrides;
}
