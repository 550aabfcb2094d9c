import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/errors/domain-error.js';
import { AppConfig } from '../config/app-config.js';
import { decodeProcessInfo, DisplayRules, displayRulesForVersion } from './sidekiq-payload.js';
import { SidekiqRepository, type SidekiqStore } from './sidekiq.repository.js';

/** Dead-set trim limits (`dead_max_jobs`, `dead_timeout_in_seconds` in Sidekiq). */
export interface DeadSetLimits {
  readonly maxJobs: number;
  readonly timeoutSeconds: number;
}

const RULES_TTL_MS = 30_000;

/**
 * Resolves the instance for a use case and guards writes: every change goes through `writable()`,
 * which refuses with READ_ONLY_MODE (403) when SIDEKIQ_READ_ONLY=true.
 */
@Injectable()
export class SidekiqAccessService {
  private readonly rules = new Map<string, { rules: DisplayRules; at: number }>();

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

  /**
   * JobRecord#display_args changed in 7.1 (GlobalID unwrapping). Pick the rules from the running
   * Sidekiq's `info.version` (absent: 6.x or 7.0.0–7.0.1); with no live process, the 7.1+ rules.
   * Cached per instance for 30 s.
   */
  async displayRules(store: SidekiqStore): Promise<DisplayRules> {
    const cached = this.rules.get(store.name);
    if (cached && Date.now() - cached.at < RULES_TTL_MS) {
      return cached.rules;
    }
    const identities = await store.processIdentities();
    const hashes = await store.processHashes(identities.slice(0, 5));
    const live = hashes
      .map((h) => (h.info ? decodeProcessInfo(h.info) : null))
      .find((i) => i !== null);
    const rules = live ? displayRulesForVersion(live.version) : DisplayRules.Modern;
    this.rules.set(store.name, { rules, at: Date.now() });
    return rules;
  }
}
