/** The detector thresholds a job class may set for itself (DETECTOR_OVERRIDES). */
export interface DetectorThresholds {
  /** a running job is never stuck before this, whatever its class's baseline says */
  readonly stuckFloorSeconds: number;
  /** runs of the class needed before its p99 is trusted */
  readonly stuckMinSamples: number;
  /** the limit while the class has fewer runs than that */
  readonly stuckDefaultSeconds: number;
  /** a queued job not started after this long is reported */
  readonly neverStartedSeconds: number;
  /** a periodic job (cron or learnt) is overdue after this many of its intervals without a success */
  readonly overdueIntervals: number;
}

const KEYS: Record<string, keyof DetectorThresholds> = {
  stuck_floor_s: 'stuckFloorSeconds',
  stuck_min_samples: 'stuckMinSamples',
  stuck_default_s: 'stuckDefaultSeconds',
  never_started_s: 'neverStartedSeconds',
  overdue_intervals: 'overdueIntervals',
};

// a year of seconds, or runs: above it a value is a typo, not a threshold
const MAX_VALUE = 31_536_000;
const MAX_OF: Partial<Record<keyof DetectorThresholds, number>> = { overdueIntervals: 100 };
const MAX_CLASSES = 1000;

export type DetectorOverrides = ReadonlyMap<string, Partial<DetectorThresholds>>;

/**
 * DETECTOR_OVERRIDES: `{"ReportJob": {"stuck_floor_s": 600}}`. Returns the overrides, or the
 * problems found, each naming the class and key at fault (class names are not secrets; no value
 * is repeated).
 */
export function parseDetectorOverrides(text: string | undefined): {
  overrides: DetectorOverrides;
  problems: string[];
} {
  const overrides = new Map<string, Partial<DetectorThresholds>>();
  if (text === undefined || text.trim() === '') {
    return { overrides, problems: [] };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { overrides, problems: ['DETECTOR_OVERRIDES must be a JSON object'] };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { overrides, problems: ['DETECTOR_OVERRIDES must be a JSON object of job classes'] };
  }
  const problems: string[] = [];
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.length > MAX_CLASSES) {
    problems.push(`DETECTOR_OVERRIDES may name at most ${MAX_CLASSES} classes`);
  }
  for (const [jobClass, settings] of entries.slice(0, MAX_CLASSES)) {
    if (settings === null || typeof settings !== 'object' || Array.isArray(settings)) {
      problems.push(`DETECTOR_OVERRIDES.${jobClass} must be an object`);
      continue;
    }
    const thresholds: Partial<Record<keyof DetectorThresholds, number>> = {};
    for (const [key, value] of Object.entries(settings as Record<string, unknown>)) {
      const field = KEYS[key];
      if (field === undefined) {
        problems.push(
          `DETECTOR_OVERRIDES.${jobClass}.${key} is not a setting (${Object.keys(KEYS).join(', ')})`,
        );
      } else if (
        typeof value !== 'number' ||
        !Number.isInteger(value) ||
        value < 1 ||
        value > (MAX_OF[field] ?? MAX_VALUE)
      ) {
        problems.push(
          `DETECTOR_OVERRIDES.${jobClass}.${key} must be a whole number from 1 to ${MAX_OF[field] ?? MAX_VALUE}`,
        );
      } else {
        thresholds[field] = value;
      }
    }
    overrides.set(jobClass, Object.freeze(thresholds));
  }
  return { overrides, problems };
}

/** The thresholds for `jobClass`: its overrides over the defaults. */
export function thresholdsFor(
  defaults: DetectorThresholds,
  overrides: DetectorOverrides,
  jobClass: string | null,
): DetectorThresholds {
  const own = jobClass === null ? undefined : overrides.get(jobClass);
  return own ? { ...defaults, ...own } : defaults;
}
