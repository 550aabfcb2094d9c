import type { ChainableCommander, Redis } from 'ioredis';
import { DomainError } from '../../common/errors/domain-error.js';
import {
  isCommandTimeout,
  RedisNotReadyError,
  type SidekiqConnection,
  wasNotSent,
  whenReady,
} from '../../redis/redis.module.js';
import type { SidekiqKeys } from '../sidekiq-keys.js';
import type { PageMember } from '../payload/job-record.js';
import { CLIPPED_READ_LUA } from './scripts.js';

/** A sorted-set member exactly as stored, with its score. */
export interface RawEntry {
  readonly raw: string;
  readonly score: number;
}

export type ClippedReadMode = 'list' | 'zrange' | 'zrevrange' | 'index';

export const SCAN_COUNT = 1000;

/** A page member over this many bytes is read as its size, head and tail (PageMember). */
export const MAX_PAGE_MEMBER_BYTES = 64 * 1024;
const CLIP_BYTES = 2048;

export type ClippedReply = string | [string, string, string];

export function toMember(reply: unknown): PageMember | null {
  if (reply === null || reply === undefined) {
    return null;
  }
  if (Array.isArray(reply)) {
    const [bytes, head, tail] = reply as [string, string, string];
    return { bytes: Number(bytes), head, tail };
  }
  return reply as string;
}

export function toNumber(value: unknown): number {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
}

/** Pairs a flat [member, score, member, score, …] reply. */
export function pairs(reply: string[]): RawEntry[] {
  const out: RawEntry[] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) {
    out.push({ raw: reply[i]!, score: Number(reply[i + 1]) });
  }
  return out;
}

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
  // the connection's state of the moment (reconnecting, a failed attempt, a timeout) goes in the
  // details: two requests of one outage get the same message
  const reason = `Sidekiq's Redis "${instance}" is unreachable`;
  const cause = (error as Error)?.message ?? String(error);
  if (!write) {
    return new DomainError('SIDEKIQ_UNREACHABLE', reason, { instance, cause });
  }
  return wasNotSent(error)
    ? new DomainError('SIDEKIQ_UNREACHABLE', `${reason}; nothing was changed`, { instance, cause })
    : new DomainError(
        'SIDEKIQ_UNREACHABLE',
        `${reason}; the change was sent but not confirmed, check before retrying`,
        { instance, cause, outcome: 'unknown' },
      );
}

/**
 * What every store of one Sidekiq instance shares: its two connections and the rules for using
 * them. The stores are the only code that talks to Sidekiq's Redis (STYLE.md §5); pipelines and
 * SCAN only, never KEYS, never a whole list or set in one read.
 *
 * Reads (`run`) give up after SIDEKIQ_REDIS_TIMEOUT_MS: safe, they change nothing. Each change
 * (`write`) is one command, MULTI or script, so Redis applies it whole or not at all; it goes out
 * only on a live connection (else 503 at once, nothing sent) and, once sent, is awaited for its
 * answer rather than abandoned on a short timeout — an operation of several steps never goes on
 * to its next step, nor undoes a step, believing a change failed that Redis applied.
 */
export abstract class BaseStore {
  protected readonly redis: Redis;
  private readonly writer: Redis;

  constructor(
    private readonly connection: SidekiqConnection,
    protected readonly keys: SidekiqKeys,
  ) {
    this.redis = connection.redis;
    this.writer = connection.writer;
  }

  protected async run<T>(work: () => Promise<T>): Promise<T> {
    try {
      await whenReady(this.redis, this.connection.timeoutMs);
      return await work();
    } catch (error) {
      if (isCommandTimeout(error)) {
        // Redis stopped answering without closing the connection: drop it, so that the reads
        // that follow fail at once (503) until a reconnect succeeds, instead of each timing out
        this.redis.disconnect(true);
      }
      throw toDomainError(error, this.connection.instance.name);
    }
  }

  protected async write<T>(work: (writer: Redis) => Promise<T>): Promise<T> {
    try {
      if (this.redis.status !== 'ready' && !(await this.readerReconnects())) {
        throw new RedisNotReadyError(`not connected (${this.redis.status})`);
      }
      await whenReady(this.writer, this.connection.timeoutMs);
      return await work(this.writer);
    } catch (error) {
      throw toDomainError(error, this.connection.instance.name, true);
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
  protected async exec(pipe: ChainableCommander): Promise<unknown[]> {
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

  /** A read of the same commands per item in one pipeline: the replies in order, none for no items. */
  protected pipelined(
    items: readonly string[],
    add: (pipe: ChainableCommander, item: string) => void,
  ): Promise<unknown[]> {
    return this.run(async () => {
      if (items.length === 0) {
        return [];
      }
      const pipe = this.redis.pipeline();
      for (const item of items) {
        add(pipe, item);
      }
      return this.exec(pipe);
    });
  }

  protected async sscanAll(key: string): Promise<string[]> {
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

  /** Queues CLIPPED_READ_LUA on a pipeline or MULTI. */
  protected clipped(
    pipe: ChainableCommander,
    key: string,
    mode: ClippedReadMode,
    start: number,
    stop = 0,
  ): void {
    pipe.eval(CLIPPED_READ_LUA, 1, key, mode, start, stop, MAX_PAGE_MEMBER_BYTES, CLIP_BYTES);
  }
}
