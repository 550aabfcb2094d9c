import {
  type CronSchedule,
  firesBetween,
  parseCronSchedule,
} from '../sidekiq/cron/cron-schedule.js';

export enum PeriodicStatus {
  Ok = 'ok',
  /** no success for PERIODIC_OVERDUE_INTERVALS of its intervals */
  Overdue = 'overdue',
  /** no finished run in the history */
  NeverRun = 'never_run',
  Disabled = 'disabled',
}

/** A class's recent outcomes in the history (JobOutcomesService#classOutcomes). */
export interface ClassOutcome {
  readonly lastRunAt: Date | null;
  readonly lastSuccessAt: Date | null;
  /** the oldest outcome read: with no success among them, none since at least then */
  readonly oldestAt: Date | null;
}

export interface CronVerdict {
  readonly status: PeriodicStatus;
  readonly nextRun: Date | null;
  /** why the schedule could not be read (no next run, never overdue); null when it was */
  readonly scheduleError: string | null;
  /** scheduled times since the last success (or the oldest run read), counted up to 2 × the limit */
  readonly missedRuns: number | null;
  /** the last success, or the oldest failure read when no success is among the runs read */
  readonly since: Date | null;
}

/**
 * A sidekiq-cron job's status: its expression gives the exact times it should have run since its
 * last success; `overdueIntervals` of them gone by without one is overdue.
 */
export function cronVerdict(
  job: { readonly cron: string; readonly enabled: boolean; readonly timeZone?: string },
  outcome: ClassOutcome | undefined,
  now: Date,
  overdueIntervals: number,
): CronVerdict {
  const parsed = parseCronSchedule(job.cron, job.timeZone);
  const schedule: CronSchedule | null = 'error' in parsed ? null : parsed;
  const scheduleError = 'error' in parsed ? parsed.error : null;
  const nextRun = schedule?.next(now) ?? null;
  const since = outcome?.lastSuccessAt ?? outcome?.oldestAt ?? null;
  const base = { nextRun, scheduleError, since };
  if (!job.enabled) {
    return { ...base, status: PeriodicStatus.Disabled, missedRuns: null };
  }
  if (!outcome?.lastRunAt || since === null) {
    return { ...base, status: PeriodicStatus.NeverRun, missedRuns: null };
  }
  if (schedule === null) {
    return { ...base, status: PeriodicStatus.Ok, missedRuns: null };
  }
  const missedRuns = firesBetween(schedule, since, now, overdueIntervals * 2);
  return {
    ...base,
    status: missedRuns >= overdueIntervals ? PeriodicStatus.Overdue : PeriodicStatus.Ok,
    missedRuns,
  };
}

/**
 * A schedule of a fixed interval (sidekiq-scheduler's `every` / `interval`): `overdueIntervals`
 * whole intervals gone by since the last success is overdue. The next run is the one the
 * scheduler wrote, else the last trigger plus the interval, else unknown.
 */
export function intervalVerdict(
  job: {
    readonly intervalSeconds: number | null;
    readonly enabled: boolean;
    readonly nextTime: Date | null;
    readonly lastTime: Date | null;
    readonly schedule: string;
  },
  outcome: ClassOutcome | undefined,
  now: Date,
  overdueIntervals: number,
): CronVerdict {
  const interval = job.intervalSeconds;
  const scheduleError =
    interval === null ? `not a duration this service reads: "${job.schedule}"` : null;
  const nextRun =
    job.nextTime ??
    (job.lastTime && interval !== null ? new Date(job.lastTime.getTime() + interval * 1000) : null);
  const since = outcome?.lastSuccessAt ?? outcome?.oldestAt ?? null;
  const base = { nextRun, scheduleError, since };
  if (!job.enabled) {
    return { ...base, status: PeriodicStatus.Disabled, missedRuns: null };
  }
  if (!outcome?.lastRunAt || since === null) {
    return { ...base, status: PeriodicStatus.NeverRun, missedRuns: null };
  }
  if (interval === null) {
    return { ...base, status: PeriodicStatus.Ok, missedRuns: null };
  }
  const missedRuns = Math.min(
    Math.max(0, Math.floor((now.getTime() - since.getTime()) / (interval * 1000))),
    overdueIntervals * 2,
  );
  return {
    ...base,
    status: missedRuns >= overdueIntervals ? PeriodicStatus.Overdue : PeriodicStatus.Ok,
    missedRuns,
  };
}

/** A schedule that runs once (sidekiq-scheduler's `at` / `in`): never overdue. */
export function onceVerdict(
  job: { readonly enabled: boolean; readonly nextTime: Date | null },
  outcome: ClassOutcome | undefined,
): CronVerdict {
  const since = outcome?.lastSuccessAt ?? outcome?.oldestAt ?? null;
  const status = !job.enabled
    ? PeriodicStatus.Disabled
    : !outcome?.lastRunAt
      ? PeriodicStatus.NeverRun
      : PeriodicStatus.Ok;
  return { status, nextRun: job.nextTime, scheduleError: null, missedRuns: null, since };
}

// A learned interval shorter than this is a busy class, not a periodic one
export const MIN_LEARNED_INTERVAL_SECONDS = 60;
// Share of the gaps that must lie within [median / 2, median × 2] for the class to count as regular
const REGULAR_SHARE = 0.8;

export interface LearnedInterval {
  readonly medianSeconds: number;
  readonly gaps: number;
  readonly lastSuccessAt: Date;
}

/**
 * The interval of a class that succeeds regularly, from its successes (epoch seconds, newest
 * first): the median gap, when there are at least `minSuccesses`, the median is at least a minute
 * and most gaps are near it (a class run on demand has scattered gaps and gets none).
 */
export function learnInterval(
  timesDesc: readonly number[],
  minSuccesses: number,
): LearnedInterval | null {
  if (timesDesc.length < minSuccesses || timesDesc.length < 2) {
    return null;
  }
  const gaps = timesDesc.slice(1).map((t, i) => timesDesc[i]! - t);
  const sorted = [...gaps].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  if (median < MIN_LEARNED_INTERVAL_SECONDS) {
    return null;
  }
  const near = gaps.filter((g) => g >= median / 2 && g <= median * 2).length;
  if (near < gaps.length * REGULAR_SHARE) {
    return null;
  }
  return {
    medianSeconds: median,
    gaps: gaps.length,
    lastSuccessAt: new Date(timesDesc[0]! * 1000),
  };
}

/** Whole learned intervals gone by since the last success. */
export function learnedMissed(interval: LearnedInterval, now: Date): number {
  return Math.floor(
    (now.getTime() - interval.lastSuccessAt.getTime()) / (interval.medianSeconds * 1000),
  );
}

/** "1h 5m", "2d 3h", "45s": an interval for a finding's sentence. */
export function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  const units: [number, string][] = [
    [86_400, 'd'],
    [3600, 'h'],
    [60, 'm'],
    [1, 's'],
  ];
  const parts: string[] = [];
  let rest = s;
  for (const [size, unit] of units) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    } else if (parts.length > 0) {
      break;
    }
  }
  return parts.join(' ') || '0s';
}
