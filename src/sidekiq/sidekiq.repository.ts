import { Injectable } from '@nestjs/common';
import type { ChainableCommander, Redis } from 'ioredis';
import { DomainError } from '../common/errors/domain-error.js';
import type { SidekiqInstanceConfig } from '../config/app-config.js';
import {
  isCommandTimeout,
  RedisNotReadyError,
  RedisRegistry,
  type SidekiqConnection,
  wasNotSent,
  whenReady,
} from '../redis/redis.module.js';
import {
  SidekiqKeys,
  SidekiqSetName,
  type SidekiqSignal,
  type StatCounter,
} from './sidekiq-keys.js';
import { hasJid, mayHaveJid, type PageMember } from './sidekiq-payload.js';

/** A sorted-set member exactly as stored, with its score. */
export interface RawEntry {
  readonly raw: string;
  readonly score: number;
}

/** A sorted-set entry read for a page: its member may be clipped (PageMember). */
export interface PageEntry {
  readonly member: PageMember;
  readonly score: number;
}

export interface QueueSnapshot {
  readonly name: string;
  readonly size: number;
  /** The oldest entry (index −1), for latency; null when empty. */
  readonly oldest: PageMember | null;
}

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

export interface StatsSnapshot {
  readonly processed: number;
  readonly failed: number;
  readonly scheduledSize: number;
  readonly retrySize: number;
  readonly deadSize: number;
  readonly processesSize: number;
  readonly defaultOldest: PageMember | null;
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

const LIST_CHUNK = 1000;
const SCAN_COUNT = 1000;

/** A page member over this many bytes is read as its size, head and tail (PageMember). */
export const MAX_PAGE_MEMBER_BYTES = 64 * 1024;
const CLIP_BYTES = 2048;

// LRANGE, ZRANGE or ZREVRANGE WITHSCORES, or LINDEX, with every member over ARGV[4] bytes replaced
// by {size, first and last ARGV[5] bytes}: a page holds at most per_page × the limit whatever
// Sidekiq stores, and Redis does no more than cut strings. KEYS: the list or set; ARGV: mode
// (list | zrange | zrevrange | index), start (or index), stop, limit, clip.
const CLIPPED_READ_LUA = `
local mode, limit, clip = ARGV[1], tonumber(ARGV[4]), tonumber(ARGV[5])
local function cut(v)
  if v and #v > limit then
    return { tostring(#v), string.sub(v, 1, clip), string.sub(v, -clip) }
  end
  return v
end
if mode == 'index' then
  return cut(redis.call('LINDEX', KEYS[1], ARGV[2]))
end
local items, step
if mode == 'list' then
  items, step = redis.call('LRANGE', KEYS[1], ARGV[2], ARGV[3]), 1
elseif mode == 'zrevrange' then
  items, step = redis.call('ZREVRANGE', KEYS[1], ARGV[2], ARGV[3], 'WITHSCORES'), 2
else
  items, step = redis.call('ZRANGE', KEYS[1], ARGV[2], ARGV[3], 'WITHSCORES'), 2
end
for i = 1, #items, step do
  items[i] = cut(items[i])
end
return items
`;

type ClippedReply = string | [string, string, string];

function toMember(reply: unknown): PageMember | null {
  if (reply === null || reply === undefined) {
    return null;
  }
  if (Array.isArray(reply)) {
    const [bytes, head, tail] = reply as [string, string, string];
    return { bytes: Number(bytes), head, tail };
  }
  return reply as string;
}

// Take exact members out of a sorted set and push their new payloads to their queues, atomically per
// call. Same end state as Sidekiq's remove_job + Client.push (model §12 rule 4), without the window in
// which same-score siblings are missing. KEYS: set, queues, queue:<q>…; ARGV: n, then per move
// raw, queue name, payload, index of its queue key (1-based among KEYS[3..]).
const MOVE_TO_QUEUE_LUA = `
local moved = 0
local n = tonumber(ARGV[1])
for i = 0, n - 1 do
  local raw, name, payload, qk = ARGV[2 + i * 4], ARGV[3 + i * 4], ARGV[4 + i * 4], tonumber(ARGV[5 + i * 4])
  if redis.call('ZREM', KEYS[1], raw) == 1 then
    redis.call('SADD', KEYS[2], name)
    redis.call('LPUSH', KEYS[2 + qk], payload)
    moved = moved + 1
  end
end
return moved`;

// Move exact members into the dead set, each with its time of death as score, then trim as
// DeadSet#kill does (ZREMRANGEBYSCORE -inf now−timeout, ZREMRANGEBYRANK 0 −max).
// KEYS: set, dead; ARGV: cutoff, max, then score and raw per member.
const KILL_LUA = `
local killed = 0
for i = 3, #ARGV, 2 do
  local raw = ARGV[i + 1]
  local present = 1
  if KEYS[1] ~= KEYS[2] then present = redis.call('ZREM', KEYS[1], raw) end
  if present == 1 then
    redis.call('ZADD', KEYS[2], ARGV[i], raw)
    killed = killed + 1
  end
end
if killed > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -tonumber(ARGV[2]))
end
return killed`;

function isReplyError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError';
}

