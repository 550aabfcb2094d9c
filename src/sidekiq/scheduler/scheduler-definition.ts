import {
  buildRepush,
  formatTimestamp,
  joinPairs,
  setPair,
  splitTopLevel,
} from '../payload/payload-edit.js';
import { TimestampFormat } from '../payload/job-record.js';
import { parseEnqueueTime } from '../cron/cron-definition.js';

// sidekiq-scheduler as read in its source (github.com/sidekiq-scheduler/sidekiq-scheduler; no gem
// can be installed here, so this is checked against the source, not a running gem):
// - lib/sidekiq-scheduler/redis_manager.rb: the keys (SchedulerKeys) and what is written to them
// - lib/sidekiq-scheduler/schedule.rb: Sidekiq.schedule= stores each schedule as
//   JSON.generate(job_spec) with stringified keys, `class` defaulting to the name
// - lib/sidekiq-scheduler/scheduler.rb: load_schedule_job (the first non-empty of cron, every, at,
//   in, interval is the schedule, a String or [schedule, options]), job_enabled? (states'
//   `enabled`, else the schedule's, else true), toggle_job_enabled / toggle_all_jobs (the state
//   JSON with `enabled` set), enqueue_job / prepare_arguments (include_metadata, Array(args))
// - lib/sidekiq-scheduler/utils.rb: RUFUS_METADATA_KEYS dropped before Sidekiq::Client.push,
//   next/last times written as String(EtOrbi::EoTime) on each trigger
// - lib/sidekiq-scheduler/job_presenter.rb, lib/sidekiq-scheduler/web.rb (extensions/web.rb in 4.x):
//   the web UI's list, POST /recurring-jobs/:name/toggle and /:name/enqueue
// at tags v4.0.3 (cbf62f96a7856f8e92b6f80a143f60770f01e0e9), v5.0.6
// (3d51229dfafd8a120b296acc5e20d8138747d55b) and master 6.0.2 (fd3ddc893218f4b6e92a2b7e6320df0bf8eba50a).

/** How a sidekiq-scheduler schedule says when to run (Scheduler#load_schedule_job's order). */
export type ScheduleType = 'cron' | 'every' | 'at' | 'in' | 'interval';
export const SCHEDULE_TYPES: readonly ScheduleType[] = ['cron', 'every', 'at', 'in', 'interval'];

/** Utils::RUFUS_METADATA_KEYS: removed from the config before it is pushed. */
const RUFUS_METADATA_KEYS = new Set([
  'description',
  'at',
  'cron',
  'every',
  'in',
  'interval',
  'enabled',
]);

/** One sidekiq-scheduler schedule with its state and times, as the gem's web UI reads it. */
export interface SchedulerDefinition {
  readonly name: string;
  readonly jobClass: string;
  /** `queue`, else "default" (JobPresenter#queue) */
  readonly queue: string;
  /** null: no cron/every/at/in/interval, the scheduler skips it */
  readonly scheduleType: ScheduleType | null;
  /** the schedule text (the first element of a [schedule, options] array) */
  readonly schedule: string | null;
  /** the `args` JSON text as stored ("[]" when none) */
  readonly argsText: string;
  readonly description: string | null;
  /** job_enabled?: the state's `enabled`, else the schedule's `enabled`, else true */
  readonly enabled: boolean;
  /** the state JSON text as stored in sidekiq-scheduler:states, null when none */
  readonly stateText: string | null;
  /** sidekiq-scheduler:next_times */
  readonly nextTime: Date | null;
  /** sidekiq-scheduler:last_times: when the scheduler last triggered it */
  readonly lastTime: Date | null;
  /**
   * The scheduler process's zone as a fixed offset (`UTC+1`), from the offset its times carry
   * (rufus-scheduler runs a cron without a zone in the process's local time); null when no time
   * was written. A DST change between the times written and now is not followed.
   */
  readonly processZone: string | null;
  /** the stored schedule JSON text */
  readonly configText: string;
}

