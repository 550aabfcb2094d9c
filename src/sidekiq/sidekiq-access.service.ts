import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/errors/domain-error.js';
import { AppConfig } from '../config/app-config.js';
import { DisplayRules } from './payload/job-record.js';
import { decodeProcessInfo } from './payload/process-info.js';
import {
  BulkOrder,
  bulkOrderForVersion,
  displayRulesForVersion,
} from './payload/sidekiq-version.js';
import { SidekiqRepository } from './sidekiq.repository.js';
import type { SidekiqStore } from './store/sidekiq.store.js';

/** Dead-set trim limits (`dead_max_jobs`, `dead_timeout_in_seconds` in Sidekiq). */
export interface DeadSetLimits {
  readonly maxJobs: number;
  readonly timeoutSeconds: number;
}

const RULES_TTL_MS = 30_000;

/** Where the Sidekiq version behind an instance's behaviour comes from. */
export enum VersionSource {
  /** a live process's heartbeat (`info.version`, 7.0.2+; absent: older) */
  Process = 'process',
  /** no process alive now: the version last seen in a heartbeat by this service */
  LastSeen = 'last-seen',
  /** no process seen yet: the version declared in the configuration */
  Declared = 'declared',
  /** nothing known: the current Sidekiq's behaviour */
  Assumed = 'assumed',
}

/** The Sidekiq behaviour an instance gets: display rules and the retry_all / kill_all order. */
export interface SidekiqProfile {
  /** null: a process older than 7.0.2 (its heartbeat carries no version); undefined: unknown */
  readonly version: string | null | undefined;
  readonly source: VersionSource;
  readonly rules: DisplayRules;
  readonly bulkOrder: BulkOrder;
}

function profileOf(version: string | null | undefined, source: VersionSource): SidekiqProfile {
  if (version === undefined) {
    return { version, source, rules: DisplayRules.Modern, bulkOrder: BulkOrder.LowestFirst };
  }
  return {
    version,
    source,
    rules: displayRulesForVersion(version),
    bulkOrder: bulkOrderForVersion(version),
  };
}

/**
 * Resolves the instance for a use case and guards writes: every change goes through `writable()`,
 * which refuses with READ_ONLY_MODE (403) when SIDEKIQ_READ_ONLY=true.
 */
@Injectable()
export class SidekiqAccessService {
  private readonly profiles = new Map<string, { profile: SidekiqProfile; at: number }>();
  /** per instance, the version of the last live process seen (kept while none is alive) */
  private readonly lastSeen = new Map<string, string | null>();

  constructor(
    private readonly repository: SidekiqRepository,
    private readonly config: AppConfig,
  ) {}

  get readOnly(): boolean {
    return this.config.sidekiqReadOnly;
  }

  /** From SIDEKIQ_DEAD_MAX_JOBS / SIDEKIQ_DEAD_TIMEOUT_SECONDS (defaults: Sidekiq's 10 000 and 180 days). */
  get deadSetLimits(): DeadSetLimits {
    return {
      maxJobs: this.config.sidekiqDeadMaxJobs,
      timeoutSeconds: this.config.sidekiqDeadTimeoutSeconds,
    };
  }

  readable(instance?: string): SidekiqStore {
    return this.repository.store(instance);
  }

  writable(instance?: string): SidekiqStore {
    if (this.config.sidekiqReadOnly) {
      throw new DomainError('READ_ONLY_MODE', 'Sidekiq is read-only here (SIDEKIQ_READ_ONLY=true)');
    }
    return this.repository.store(instance);
  }

  instanceNames(): string[] {
    return this.repository.instanceNames();
  }

  /** Remembers the version of a live process of the instance (see profile()). */
  rememberVersion(instance: string, version: string | null): void {
    this.lastSeen.set(instance, version);
  }

  /** JobRecord#display_args changed in 7.1 (GlobalID unwrapping): the rules of the instance's Sidekiq. */
  async displayRules(store: SidekiqStore): Promise<DisplayRules> {
    return (await this.profile(store)).rules;
  }

  /**
   * The instance's Sidekiq version, from a live process's `info.version` (absent: 6.x or
   * 7.0.0–7.0.1); with no live process, the last one seen, else the version declared in
   * SIDEKIQ_INSTANCES / SIDEKIQ_VERSION, else the current Sidekiq (7.1+ display rules, 7.3.5+
   * order). Cached per instance for 30 s.
   */
  async profile(store: SidekiqStore): Promise<SidekiqProfile> {
    const cached = this.profiles.get(store.name);
    if (cached && Date.now() - cached.at < RULES_TTL_MS) {
      return cached.profile;
    }
    const identities = await store.processes.identities();
    const hashes = await store.processes.hashes(identities.slice(0, 5));
    const live = hashes
      .map((h) => (h.info ? decodeProcessInfo(h.info) : null))
      .find((i) => i !== null);
    let profile: SidekiqProfile;
    if (live) {
      this.rememberVersion(store.name, live.version);
      profile = profileOf(live.version, VersionSource.Process);
    } else if (this.lastSeen.has(store.name)) {
      profile = profileOf(this.lastSeen.get(store.name), VersionSource.LastSeen);
    } else if (store.instance.sidekiqVersion !== null) {
      profile = profileOf(store.instance.sidekiqVersion, VersionSource.Declared);
    } else {
      profile = profileOf(undefined, VersionSource.Assumed);
    }
    this.profiles.set(store.name, { profile, at: Date.now() });
    return profile;
  }
}