/**
 * Maps ioredis failures: connection trouble → 503 SIDEKIQ_UNREACHABLE, a Redis error reply → 502.
 * For a write, the 503 says whether the change was never sent (nothing changed) or was sent and
 * not answered (`details.outcome: "unknown"`: Redis may have applied it).
 */
export function toDomainError(error: unknown, instance: string, write = false): unknown {
  if (error instanceof DomainError) {
    return error;
  }
  if (isReplyError(error)) {
    return new DomainError(
      'SIDEKIQ_REDIS_ERROR',
      `Sidekiq's Redis "${instance}" answered with an error`,
      {
        instance,
        reply: (error as Error).message,
      },
    );
  }
  const reason = `Sidekiq's Redis "${instance}" is unreachable: ${(error as Error)?.message ?? String(error)}`;
  if (!write) {
    return new DomainError('SIDEKIQ_UNREACHABLE', reason, { instance });
  }
  return wasNotSent(error)
    ? new DomainError('SIDEKIQ_UNREACHABLE', `${reason}; nothing was changed`, { instance })
    : new DomainError(
        'SIDEKIQ_UNREACHABLE',
        `${reason}; the change was sent but not confirmed, check before retrying`,
        { instance, outcome: 'unknown' },
      );
}

function toNumber(value: unknown): number {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
}

/** Pairs a flat [member, score, member, score, …] reply. */
function pairs(reply: string[]): RawEntry[] {
  const out: RawEntry[] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) {
    out.push({ raw: reply[i]!, score: Number(reply[i + 1]) });
  }
  return out;
}

/**
 * All Redis commands for one Sidekiq instance. The only code that talks to Sidekiq's Redis
 * (STYLE.md §5); pipelines and SCAN only, never KEYS, never a whole list or set in one read.
 *
 * Reads (`run`) give up after SIDEKIQ_REDIS_TIMEOUT_MS: safe, they change nothing. Each change
 * (`write`) is one command, MULTI or script, so Redis applies it whole or not at all; it goes out
 * only on a live connection (else 503 at once, nothing sent) and, once sent, is awaited for its
 * answer rather than abandoned on a short timeout — an operation of several steps never goes on
 * to its next step, nor undoes a step, believing a change failed that Redis applied.
 */
export class SidekiqStore {
  readonly keys: SidekiqKeys;
  readonly instance: SidekiqInstanceConfig;
  private readonly redis: Redis;
  private readonly writer: Redis;

  constructor(private readonly connection: SidekiqConnection) {
    this.instance = connection.instance;
    this.redis = connection.redis;
    this.writer = connection.writer;
    this.keys = new SidekiqKeys(this.instance.namespace);
  }

  get name(): string {
    return this.instance.name;
  }

  private async run<T>(work: () => Promise<T>): Promise<T> {
    try {
      await whenReady(this.redis, this.connection.timeoutMs);
      return await work();
    } catch (error) {
      if (isCommandTimeout(error)) {
        // Redis stopped answering without closing the connection: drop it, so that the reads
        // that follow fail at once (503) until a reconnect succeeds, instead of each timing out
        this.redis.disconnect(true);
      }
      throw toDomainError(error, this.instance.name);
    }
  }

