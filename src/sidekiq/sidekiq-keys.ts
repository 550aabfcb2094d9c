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
}
