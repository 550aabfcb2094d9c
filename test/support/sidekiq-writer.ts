import { Redis } from 'ioredis';
import { makeSidekiqJob, type SidekiqJobSpec } from '../factories/sidekiq-job.factory.js';

/** Which Sidekiq the writer imitates: 6.x/7.x float seconds or 8.x integer milliseconds. */
export type WriterFlavor = 'v6' | 'v8';

function ts(ms: number, flavor: WriterFlavor): string {
  if (flavor === 'v8') {
    return String(Math.floor(ms));
  }
  const text = String(ms / 1000);
  return text.includes('.') ? text : `${text}.0`;
}

/**
 * Writes Redis data shaped exactly like Sidekiq's own writes (client push, scheduler, retry and
 * death, heartbeat, stats flush), for tests. Key names here mirror Sidekiq's, spelled out on
 * purpose: the writer is the independent reference the repository is tested against.
 */
export class SidekiqWriter {
  readonly prefix: string;

  constructor(
    readonly redis: Redis,
    readonly flavor: WriterFlavor = 'v6',
    namespace: string | null = null,
  ) {
    this.prefix = namespace ? `${namespace}:` : '';
  }

  static connect(
    url: string,
    flavor: WriterFlavor = 'v6',
    namespace: string | null = null,
  ): SidekiqWriter {
    return new SidekiqWriter(new Redis(url, { maxRetriesPerRequest: 1 }), flavor, namespace);
  }

  k(key: string): string {
    return this.prefix + key;
  }

