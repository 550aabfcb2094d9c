import { hasJid, jidOf, mayHaveJid, type PageMember } from '../payload/job-record.js';
import { SidekiqSetName } from '../sidekiq-keys.js';
import {
  BaseStore,
  type ClippedReply,
  pairs,
  type RawEntry,
  SCAN_COUNT,
  toMember,
  toNumber,
} from './base.store.js';
import { KILL_LUA, MOVE_TO_QUEUE_LUA } from './scripts.js';

/** A sorted-set entry read for a page: its member may be clipped (PageMember). */
export interface PageEntry {
  readonly member: PageMember;
  readonly score: number;
}

export interface ScanResult {
  readonly entries: RawEntry[];
  /** true when the scan stopped at the limit before the end of the set */
  readonly truncated: boolean;
}

export interface MoveToQueue {
  readonly raw: string;
  readonly queue: string;
  readonly payload: string;
}

export interface Death {
  readonly raw: string;
  /** epoch seconds */
  readonly diedAt: number;
}

/** Sidekiq::SortedSet / JobSet / DeadSet: the `schedule`, `retry` and `dead` ZSETs. */
export class SortedSetStore extends BaseStore {
  size(set: SidekiqSetName): Promise<number> {
    return this.run(() => this.redis.zcard(this.keys.set(set)));
  }

  /** Web paging: MULTI ZCARD, ZRANGE/ZREVRANGE start stop WITHSCORES (members clipped). */
  page(
    set: SidekiqSetName,
    start: number,
    stop: number,
    descending: boolean,
  ): Promise<{ size: number; entries: PageEntry[] }> {
    return this.run(async () => {
      const key = this.keys.set(set);
      const multi = this.redis.multi().zcard(key);
      this.clipped(multi, key, descending ? 'zrevrange' : 'zrange', start, stop);
      const [size, flat] = await this.exec(multi);
      const reply = flat as ClippedReply[];
      const entries: PageEntry[] = [];
      for (let i = 0; i + 1 < reply.length; i += 2) {
        entries.push({ member: toMember(reply[i])!, score: Number(reply[i + 1]) });
      }
      return { size: toNumber(size), entries };
    });
  }

  /**
   * JobSet#scan: ZSCAN MATCH pattern COUNT, up to `limit` entries accepted by `accept`
   * (all matches by default). Stops early once the limit is reached.
   */
  scan(
    set: SidekiqSetName,
    pattern: string,
    limit: number,
    accept: (entry: RawEntry) => boolean = () => true,
  ): Promise<ScanResult> {
    return this.run(async () => {
      const key = this.keys.set(set);
      const seen = new Map<string, RawEntry>();
      let cursor = '0';
      do {
        const [next, flat] = await this.redis.zscan(
          key,
          cursor,
          'MATCH',
          pattern,
          'COUNT',
          SCAN_COUNT,
        );
        cursor = next;
        for (const entry of pairs(flat)) {
          if (!accept(entry)) {
            continue;
          }
          seen.set(entry.raw, entry);
          if (seen.size >= limit) {
            return { entries: [...seen.values()], truncated: cursor !== '0' };
          }
        }
      } while (cursor !== '0');
      return { entries: [...seen.values()], truncated: false };
    });
  }

  /**
   * JobSet#find_job: ZSCAN MATCH *jid*, exact jid comparison, stopping at the first match as
   * Sidekiq does (or at the first one with `score`, when given).
   */
  async find(set: SidekiqSetName, jid: string, score?: number): Promise<RawEntry | null> {
    const { entries } = await this.scan(
      set,
      `*${jid}*`,
      1,
      (e) =>
        (score === undefined || e.score === score) && mayHaveJid(e.raw, jid) && hasJid(e.raw, jid),
    );
    return entries[0] ?? null;
  }