  private async write<T>(work: (writer: Redis) => Promise<T>): Promise<T> {
    try {
      if (this.redis.status !== 'ready' && !(await this.readerReconnects())) {
        throw new RedisNotReadyError(`not connected (${this.redis.status})`);
      }
      await whenReady(this.writer, this.connection.timeoutMs);
      return await work(this.writer);
    } catch (error) {
      throw toDomainError(error, this.instance.name, true);
    }
  }

  /** The read connection, the one that notices an outage first, is back (or comes back in time). */
  private async readerReconnects(): Promise<boolean> {
    try {
      await whenReady(this.redis, this.connection.timeoutMs);
      return true;
    } catch {
      return false;
    }
  }

  /** Executes a pipeline or MULTI and returns the replies, throwing the first error. */
  private async exec(pipe: ChainableCommander): Promise<unknown[]> {
    const replies = await pipe.exec();
    if (replies === null) {
      throw new Error('transaction aborted');
    }
    return replies.map(([error, reply]) => {
      if (error) {
        throw error;
      }
      return reply;
    });
  }

  private async sscanAll(key: string): Promise<string[]> {
    const seen = new Set<string>();
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.sscan(key, cursor, 'COUNT', SCAN_COUNT);
      cursor = next;
      for (const member of batch) {
        seen.add(member);
      }
    } while (cursor !== '0');
    return [...seen];
  }

  ping(): Promise<string> {
    return this.run(() => this.redis.ping());
  }

  // ------------------------------------------------------------------ queues

  /** Queue.all: SSCAN `queues`, names sorted. */
  queueNames(): Promise<string[]> {
    return this.run(async () => (await this.sscanAll(this.keys.queues)).sort());
  }

  /** One pipeline: LLEN + LINDEX −1 per queue (Stats#queue_summaries shape). */
  queueSnapshots(names: readonly string[]): Promise<QueueSnapshot[]> {
    return this.run(async () => {
      if (names.length === 0) {
        return [];
      }
      const pipe = this.redis.pipeline();
      for (const name of names) {
        pipe.llen(this.keys.queue(name));
        this.clipped(pipe, this.keys.queue(name), 'index', -1);
      }
      const replies = await this.exec(pipe);
      return names.map((name, i) => ({
        name,
        size: toNumber(replies[i * 2]),
        oldest: toMember(replies[i * 2 + 1]),
      }));
    });
  }

  /** Whether a queue is known: named in `queues` or holding jobs. */
  queueKnown(name: string): Promise<boolean> {
    return this.run(async () => {
      const [member, length] = await this.exec(
        this.redis.pipeline().sismember(this.keys.queues, name).llen(this.keys.queue(name)),
      );
      return toNumber(member) === 1 || toNumber(length) > 0;
    });
  }

  /**
   * Web paging: MULTI SISMEMBER queues, LLEN, LRANGE start stop (index 0 = newest), LINDEX −1.
   * `known` is false for a queue neither named in `queues` nor holding jobs.
   */
  queuePage(
    name: string,
    start: number,
    stop: number,
  ): Promise<{
    known: boolean;
    size: number;
    entries: PageMember[];
    oldest: PageMember | null;
  }> {
    return this.run(async () => {
      const key = this.keys.queue(name);
      const multi = this.redis.multi().sismember(this.keys.queues, name).llen(key);
      this.clipped(multi, key, 'list', start, stop);
      this.clipped(multi, key, 'index', -1);
      const [member, size, entries, oldest] = await this.exec(multi);
      return {
        known: toNumber(member) === 1 || toNumber(size) > 0,
        size: toNumber(size),
        entries: (entries as ClippedReply[]).map((e) => toMember(e)!),
        oldest: toMember(oldest),
      };
    });
  }

  /**
   * Queue#find_job without loading the list: LRANGE chunks from the newest end, a substring test
   * before parsing. Returns every entry whose jid matches (normally one), newest first.
   */
  findInQueue(name: string, jid: string, firstOnly = true): Promise<string[]> {
    return this.run(async () => {
      const key = this.keys.queue(name);
      const found: string[] = [];
      for (let start = 0; ; start += LIST_CHUNK) {
        const chunk = await this.redis.lrange(key, start, start + LIST_CHUNK - 1);
        for (const raw of chunk) {
          if (hasJid(raw, jid)) {
            found.push(raw);
            if (firstOnly) {
              return found;
            }
          }
        }
        if (chunk.length < LIST_CHUNK) {
          return found;
        }
      }
    });
  }

  /** JobRecord#delete: LREM 1 with the exact raw JSON. */
  removeFromQueue(name: string, raw: string): Promise<number> {
    return this.write((w) => w.lrem(this.keys.queue(name), 1, raw));
  }

  /** Queue#clear: MULTI UNLINK queue:<name>, SREM queues <name>. Returns the size before. */
  clearQueue(name: string): Promise<number> {
    return this.write(async (w) => {
      const key = this.keys.queue(name);
      const [size] = await this.exec(w.multi().llen(key).unlink(key).srem(this.keys.queues, name));
      return toNumber(size);
    });
  }

  /** Client push of ready payloads: MULTI SADD queues + LPUSH queue:<q> (one LPUSH per queue). */
  pushToQueue(queue: string, payloads: readonly string[]): Promise<number> {
    return this.write(async (w) => {
      const [, length] = await this.exec(
        w
          .multi()
          .sadd(this.keys.queues, queue)
          .lpush(this.keys.queue(queue), ...payloads),
      );
      return toNumber(length);
    });
  }

  // ------------------------------------------------------------------ sorted sets

  setSize(set: SidekiqSetName): Promise<number> {
    return this.run(() => this.redis.zcard(this.keys.set(set)));
  }

  /** Web paging: MULTI ZCARD, ZRANGE/ZREVRANGE start stop WITHSCORES (members clipped). */
  setPage(
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

  /** Queues CLIPPED_READ_LUA on a pipeline or MULTI. */
  private clipped(
    pipe: ChainableCommander,
    key: string,
    mode: 'list' | 'zrange' | 'zrevrange' | 'index',
    start: number,
    stop = 0,
  ): void {
    pipe.eval(CLIPPED_READ_LUA, 1, key, mode, start, stop, MAX_PAGE_MEMBER_BYTES, CLIP_BYTES);
  }

  /**
   * JobSet#scan: ZSCAN MATCH pattern COUNT, up to `limit` entries accepted by `accept`
   * (all matches by default). Stops early once the limit is reached.
   */
  scanSet(
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
  async findInSet(set: SidekiqSetName, jid: string, score?: number): Promise<RawEntry | null> {
    const { entries } = await this.scanSet(
      set,
      `*${jid}*`,
      1,
      (e) =>
        (score === undefined || e.score === score) && mayHaveJid(e.raw, jid) && hasJid(e.raw, jid),
    );
    return entries[0] ?? null;
  }

  /** Stats#queues / enqueued: pipelined LLEN per queue. */
  queueSizes(names: readonly string[]): Promise<number[]> {
    return this.run(async () => {
      if (names.length === 0) {
        return [];
      }
      const pipe = this.redis.pipeline();
      for (const name of names) {
        pipe.llen(this.keys.queue(name));
      }
      return (await this.exec(pipe)).map(toNumber);
    });
  }

  /** SortedEntry#delete: ZREM the exact member. */
  removeFromSet(set: SidekiqSetName, raw: string): Promise<number> {
    return this.write((w) => w.zrem(this.keys.set(set), raw));
  }

  /** ZADD NX: puts an exact member back (an undone removal); an existing member is left as is. */
  addToSet(set: SidekiqSetName, score: number, raw: string): Promise<number> {
    return this.write(async (w) => Number(await w.zadd(this.keys.set(set), 'NX', score, raw)));
  }

  /** ZRANGE start stop WITHSCORES (lowest score first; negative indices count from the highest). */
  setRange(set: SidekiqSetName, start: number, stop: number): Promise<RawEntry[]> {
    return this.run(async () =>
      pairs(await this.redis.zrange(this.keys.set(set), String(start), String(stop), 'WITHSCORES')),
    );
  }

  /** The lowest-scored `count` entries (for retry-all / kill-all batches). */
  lowestEntries(set: SidekiqSetName, count: number): Promise<RawEntry[]> {
    return this.run(async () =>
      pairs(await this.redis.zrange(this.keys.set(set), '0', String(count - 1), 'WITHSCORES')),
    );
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
   * its time of death (`diedAt`, epoch seconds), then the trims against the latest one.
   */
  kill(
    set: SidekiqSetName,
    deaths: readonly { readonly raw: string; readonly diedAt: number }[],
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
  clearSet(set: SidekiqSetName): Promise<number> {
    return this.write(async (w) => {
      const key = this.keys.set(set);
      const [size] = await this.exec(w.multi().zcard(key).unlink(key));
      return toNumber(size);
    });
  }

  // ------------------------------------------------------------------ processes and work

  processIdentities(): Promise<string[]> {
    return this.run(async () => (await this.sscanAll(this.keys.processes)).sort());
  }

  /** ProcessSet#each: pipelined HMGET per identity (8.1.2+ field `concurrency` included). */
  processHashes(identities: readonly string[]): Promise<ProcessHash[]> {
    return this.run(async () => {
      if (identities.length === 0) {
        return [];
      }
      const pipe = this.redis.pipeline();
      for (const id of identities) {
        pipe.hmget(
          this.keys.process(id),
          'info',
          'busy',
          'beat',
          'quiet',
          'rss',
          'rtt_us',
          'concurrency',
        );
      }
      const replies = (await this.exec(pipe)) as (string | null)[][];
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
    });
  }

  /**
   * ProcessSet#cleanup: SREM the identities whose hash has no `info` (no heartbeat for 60 s).
   * Throttled as 6.5.2+ does (`SET process_cleanup 1 NX EX 60`) unless `force`. Returns the count pruned.
   */
  async pruneProcesses(force: boolean): Promise<number> {
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
  processAlive(identity: string): Promise<boolean> {
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
  processWork(identities: readonly string[]): Promise<ProcessWork[]> {
    return this.run(async () => {
      if (identities.length === 0) {
        return [];
      }
      const pipe = this.redis.pipeline();
      for (const id of identities) {
        pipe.exists(this.keys.process(id));
        pipe.hgetall(this.keys.work(id));
        pipe.hgetall(this.keys.legacyWork(id));
      }
      const replies = await this.exec(pipe);
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
    });
  }

  /** Pipelined HGET <id> busy. */
  busyCounts(identities: readonly string[]): Promise<number[]> {
    return this.run(async () => {
      if (identities.length === 0) {
        return [];
      }
      const pipe = this.redis.pipeline();
      for (const id of identities) {
        pipe.hget(this.keys.process(id), 'busy');
      }
      return (await this.exec(pipe)).map(toNumber);
    });
  }

  // ------------------------------------------------------------------ stats

  /** Stats.new fast part, one pipeline. */
  stats(): Promise<StatsSnapshot> {
    return this.run(async () => {
      const r = await this.exec(
        this.redis
          .pipeline()
          .get(this.keys.stat('processed'))
          .get(this.keys.stat('failed'))
          .zcard(this.keys.set(SidekiqSetName.Scheduled))
          .zcard(this.keys.set(SidekiqSetName.Retry))
          .zcard(this.keys.set(SidekiqSetName.Dead))
          .scard(this.keys.processes)
          .eval(
            CLIPPED_READ_LUA,
            1,
            this.keys.queue('default'),
            'index',
            -1,
            0,
            MAX_PAGE_MEMBER_BYTES,
            CLIP_BYTES,
          ),
      );
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
  resetStats(counters: readonly StatCounter[]): Promise<void> {
    return this.write(async (w) => {
      const args = counters.flatMap((c) => [this.keys.stat(c), '0']);
      await w.mset(...args);
    });
  }

  /** Stats::History: MGET stat:<counter>:<date> for each date. */
  dailyCounters(counter: StatCounter, dates: readonly string[]): Promise<number[]> {
    return this.run(async () => {
      if (dates.length === 0) {
        return [];
      }
      const values = await this.redis.mget(...dates.map((d) => this.keys.stat(counter, d)));
      return values.map(toNumber);
    });
  }
}

/** Hands out a SidekiqStore per configured instance (404 INSTANCE_NOT_FOUND for an unknown one). */
@Injectable()
export class SidekiqRepository {
  constructor(private readonly registry: RedisRegistry) {}

  store(instance?: string): SidekiqStore {
    return new SidekiqStore(this.registry.connection(instance));
  }

  instanceNames(): string[] {
    return this.registry.instanceNames;
  }
}
