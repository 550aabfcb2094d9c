import { hasJid, type PageMember } from '../payload/job-record.js';
import { BaseStore, type ClippedReply, toMember, toNumber } from './base.store.js';

export interface QueueSnapshot {
  readonly name: string;
  readonly size: number;
  /** The oldest entry (index −1), for latency; null when empty. */
  readonly oldest: PageMember | null;
}

export interface QueuePage {
  /** false for a queue neither named in `queues` nor holding jobs */
  readonly known: boolean;
  readonly size: number;
  readonly entries: PageMember[];
  readonly oldest: PageMember | null;
}

const LIST_CHUNK = 1000;

/** Sidekiq::Queue: the `queues` SET and the `queue:<name>` LISTs (index 0 = newest). */
export class QueueStore extends BaseStore {
  /** Queue.all: SSCAN `queues`, names sorted. */
  names(): Promise<string[]> {
    return this.run(async () => (await this.sscanAll(this.keys.queues)).sort());
  }

  /** One pipeline: LLEN + LINDEX −1 per queue (Stats#queue_summaries shape). */
  async snapshots(names: readonly string[]): Promise<QueueSnapshot[]> {
    const replies = await this.pipelined(names, (pipe, name) => {
      pipe.llen(this.keys.queue(name));
      this.clipped(pipe, this.keys.queue(name), 'index', -1);
    });
    return names.map((name, i) => ({
      name,
      size: toNumber(replies[i * 2]),
      oldest: toMember(replies[i * 2 + 1]),
    }));
  }

  /** Stats#queues / enqueued: pipelined LLEN per queue. */
  async sizes(names: readonly string[]): Promise<number[]> {
    const replies = await this.pipelined(names, (pipe, name) => pipe.llen(this.keys.queue(name)));
    return replies.map(toNumber);
  }

  /** Whether a queue is known: named in `queues` or holding jobs. */
  known(name: string): Promise<boolean> {
    return this.run(async () => {
      const [member, length] = await this.exec(
        this.redis.pipeline().sismember(this.keys.queues, name).llen(this.keys.queue(name)),
      );
      return toNumber(member) === 1 || toNumber(length) > 0;
    });
  }

  /** Web paging: MULTI SISMEMBER queues, LLEN, LRANGE start stop (members clipped), LINDEX −1. */
  page(name: string, start: number, stop: number): Promise<QueuePage> {
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
  find(name: string, jid: string, firstOnly = true): Promise<string[]> {
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

  /**
   * `count` entries from the oldest end, skipping the `skip` oldest; oldest first. Workers pop
   * from that end meanwhile, so successive reads may miss entries that moved (a bounded look, not
   * a snapshot).
   */
  oldestFirst(name: string, skip: number, count: number): Promise<string[]> {
    return this.run(async () =>
      (await this.redis.lrange(this.keys.queue(name), -(skip + count), -(skip + 1))).reverse(),
    );
  }

  /** JobRecord#delete: LREM 1 with the exact raw JSON. */
  remove(name: string, raw: string): Promise<number> {
    return this.write((w) => w.lrem(this.keys.queue(name), 1, raw));
  }

  /** Queue#clear: MULTI UNLINK queue:<name>, SREM queues <name>. Returns the size before. */
  clear(name: string): Promise<number> {
    return this.write(async (w) => {
      const key = this.keys.queue(name);
      const [size] = await this.exec(w.multi().llen(key).unlink(key).srem(this.keys.queues, name));
      return toNumber(size);
    });
  }

  /** Client push of ready payloads: MULTI SADD queues + LPUSH queue:<q> (one LPUSH per queue). */
  push(queue: string, payloads: readonly string[]): Promise<number> {
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
}
