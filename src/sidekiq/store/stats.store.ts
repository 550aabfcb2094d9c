import type { PageMember } from '../payload/job-record.js';
import { SidekiqSetName, type StatCounter } from '../sidekiq-keys.js';
import { BaseStore, toMember, toNumber } from './base.store.js';

export interface StatsSnapshot {
  readonly processed: number;
  readonly failed: number;
  readonly scheduledSize: number;
  readonly retrySize: number;
  readonly deadSize: number;
  readonly processesSize: number;
  readonly defaultOldest: PageMember | null;
}

/** Sidekiq::Stats and Stats::History: the `stat:*` counters. */
export class StatsStore extends BaseStore {
  /** Stats.new fast part, one pipeline. */
  snapshot(): Promise<StatsSnapshot> {
    return this.run(async () => {
      const pipe = this.redis
        .pipeline()
        .get(this.keys.stat('processed'))
        .get(this.keys.stat('failed'))
        .zcard(this.keys.set(SidekiqSetName.Scheduled))
        .zcard(this.keys.set(SidekiqSetName.Retry))
        .zcard(this.keys.set(SidekiqSetName.Dead))
        .scard(this.keys.processes);
      this.clipped(pipe, this.keys.queue('default'), 'index', -1);
      const r = await this.exec(pipe);
      return {
        processed: toNumber(r[0]),
        failed: toNumber(r[1]),
        scheduledSize: toNumber(r[2]),
        retrySize: toNumber(r[3]),
        deadSize: toNumber(r[4]),
        processesSize: toNumber(r[5]),
        defaultOldest: toMember(r[6]),
      };
    });
  }

  /** Stats#reset: MSET the named lifetime counters to 0 (daily keys untouched). */
  reset(counters: readonly StatCounter[]): Promise<void> {
    return this.write(async (w) => {
      const args = counters.flatMap((c) => [this.keys.stat(c), '0']);
      await w.mset(...args);
    });
  }

  /** Stats::History: MGET stat:<counter>:<date> for each date. */
  daily(counter: StatCounter, dates: readonly string[]): Promise<number[]> {
    return this.run(async () => {
      if (dates.length === 0) {
        return [];
      }
      const values = await this.redis.mget(...dates.map((d) => this.keys.stat(counter, d)));
      return values.map(toNumber);
    });
  }
}
