import type { Redis } from 'ioredis';

// sidekiq-scheduler's Redis layout written byte for byte as the gem writes it, from its source
// (github.com/sidekiq-scheduler/sidekiq-scheduler at v5.0.6 3d51229dfafd8a120b296acc5e20d8138747d55b;
// redis_manager.rb is the same in v4.0.3 and 6.0.2). No gem can be installed here: this is the
// source read, not a capture from a running gem.
//
// - Sidekiq.schedule= (schedule.rb): prepare_schedule stringifies the keys and sets
//   `class ||= name`; set_schedule stores JSON.generate(job_spec) with HSET `schedules` and, when
//   it changed, ZADD `schedules_changed` Time.now.to_f name
// - Scheduler#load_schedule_job then Utils.update_job_next_time: HSET
//   `sidekiq-scheduler:next_times` name String(EoTime) ("2026-12-05 01:00:00 +0100")
// - each trigger (Utils.new_rufus_scheduler's on_post_trigger): HSET
//   `sidekiq-scheduler:last_times` and next_times
// - the web UI's toggle (Scheduler#set_schedule_state): HSET `sidekiq-scheduler:states` name
//   JSON.generate(state), `{"enabled":false}`
// - every key behind RedisManager.key_prefix ("app:" for "app")

export interface SchedulerJobSpec {
  name: string;
  /** the schedule hash as the app's YAML or Sidekiq.set_schedule gives it (string keys) */
  config: Record<string, unknown>;
  /** `sidekiq-scheduler:states` entry, as the web UI's toggle writes it */
  state?: Record<string, unknown>;
  nextTime?: Date;
  lastTime?: Date;
  /** the UTC offset, in minutes, of the scheduler process that wrote the times */
  offsetMinutes?: number;
  /** RedisManager.key_prefix as the app sets it */
  keyPrefix?: string;
}

function prefixOf(keyPrefix: string | undefined): string {
  if (!keyPrefix) {
    return '';
  }
  return keyPrefix.endsWith(':') || keyPrefix.endsWith('.') ? keyPrefix : `${keyPrefix}:`;
}

/** String(EtOrbi::EoTime): `%Y-%m-%d %H:%M:%S %z` in the scheduler process's zone. */
export function eoTimeText(at: Date, offsetMinutes = 0): string {
  const local = new Date(at.getTime() + offsetMinutes * 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
  return `${local.toISOString().slice(0, 19).replace('T', ' ')} ${zone}`;
}

/** Keys of the layout, for assertions. */
export function schedulerKeys(keyPrefix?: string) {
  const p = prefixOf(keyPrefix);
  return {
    schedules: `${p}schedules`,
    schedulesChanged: `${p}schedules_changed`,
    states: `${p}sidekiq-scheduler:states`,
    nextTimes: `${p}sidekiq-scheduler:next_times`,
    lastTimes: `${p}sidekiq-scheduler:last_times`,
  };
}

/** Saves a schedule, its times and state as the gem does (see above). */
export async function saveSchedulerJob(redis: Redis, spec: SchedulerJobSpec): Promise<void> {
  const keys = schedulerKeys(spec.keyPrefix);
  // prepare_schedule: `class` defaults to the name (a JS object keeps key order like a Ruby Hash)
  const config = { ...spec.config };
  if (config.class === undefined || config.class === null) {
    config.class = spec.name;
  }
  const multi = redis
    .multi()
    .hset(keys.schedules, spec.name, JSON.stringify(config))
    .zadd(keys.schedulesChanged, String(Date.now() / 1000), spec.name);
  if (spec.nextTime) {
    multi.hset(keys.nextTimes, spec.name, eoTimeText(spec.nextTime, spec.offsetMinutes));
  }
  if (spec.lastTime) {
    multi.hset(keys.lastTimes, spec.name, eoTimeText(spec.lastTime, spec.offsetMinutes));
  }
  if (spec.state) {
    multi.hset(keys.states, spec.name, JSON.stringify(spec.state));
  }
  await multi.exec();
}
