import type { DeployThresholds } from '../../config/deploy-thresholds.js';

/** One job class's terminal jobs in a window around a deploy. */
export interface WindowStats {
  /** jobs that ended (succeeded, failed without retry, dead) */
  count: number;
  failed: number;
  /** run-time p95 in seconds; null without runs */
  p95: number | null;
}

export type RegressionRule = DeployThresholds;

export interface ClassComparison {
  before: WindowStats;
  after: WindowStats;
  /** percentage points; null when the class had no job after the deploy */
  failureRateChange: number | null;
  /** percent; null without a p95 on both sides */
  p95Change: number | null;
  /** why the class is flagged, one sentence each; empty when it is not */
  reasons: string[];
}

const rate = (w: WindowStats) => (w.count === 0 ? 0 : (100 * w.failed) / w.count);
const round = (n: number) => Math.round(n * 10) / 10;

/** Compares a class's window after a deploy with the one before and says why it regressed, if it did. */
export function compareWindows(
  before: WindowStats,
  after: WindowStats,
  rule: RegressionRule,
): ClassComparison {
  const reasons: string[] = [];
  const failureRateChange = after.count === 0 ? null : rate(after) - rate(before);
  if (
    failureRateChange !== null &&
    failureRateChange > rule.failureRatePoints &&
    after.failed >= rule.minFailures
  ) {
    reasons.push(
      `failure rate ${round(rate(before))}% → ${round(rate(after))}% (${after.failed} of ${after.count} failed; threshold +${rule.failureRatePoints} points)`,
    );
  }
  const p95Change =
    before.p95 === null || after.p95 === null || before.p95 <= 0
      ? null
      : (100 * (after.p95 - before.p95)) / before.p95;
  if (
    p95Change !== null &&
    p95Change > rule.p95IncreasePercent &&
    before.count >= rule.minRuns &&
    after.count >= rule.minRuns
  ) {
    reasons.push(
      `run-time p95 ${formatSeconds(before.p95!)} → ${formatSeconds(after.p95!)} (+${Math.round(p95Change)}%; threshold +${rule.p95IncreasePercent}%)`,
    );
  }
  return {
    before,
    after,
    failureRateChange: failureRateChange === null ? null : round(failureRateChange),
    p95Change: p95Change === null ? null : round(p95Change),
    reasons,
  };
}

function formatSeconds(s: number): string {
  return s < 1 ? `${Math.round(s * 1000)} ms` : `${round(s)} s`;
}
