// The one place that spells Sidekiq's Redis key names (STYLE.md rule 4).
// Layouts as read in Sidekiq 6.0–8.1.7 (lib/sidekiq/api.rb, launcher.rb, client.rb) and observed on
// a real Sidekiq 6.4.1 (shared/reference/sidekiq-redis-model.md §1.4). Re-check on every Sidekiq upgrade.
//
// A redis-namespace prefix (Sidekiq 6 only) applies to key names, never to members: queue names in
// `queues` and identities in `processes` stay unprefixed.

/** The three sorted sets, by their public name in this API. */
export enum SidekiqSetName {
  Scheduled = 'scheduled',
  Retry = 'retry',
  Dead = 'dead',
}

export const SIDEKIQ_SET_NAMES: readonly SidekiqSetName[] = [
  SidekiqSetName.Scheduled,
  SidekiqSetName.Retry,
  SidekiqSetName.Dead,
];

export type StatCounter = 'processed' | 'failed';

/** Signals a process pops from `<identity>-signals` at each heartbeat (all versions). */
export enum SidekiqSignal {
  Quiet = 'TSTP',
  Stop = 'TERM',
  DumpThreads = 'TTIN',
}

export class SidekiqKeys {
  private readonly prefix: string;

  constructor(readonly namespace: string | null = null) {
    this.prefix = namespace ? `${namespace}:` : '';
  }

  /** SET of queue names (members unprefixed). All versions. */
  get queues(): string {
    return `${this.prefix}queues`;
  }

  /** LIST of job JSON; LPUSH at index 0 (newest), BRPOP from index -1 (oldest). All versions. */
  queue(name: string): string {
    return `${this.prefix}queue:${name}`;
  }

  /** ZSET: `schedule` (score = run at), `retry` (score = next attempt), `dead` (score = died at). All versions. */
  set(name: SidekiqSetName): string {
    switch (name) {
      case SidekiqSetName.Scheduled:
        return `${this.prefix}schedule`;
      case SidekiqSetName.Retry:
        return `${this.prefix}retry`;
      case SidekiqSetName.Dead:
        return `${this.prefix}dead`;
    }
  }

  /** SET of process identities `host:pid:nonce` (members unprefixed). All versions. */
  get processes(): string {
    return `${this.prefix}processes`;
  }

  /** HASH heartbeat (`info`, `busy`, `beat`, `quiet`, `rss`, `rtt_us`, 8.1.2+ `concurrency`), TTL 60 s. All versions. */
  process(identity: string): string {
    return `${this.prefix}${identity}`;
  }

  /** HASH thread id → work JSON, TTL 60 s. 6.4.2+ (`:work`). */
  work(identity: string): string {
    return `${this.prefix}${identity}:work`;
  }

  /** HASH thread id → work JSON, TTL 60 s. 6.0 – 6.4.1 (`:workers`). */
  legacyWork(identity: string): string {
    return `${this.prefix}${identity}:workers`;
  }

  /** LIST of pending signal names, TTL 60 s. All versions. */
  signals(identity: string): string {
    return `${this.prefix}${identity}-signals`;
  }

  /** STRING integer: lifetime counter, or the daily one (UTC `YYYY-MM-DD`, TTL 5 years). All versions. */
  stat(name: StatCounter, day?: string): string {
    return day ? `${this.prefix}stat:${name}:${day}` : `${this.prefix}stat:${name}`;
  }

  /** STRING "1", `SET NX EX 60`: throttles dead-process pruning. 6.5.2+. */
  get processCleanupLock(): string {
    return `${this.prefix}process_cleanup`;
  }

  // sidekiq-cron 1.8 (lib/sidekiq/cron/job.rb, read in Debian's ruby-sidekiq-cron 1.8.0 and
  // captured from it by test/ruby/sidekiq_cron.rb). The gem goes through Sidekiq.redis, so a
  // redis-namespace prefix applies to its keys as to Sidekiq's; the members of `cron_jobs` are
  // the jobs' key names as the gem spells them (`cron_job:<name>`), never prefixed.

