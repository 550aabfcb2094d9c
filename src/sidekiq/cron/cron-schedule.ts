import { CronTime } from 'cron';

/**
 * A sidekiq-cron schedule read with the `cron` package (the scheduler's own). sidekiq-cron 1.8
 * parses with fugit 1.5: 5 fields, or 6 with seconds first, an optional time zone as the last
 * word (`0 30 2 * * * Europe/Paris`), and the @yearly/@monthly/@weekly/@daily/@hourly presets;
 * fugit, like crontab(5), fires when either day-of-month or day-of-week matches, as the `cron`
 * package does. Without a zone the gem runs in UTC (`Time.now.utc`), so UTC is the default here
 * (never the service's local zone). Not read (schedule_error says so): fugit's `L` (last day),
 * `#` (nth weekday), `%` modulo and `&` day conjunction, and its natural-language forms
 * ("every day at noon").
 */
export interface CronSchedule {
  readonly expression: string;
  readonly timeZone: string;
  /** the first fire time strictly after `after` */
  next(after: Date): Date;
}

const PRESET_ALIASES: Record<string, string> = {
  '@annually': '@yearly',
  '@midnight': '@daily',
};
// a trailing IANA zone (`Europe/Paris`, `America/Argentina/Buenos_Aires`, `Etc/GMT+2`) or UTC
const ZONE = /^(?:[A-Za-z_]+(?:\/[A-Za-z0-9_+-]+)+|UTC|GMT|Z)$/;

/**
 * `defaultZone`: the zone of an expression without one (UTC, as sidekiq-cron runs; a fixed
 * offset such as `UTC+1` for sidekiq-scheduler, whose rufus-scheduler runs in its process's zone).
 */
export function parseCronSchedule(
  expression: string,
  defaultZone = 'UTC',
): CronSchedule | { error: string } {
  const words = expression.trim().split(/\s+/);
  let timeZone = defaultZone;
  if (words.length > 1 && ZONE.test(words.at(-1)!)) {
    const zone = words.pop()!;
    timeZone = zone === 'Z' ? 'UTC' : zone;
  }
  const first = words[0] ?? '';
  const isPreset = words.length === 1 && first.startsWith('@');
  if (!isPreset && (words.length < 5 || words.length > 6)) {
    return { error: `a cron expression has 5 or 6 fields (seconds first), not ${words.length}` };
  }
  const source = isPreset ? (PRESET_ALIASES[first] ?? first) : words.join(' ');
  let time: CronTime;
  try {
    time = new CronTime(source, timeZone);
  } catch (error) {
    return { error: `not a cron expression this service reads: ${(error as Error).message}` };
  }
  return {
    expression,
    timeZone,
    next: (after) => time.getNextDateFrom(after, timeZone).toJSDate(),
  };
}

/**
 * How many fire times fall in (from, to], counting up to `cap` (the walk stops there, so a
 * schedule of every second over a year costs `cap` steps, not millions).
 */
export function firesBetween(schedule: CronSchedule, from: Date, to: Date, cap: number): number {
  let count = 0;
  let at = from;
  while (count < cap) {
    at = schedule.next(at);
    if (at.getTime() > to.getTime()) {
      break;
    }
    count++;
  }
  return count;
}
