import type { SidekiqSignal } from '../sidekiq-keys.js';
import { BaseStore, toNumber } from './base.store.js';

export interface ProcessHash {
  readonly identity: string;
  readonly info: string | null;
  readonly busy: string | null;
  readonly beat: string | null;
  readonly quiet: string | null;
  readonly rss: string | null;
  readonly rttUs: string | null;
  readonly concurrency: string | null;
}

export interface ProcessWork {
  readonly identity: string;
  /** thread id → work JSON (from `<id>:work`, 6.4.2+, or `<id>:workers`, ≤ 6.4.1) */
  readonly work: Record<string, string>;
}

/** Sidekiq::ProcessSet, Process and WorkSet: `processes`, the `<identity>` hashes and their work. */
export class ProcessStore extends BaseStore {
  identities(): Promise<string[]> {
    return this.run(async () => (await this.sscanAll(this.keys.processes)).sort());
  }

  /** ProcessSet#each: pipelined HMGET per identity (8.1.2+ field `concurrency` included). */
  async hashes(identities: readonly string[]): Promise<ProcessHash[]> {
    const fields = ['info', 'busy', 'beat', 'quiet', 'rss', 'rtt_us', 'concurrency'] as const;
    const replies = (await this.pipelined(identities, (pipe, id) =>
      pipe.hmget(this.keys.process(id), ...fields),
    )) as (string | null)[][];
    return identities.map((identity, i) => {
      const [info, busy, beat, quiet, rss, rttUs, concurrency] = replies[i] ?? [];
      return {
        identity,
        info: info ?? null,
        busy: busy ?? null,
        beat: beat ?? null,
        quiet: quiet ?? null,
        rss: rss ?? null,
        rttUs: rttUs ?? null,
        concurrency: concurrency ?? null,
      };
    });
  }

  /**
   * ProcessSet#cleanup: SREM the identities whose hash has no `info` (no heartbeat for 60 s).
   * Throttled as 6.5.2+ does (`SET process_cleanup 1 NX EX 60`) unless `force`. Returns the count pruned.
   */
  async prune(force: boolean): Promise<number> {
    // the throttle lock and the reads go over the read connection: should Redis run the SET after
    // a timeout, it only postpones the next cleanup
    const stale = await this.run(async () => {
      if (!force) {
        const locked = await this.redis.set(this.keys.processCleanupLock, '1', 'EX', 60, 'NX');
        if (locked !== 'OK') {
          return [];
        }
      }
      const identities = await this.sscanAll(this.keys.processes);
      if (identities.length === 0) {
        return [];
      }
      const pipe = this.redis.pipeline();
      for (const id of identities) {
        pipe.hget(this.keys.process(id), 'info');
      }
      const infos = await this.exec(pipe);
      return identities.filter((_, i) => infos[i] === null);
    });
    if (stale.length === 0) {
      return 0;
    }
    return this.write((w) => w.srem(this.keys.processes, ...stale));
  }

  /** ProcessSet[identity]: alive when in `processes` and its hash still has `info`. */
  alive(identity: string): Promise<boolean> {
    return this.run(async () => {
      // SISMEMBER before HGET: a name that is not a process may be another kind of key
      if (toNumber(await this.redis.sismember(this.keys.processes, identity)) !== 1) {
        return false;
      }
      return (await this.redis.hget(this.keys.process(identity), 'info')) !== null;
    });
  }

  /** Process#quiet! / stop!: MULTI LPUSH <id>-signals SIG, EXPIRE 60. */
  signal(identity: string, signal: SidekiqSignal): Promise<void> {
    return this.write(async (w) => {
      const key = this.keys.signals(identity);
      await this.exec(w.multi().lpush(key, signal).expire(key, 60));
    });
  }

  /** WorkSet#each: per identity EXISTS <id> + HGETALL of both work-key spellings, one pipeline. */
  async work(identities: readonly string[]): Promise<ProcessWork[]> {
    const replies = await this.pipelined(identities, (pipe, id) => {
      pipe.exists(this.keys.process(id));
      pipe.hgetall(this.keys.work(id));
      pipe.hgetall(this.keys.legacyWork(id));
    });
    const out: ProcessWork[] = [];
    identities.forEach((identity, i) => {
      if (toNumber(replies[i * 3]) === 0) {
        return;
      }
      const work = {
        ...(replies[i * 3 + 2] as Record<string, string>),
        ...(replies[i * 3 + 1] as Record<string, string>),
      };
      out.push({ identity, work });
    });
    return out;
  }

  /** Pipelined HGET <id> busy. */
  async busyCounts(identities: readonly string[]): Promise<number[]> {
    const replies = await this.pipelined(identities, (pipe, id) =>
      pipe.hget(this.keys.process(id), 'busy'),
    );
    return replies.map(toNumber);
  }
}