  /** SET of `cron_job:<name>` key names, one per cron job (sidekiq-cron 1.x). */
  get cronJobs(): string {
    return `${this.prefix}cron_jobs`;
  }

  /**
   * HASH of one cron job: name, klass, cron, description, args (JSON), message (JSON: the payload
   * pushed, without jid and times), status (`enabled` | `disabled`), last_enqueue_time
   * (`%Y-%m-%d %H:%M:%S %z`), date_as_argument, active_job, queue_name_prefix,
   * queue_name_delimiter, symbolize_args; nil values stored as "". sidekiq-cron 1.x.
   */
  cronJob(name: string): string {
    return `${this.prefix}${cronJobMember(name)}`;
  }

  /** ZSET of the cron times the poller enqueued (member ISO 8601, score epoch seconds), kept 24 h. sidekiq-cron 1.x. */
  cronJobEnqueued(name: string): string {
    return `${this.prefix}cron_job:${name}:enqueued`;
  }

  /** LIST of `{"jid":…,"enqueued":…}` JSON, newest first, trimmed to cron_history_size (10). sidekiq-cron 1.x. */
  cronJobJidHistory(name: string): string {
    return `${this.prefix}cron_job:${name}:jid_history`;
  }
}

/** A member of `cron_jobs` for the job `name` (the unprefixed key name, as the gem writes it). */
export function cronJobMember(name: string): string {
  return `cron_job:${name}`;
}

/** The job name of a `cron_jobs` member; null for a member of another shape. */
export function cronJobName(member: string): string | null {
  return member.startsWith('cron_job:') && member.length > 'cron_job:'.length
    ? member.slice('cron_job:'.length)
    : null;
}

/**
 * sidekiq-scheduler's keys (lib/sidekiq-scheduler/redis_manager.rb, identical in 4.0.3
 * cbf62f96a7856f8e92b6f80a143f60770f01e0e9, 5.0.6 3d51229dfafd8a120b296acc5e20d8138747d55b and
 * 6.0.2 fd3ddc893218f4b6e92a2b7e6320df0bf8eba50a of github.com/sidekiq-scheduler/sidekiq-scheduler).
 * The gem goes through Sidekiq.redis, so a redis-namespace prefix applies first; then its own
 * `key_prefix` (4.0.3+, RedisManager.key_prefix=), to which it appends ":" unless the prefix
 * already ends in ":" or ".". Members and fields (schedule names) are never prefixed.
 */
export class SchedulerKeys {
  private readonly prefix: string;

  constructor(namespace: string | null = null, keyPrefix: string | null = null) {
    this.prefix = `${namespace ? `${namespace}:` : ''}${normalizeSchedulerKeyPrefix(keyPrefix)}`;
  }

  /** HASH schedule name → JSON of the schedule (cron/every/at/in/interval, class, queue, args, …). */
  get schedules(): string {
    return `${this.prefix}schedules`;
  }

  /** ZSET of changed schedule names, score = change time (Float epoch seconds). */
  get schedulesChanged(): string {
    return `${this.prefix}schedules_changed`;
  }

  /** HASH schedule name → JSON state (`{"enabled":true|false}`), written by the web UI's toggle. */
  get states(): string {
    return `${this.prefix}sidekiq-scheduler:states`;
  }

  /** HASH schedule name → next run, `String(EtOrbi::EoTime)` ("2026-12-05 01:00:00 +0000"). */
  get nextTimes(): string {
    return `${this.prefix}sidekiq-scheduler:next_times`;
  }

  /** HASH schedule name → last trigger time, same format as next_times. */
  get lastTimes(): string {
    return `${this.prefix}sidekiq-scheduler:last_times`;
  }
}

/** RedisManager.key_prefix=: "" for none, else the prefix with ":" appended unless it ends in ":" or ".". */
export function normalizeSchedulerKeyPrefix(value: string | null | undefined): string {
  if (!value) {
    return '';
  }
  return value.endsWith(':') || value.endsWith('.') ? value : `${value}:`;
}
