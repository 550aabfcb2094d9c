// Which Sidekiq behaviour applies, from the version a process reports in its heartbeat.
import { DisplayRules } from './job-record.js';

/** `major.minor[.patch]` as numbers; null when the text is not a version. */
function versionParts(version: string): [number, number, number] | null {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null;
}

/** Whether `version` is at least `major.minor.patch`. */
function atLeast(version: string, major: number, minor: number, patch = 0): boolean {
  const parts = versionParts(version);
  if (parts === null) {
    return false;
  }
  const [a, b, c] = parts;
  return a !== major ? a > major : b !== minor ? b > minor : c >= patch;
}

/** Whether a text reads as a Sidekiq version (`6.4.1`, `7.3`). */
export function isSidekiqVersion(version: string): boolean {
  return versionParts(version) !== null;
}

/** Display rules from a process's Sidekiq version (`info.version`, 7.0.2+; absent → 6.x or 7.0.0–7.0.1). */
export function displayRulesForVersion(version: string | null): DisplayRules {
  return version !== null && atLeast(version, 7, 1) ? DisplayRules.Modern : DisplayRules.Legacy;
}

/** The order in which retry_all and kill_all take the entries of a set. */
export enum BulkOrder {
  /** ≤ 7.3.4: `each(&:retry) while size > 0`, pages of 50 from the highest score down. */
  HighestFirst = 'highest-first',
  /** 7.3.5+: ZPOPMIN one entry at a time. */
  LowestFirst = 'lowest-first',
}

/** retry_all / kill_all order for a Sidekiq version (null: older than 7.0.2, no `info.version`). */
export function bulkOrderForVersion(version: string | null): BulkOrder {
  return version !== null && atLeast(version, 7, 3, 5)
    ? BulkOrder.LowestFirst
    : BulkOrder.HighestFirst;
}