export interface SchedulerEntry {
  readonly name: string;
  readonly config: string | null;
  readonly state: string | null;
  readonly nextTime: string | null;
  readonly lastTime: string | null;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A JSON value that Ruby reads as true (anything but false and nil). */
const truthy = (v: unknown): boolean => v !== false && v !== null && v !== undefined;

/**
 * A schedule as the gem reads it back (JSON.parse of its `schedules` field), or null when it is
 * not a JSON object or has no class the gem could push.
 */
export function decodeSchedulerEntry(entry: SchedulerEntry): SchedulerDefinition | null {
  if (entry.config === null) {
    return null;
  }
  let config: unknown;
  try {
    config = JSON.parse(entry.config);
  } catch {
    return null;
  }
  if (!isRecord(config) || typeof config.class !== 'string' || config.class === '') {
    return null;
  }
  let scheduleType: ScheduleType | null = null;
  let schedule: string | null = null;
  for (const type of SCHEDULE_TYPES) {
    // RufusUtils.normalize_schedule_options: `schedule, opts = value`
    const raw = config[type];
    const value = Array.isArray(raw) ? raw[0] : raw;
    // `!value.nil? && value.length > 0`: a non-empty String or Array
    if ((typeof raw === 'string' && raw !== '') || (Array.isArray(raw) && raw.length > 0)) {
      scheduleType = type;
      schedule = typeof value === 'string' || typeof value === 'number' ? String(value) : null;
      break;
    }
  }
  let state: unknown = null;
  if (entry.state !== null) {
    try {
      state = JSON.parse(entry.state);
    } catch {
      state = null;
    }
  }
  // schedule_state(name).fetch('enabled', job.fetch('enabled', true))
  const enabled =
    isRecord(state) && 'enabled' in state
      ? truthy(state.enabled)
      : 'enabled' in config
        ? truthy(config.enabled)
        : true;
  const queue = typeof config.queue === 'string' && config.queue !== '' ? config.queue : 'default';
  return {
    name: entry.name,
    jobClass: config.class,
    queue,
    scheduleType,
    schedule,
    argsText: config.args === undefined ? '[]' : JSON.stringify(config.args),
    description: typeof config.description === 'string' ? config.description : null,
    enabled,
    stateText: entry.state,
    nextTime: parseEnqueueTime(entry.nextTime),
    lastTime: parseEnqueueTime(entry.lastTime),
    processZone: zoneOf(entry.nextTime) ?? zoneOf(entry.lastTime),
    configText: entry.config,
  };
}

/** `UTC`, `UTC+1`, `UTC-5:30` for the `%z` offset ending an EoTime text; null for none. */
export function zoneOf(text: string | null): string | null {
  const m = text === null ? null : /\s([+-])(\d{2})(\d{2})$/.exec(text);
  if (m === null) {
    return null;
  }
  const hours = Number(m[2]);
  const minutes = Number(m[3]);
  if (hours === 0 && minutes === 0) {
    return 'UTC';
  }
  return `UTC${m[1]}${hours}${minutes === 0 ? '' : `:${m[3]}`}`;
}

/**
 * The state JSON the gem writes on toggle (toggle_job_enabled, toggle_all_jobs): the stored state
 * (or {}) with `enabled` set, JSON.generate'd. Keys keep their order; a new `enabled` goes last.
 */
export function nextStateText(stateText: string | null, enabled: boolean): string {
  let state: Record<string, unknown> = {};
  if (stateText !== null) {
    try {
      const parsed: unknown = JSON.parse(stateText);
      // schedule_state: JSON.parse of a non-object would make `state['enabled'] =` fail in Ruby;
      // it is replaced here, as an object is what the gem means to store
      if (isRecord(parsed)) {
        state = parsed;
      }
    } catch {
      state = {};
    }
  }
  state.enabled = enabled;
  return JSON.stringify(state);
}

export interface SchedulerPush {
  readonly queue: string;
  readonly payload: string;
}

export type SchedulerPushResult = SchedulerPush | { readonly error: string };

/**
 * The payload the web UI's "Enqueue now" pushes (Scheduler#enqueue_job of the stored schedule)
 * from a process that cannot load the app's classes, as this service cannot: try_to_constantize
 * leaves the class a String, so it is not an Active Job and goes through
 * Utils.enqueue_with_sidekiq, Sidekiq::Client.push of the config without RUFUS_METADATA_KEYS and
 * `include_metadata` (`args` = Array(args), plus {"scheduled_at": now} when include_metadata);
 * then normalize_item's defaults, jid and times (buildRepush, as the sidekiq-cron kind).
 */
export function buildSchedulerPush(
  def: SchedulerDefinition,
  options: { jid: string; nowMs: number; timestampFormat: TimestampFormat },
): SchedulerPushResult {
  const pairs = splitTopLevel(def.configText);
  if (pairs === null) {
    return { error: 'its schedule is not a JSON object' };
  }
  const config = JSON.parse(def.configText) as Record<string, unknown>;
  let args: unknown[];
  if (config.args === undefined || config.args === null) {
    args = [];
  } else if (Array.isArray(config.args)) {
    args = config.args;
  } else if (isRecord(config.args)) {
    // prepare_arguments keeps a Hash; Sidekiq::Client.push then raises "Job args must be an Array"
    return { error: 'its args are a JSON object; Sidekiq::Client.push accepts only an Array' };
  } else {
    args = [config.args];
  }
  let argsText =
    config.args === undefined || !Array.isArray(config.args)
      ? JSON.stringify(args)
      : pairs.findLast((p) => p.name === 'args')!.valueText;
  if (truthy(config.include_metadata)) {
    // arguments_with_metadata(args, "scheduled_at" => time.to_f.round(3))
    const scheduledAt = formatTimestamp(Math.round(options.nowMs), TimestampFormat.Seconds);
    const inner = argsText.trim().replace(/^\[/, '').replace(/\]$/, '').trim();
    const meta = `{"scheduled_at":${scheduledAt}}`;
    argsText = inner === '' ? `[${meta}]` : `[${inner},${meta}]`;
  }
  let kept = pairs.filter((p) => !RUFUS_METADATA_KEYS.has(p.name) && p.name !== 'include_metadata');
  kept = setPair(kept, 'args', argsText);
  const push = buildRepush(joinPairs(kept), {
    decrementRetryCount: false,
    nowMs: options.nowMs,
    newJid: () => options.jid,
    timestampFormat: options.timestampFormat,
  });
  return push ?? { error: 'its schedule cannot be pushed as a Sidekiq job' };
}

const DURATION_UNITS: Record<string, number> = {
  y: 365 * 86_400,
  M: 30 * 86_400,
  w: 7 * 86_400,
  d: 86_400,
  h: 3600,
  m: 60,
  s: 1,
  ms: 0.001,
};

/**
 * Rufus::Scheduler.parse_duration of an `every`/`interval` schedule, in seconds: "30s", "1h30m",
 * "1.5d", "2w", a bare number (seconds); null when it is not one.
 */
export function parseRufusDuration(text: string): number | null {
  const s = text.trim();
  if (/^-?\d*\.?\d+$/.test(s)) {
    const n = Number(s);
    return n > 0 ? n : null;
  }
  const re = /(\d*\.?\d+)(ms|[yMwdhms])/gy;
  let total = 0;
  let last = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    last = re.lastIndex;
  }
  return last === s.length && last > 0 && total > 0 ? total : null;
}