  /**
   * One ZSCAN pass looking for several jids at once, reading at most about `budget` members:
   * the score of each jid found, and whether the pass stopped before the end of the set.
   */
  findJids(
    set: SidekiqSetName,
    jids: ReadonlySet<string>,
    budget: number,
  ): Promise<{ found: Map<string, number>; truncated: boolean }> {
    return this.run(async () => {
      const found = new Map<string, number>();
      let cursor = '0';
      let read = 0;
      do {
        const [next, flat] = await this.redis.zscan(
          this.keys.set(set),
          cursor,
          'COUNT',
          SCAN_COUNT,
        );
        cursor = next;
        for (const entry of pairs(flat)) {
          read++;
          const jid = jidOf(entry.raw);
          if (jid !== null && jids.has(jid)) {
            found.set(jid, entry.score);
          }
        }
        if (found.size === jids.size) {
          return { found, truncated: false };
        }
      } while (cursor !== '0' && read < budget);
      return { found, truncated: cursor !== '0' };
    });
  }

  /** ZRANGE start stop WITHSCORES (lowest score first; negative indices count from the highest). */
  range(set: SidekiqSetName, start: number, stop: number): Promise<RawEntry[]> {
    return this.run(async () =>
      pairs(await this.redis.zrange(this.keys.set(set), String(start), String(stop), 'WITHSCORES')),
    );
  }

  /** The lowest-scored `count` entries (for retry-all / kill-all batches). */
  lowest(set: SidekiqSetName, count: number): Promise<RawEntry[]> {
    return this.range(set, 0, count - 1);
  }

  /** SortedEntry#delete: ZREM the exact member. */
  remove(set: SidekiqSetName, raw: string): Promise<number> {
    return this.write((w) => w.zrem(this.keys.set(set), raw));
  }

  /** ZADD NX: puts an exact member back (an undone removal); an existing member is left as is. */
  add(set: SidekiqSetName, score: number, raw: string): Promise<number> {
    return this.write(async (w) => Number(await w.zadd(this.keys.set(set), 'NX', score, raw)));
  }

  /** Retry now / add to queue for exact members, atomically per call (see MOVE_TO_QUEUE_LUA). */
  moveToQueue(set: SidekiqSetName, moves: readonly MoveToQueue[]): Promise<number> {
    return this.write(async (w) => {
      if (moves.length === 0) {
        return 0;
      }
      const queueKeys: string[] = [];
      const args: (string | number)[] = [moves.length];
      for (const move of moves) {
        const key = this.keys.queue(move.queue);
        let index = queueKeys.indexOf(key);
        if (index < 0) {
          index = queueKeys.push(key) - 1;
        }
        args.push(move.raw, move.queue, move.payload, index + 1);
      }
      const keys = [this.keys.set(set), this.keys.queues, ...queueKeys];
      return toNumber(await w.eval(MOVE_TO_QUEUE_LUA, keys.length, ...keys, ...args));
    });
  }

  /**
   * SortedEntry#kill / DeadSet#kill for exact members, in order: raw member unchanged, score =
   * its time of death, then the trims against the latest one (see KILL_LUA).
   */
  kill(
    set: SidekiqSetName,
    deaths: readonly Death[],
    limits: { maxJobs: number; timeoutSeconds: number },
  ): Promise<number> {
    return this.write(async (w) => {
      if (deaths.length === 0) {
        return 0;
      }
      const dead = this.keys.set(SidekiqSetName.Dead);
      const latest = Math.max(...deaths.map((d) => d.diedAt));
      return toNumber(
        await w.eval(
          KILL_LUA,
          2,
          this.keys.set(set),
          dead,
          String(latest - limits.timeoutSeconds),
          limits.maxJobs,
          ...deaths.flatMap((d) => [String(d.diedAt), d.raw]),
        ),
      );
    });
  }

  /** Delete all: UNLINK the set. Returns the size before. */
  clear(set: SidekiqSetName): Promise<number> {
    return this.write(async (w) => {
      const key = this.keys.set(set);
      const [size] = await this.exec(w.multi().zcard(key).unlink(key));
      return toNumber(size);
    });
  }
}