  /** Payload text in Sidekiq's key order: retry, queue, class options, class, args, jid, created_at[, enqueued_at][, error fields]. */
  payload(
    spec: SidekiqJobSpec,
    opts: { enqueuedAtMs?: number | null; error?: ErrorFields } = {},
  ): string {
    const parts: string[] = [
      `"retry":${JSON.stringify(spec.retry)}`,
      `"queue":${JSON.stringify(spec.queue)}`,
      ...Object.entries(spec.extra).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`),
      `"class":${JSON.stringify(spec.class)}`,
      `"args":${spec.argsJson}`,
      `"jid":${JSON.stringify(spec.jid)}`,
      `"created_at":${ts(spec.createdAtMs, this.flavor)}`,
    ];
    if (opts.enqueuedAtMs !== null && opts.enqueuedAtMs !== undefined) {
      parts.push(`"enqueued_at":${ts(opts.enqueuedAtMs, this.flavor)}`);
    }
    const e = opts.error;
    if (e) {
      parts.push(
        `"error_message":${JSON.stringify(e.message)}`,
        `"error_class":${JSON.stringify(e.errorClass)}`,
        `"failed_at":${ts(e.failedAtMs, this.flavor)}`,
        `"retry_count":${e.retryCount}`,
      );
      if (e.retriedAtMs !== undefined) {
        parts.push(`"retried_at":${ts(e.retriedAtMs, this.flavor)}`);
      }
    }
    return `{${parts.join(',')}}`;
  }

  /** Client push: pipelined SADD queues + LPUSH queue:<q>. Returns the payload written. */
  async push(
    overrides: Partial<SidekiqJobSpec> = {},
    enqueuedAtMs = Date.now(),
  ): Promise<{ spec: SidekiqJobSpec; raw: string }> {
    const spec = makeSidekiqJob(overrides);
    const raw = this.payload(spec, { enqueuedAtMs });
    await this.redis
      .pipeline()
      .sadd(this.k('queues'), spec.queue)
      .lpush(this.k(`queue:${spec.queue}`), raw)
      .exec();
    return { spec, raw };
  }

  /** Writes an arbitrary (possibly malformed) string into a queue. */
  async pushRaw(queue: string, raw: string): Promise<void> {
    await this.redis
      .pipeline()
      .sadd(this.k('queues'), queue)
      .lpush(this.k(`queue:${queue}`), raw)
      .exec();
  }

  /** perform_in: ZADD schedule <at> <json without enqueued_at>. */
  async schedule(
    overrides: Partial<SidekiqJobSpec>,
    atSeconds: number,
  ): Promise<{ spec: SidekiqJobSpec; raw: string }> {
    const spec = makeSidekiqJob(overrides);
    const raw = this.payload(spec, { enqueuedAtMs: null });
    await this.redis.zadd(this.k('schedule'), String(atSeconds), raw);
    return { spec, raw };
  }

  /** A failure scheduled for retry: ZADD retry <next attempt> <json with error fields>. */
  async retry(
    overrides: Partial<SidekiqJobSpec>,
    retryAtSeconds: number,
    error: Partial<ErrorFields> = {},
  ): Promise<{ spec: SidekiqJobSpec; raw: string }> {
    const spec = makeSidekiqJob(overrides);
    const raw = this.payload(spec, {
      enqueuedAtMs: spec.createdAtMs + 5,
      error: errorFields(error),
    });
    await this.redis.zadd(this.k('retry'), String(retryAtSeconds), raw);
    return { spec, raw };
  }

  /** Retries exhausted: ZADD dead <now> <json>. */
  async dead(
    overrides: Partial<SidekiqJobSpec>,
    diedAtSeconds: number,
    error: Partial<ErrorFields> = {},
  ): Promise<{ spec: SidekiqJobSpec; raw: string }> {
    const spec = makeSidekiqJob(overrides);
    const raw = this.payload(spec, {
      enqueuedAtMs: spec.createdAtMs + 5,
      error: errorFields(error),
    });
    await this.redis.zadd(this.k('dead'), String(diedAtSeconds), raw);
    return { spec, raw };
  }

  /** A 6.4.1 heartbeat: SADD processes, HMSET <id> info busy beat quiet rss rtt_us, EXPIRE 60, work hash. */
  async heartbeat(p: HeartbeatSpec): Promise<void> {
    const info: Record<string, unknown> = {
      hostname: p.hostname,
      started_at: p.startedAt,
      pid: p.pid,
      tag: p.tag ?? '',
      ...(p.hashConcurrency === undefined ? { concurrency: p.concurrency ?? 10 } : {}),
      queues: p.queues ?? ['default'],
      labels: p.labels ?? [],
      identity: p.identity,
      ...(p.extraInfo ?? {}),
    };
    const workKey = this.k(`${p.identity}${this.flavor === 'v6' ? ':workers' : ':work'}`);
    const multi = this.redis.multi();
    multi.unlink(workKey);
    const work = p.work ?? {};
    for (const [tid, w] of Object.entries(work)) {
      multi.hset(
        workKey,
        tid,
        JSON.stringify({ queue: w.queue, payload: w.payload, run_at: w.runAt }),
      );
    }
    if (Object.keys(work).length > 0) {
      multi.expire(workKey, 60);
    }
    multi.sadd(this.k('processes'), p.identity);
    const fields: string[] = [
      'info',
      JSON.stringify(info),
      'busy',
      String(p.busy ?? Object.keys(work).length),
      'beat',
      String(p.beat ?? Date.now() / 1000),
      'quiet',
      String(p.quiet ?? false),
    ];
    if (p.rss !== undefined) {
      fields.push('rss', String(p.rss));
    }
    fields.push('rtt_us', '120');
    if (p.hashConcurrency !== undefined) {
      fields.push('concurrency', String(p.hashConcurrency)); // 8.1.2+: moved out of info
    }
    multi.hset(this.k(p.identity), ...fields);
    multi.expire(this.k(p.identity), 60);
    await multi.exec();
  }

  /** A process whose heartbeat hash expired but which is still listed in `processes`. */
  async ghostProcess(identity: string): Promise<void> {
    await this.redis.sadd(this.k('processes'), identity);
  }

  /** Stats flush: INCRBY stat:<c> n, INCRBY stat:<c>:<date> n, EXPIRE 5 years. */
  async stat(
    counter: 'processed' | 'failed',
    n: number,
    day = new Date().toISOString().slice(0, 10),
  ): Promise<void> {
    await this.redis
      .multi()
      .incrby(this.k(`stat:${counter}`), n)
      .incrby(this.k(`stat:${counter}:${day}`), n)
      .expire(this.k(`stat:${counter}:${day}`), 157_680_000)
      .exec();
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}

export interface ErrorFields {
  message: string;
  errorClass: string;
  failedAtMs: number;
  retryCount: number;
  retriedAtMs?: number;
}

function errorFields(e: Partial<ErrorFields>): ErrorFields {
  return {
    message: e.message ?? 'boom',
    errorClass: e.errorClass ?? 'RuntimeError',
    failedAtMs: e.failedAtMs ?? Date.now() - 30_000,
    retryCount: e.retryCount ?? 0,
    ...(e.retriedAtMs !== undefined ? { retriedAtMs: e.retriedAtMs } : {}),
  };
}

export interface HeartbeatSpec {
  identity: string;
  hostname: string;
  pid: number;
  startedAt: number;
  tag?: string;
  concurrency?: number;
  queues?: string[];
  labels?: string[];
  busy?: number;
  beat?: number;
  quiet?: boolean;
  rss?: number;
  /** 8.1.2+: concurrency as a hash field instead of inside info */
  hashConcurrency?: number;
  extraInfo?: Record<string, unknown>;
  work?: Record<string, { queue: string; payload: string; runAt: number }>;
}
