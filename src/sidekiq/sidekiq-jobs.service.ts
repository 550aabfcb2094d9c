import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { SidekiqAccessService } from './sidekiq-access.service.js';
import { SIDEKIQ_SET_NAMES, SidekiqSetName } from './sidekiq-keys.js';
import { decodeJob, queueLatency, TimestampFormat } from './payload/job-record.js';
import { nowSeconds } from './queues/queues.service.js';
import { buildNewPayload } from './payload/payload-edit.js';
import { WorkersService } from './workers/workers.service.js';
import { invalid } from '../common/validation/invalid.js';
import { DomainError } from '../common/errors/domain-error.js';

export type SidekiqJobLocation =
  | { readonly where: 'queue'; readonly queue: string; readonly raw: string }
  | { readonly where: SidekiqSetName; readonly score: number; readonly raw: string }
  | {
      readonly where: 'working';
      readonly process: string;
      readonly thread: string;
      readonly raw: string;
    };

export interface PushJobInput {
  readonly jobClass: string;
  readonly queue: string;
  /** JSON text of the argument array, written verbatim (never re-serialised). */
  readonly argsJson: string;
  /** Default: seconds (6.x/7.x); pass Millis for Sidekiq 8. */
  readonly timestampFormat?: TimestampFormat;
  readonly instance?: string;
  /** jid of the job this push restarts: written as a top-level `restarted_from` field. */
  readonly restartedFrom?: string;
}

export interface PushedJob {
  readonly jid: string;
  readonly queue: string;
  readonly payload: string;
}

/** A job the history says is waiting: since when (epoch seconds) and in which queue. */
export interface WaitingJob {
  readonly jid: string;
  readonly queue: string | null;
  readonly since: number;
}

export type Holding =
  | { readonly where: 'queue'; readonly queue: string }
  | { readonly where: 'scheduled' | 'retry'; readonly score: number }
  | { readonly where: 'working'; readonly process: string };

export interface HoldingsReport {
  /** where Sidekiq holds each job it still holds */
  readonly held: Map<string, Holding>;
  /** the waiting jobs' queues: size and latency (seconds since the oldest entry was pushed) */
  readonly queues: Map<string, { size: number; latency: number }>;
  /** the queues and sets not read to the end within the budget (a job may be there unseen) */
  readonly unread: string[];
}

// a payload's enqueued_at and the history's differ by the client's clock and rounding: a queue
// entry pushed this much after the newest waiting job is past them all
const PUSH_SLACK_SECONDS = 60;
const QUEUE_CHUNK = 500;

/** What other modules (JobManager) need from Sidekiq: "where is jid X now" and "push a new job". */
@Injectable()
export class SidekiqJobsService {
  constructor(
    private readonly access: SidekiqAccessService,
    private readonly workers: WorkersService,
  ) {}

  /**
   * Where Sidekiq holds `jid` now: a live worker, the scheduled/retry/dead sets (ZSCAN), or a queue
   * (chunked scan of every queue: Sidekiq keeps no jid index). Null when Sidekiq no longer holds it.
   */
  async locate(jid: string, instance?: string): Promise<SidekiqJobLocation | null> {
    const store = this.access.readable(instance);
    const worker = await this.workers.findByJid(store, jid);
    if (worker) {
      return {
        where: 'working',
        process: worker.process,
        thread: worker.thread,
        raw: worker.job.raw,
      };
    }
    for (const set of SIDEKIQ_SET_NAMES) {
      const entry = await store.sets.find(set, jid);
      if (entry) {
        return { where: set, score: entry.score, raw: entry.raw };
      }
    }
    for (const queue of await store.queues.names()) {
      const [raw] = await store.queues.find(queue, jid);
      if (raw !== undefined) {
        return { where: 'queue', queue, raw };
      }
    }
    return null;
  }

  /**
   * Whether Sidekiq still holds each of `jobs` (waiting to start): in a live worker, in its
   * queue, or in the scheduled or retry set. Bounded: each queue is read from its oldest end
   * (FIFO: the longest waiting jobs are there) only until its entries are newer than every job
   * looked for in it, and at most `budget` entries of each queue and set are read.
   */
  async holdings(
    instance: string,
    jobs: readonly WaitingJob[],
    budget: number,
  ): Promise<HoldingsReport> {
    const held = new Map<string, Holding>();
    const queues = new Map<string, { size: number; latency: number }>();
    const unread: string[] = [];
    if (jobs.length === 0) {
      return { held, queues, unread };
    }
    const store = this.access.readable(instance);
    const wanted = new Set(jobs.map((j) => j.jid));
    for (const w of await this.workers.list(instance)) {
      if (w.job.jid !== null && wanted.has(w.job.jid)) {
        held.set(w.job.jid, { where: 'working', process: w.process });
      }
    }
    const byQueue = new Map<string, WaitingJob[]>();
    for (const job of jobs) {
      if (job.queue !== null && !held.has(job.jid)) {
        byQueue.set(job.queue, [...(byQueue.get(job.queue) ?? []), job]);
      }
    }
    const names = [...byQueue.keys()];
    const now = nowSeconds();
    for (const snapshot of await store.queues.snapshots(names)) {
      queues.set(snapshot.name, {
        size: snapshot.size,
        latency: queueLatency(snapshot.oldest, now),
      });
    }
    for (const [name, waiting] of byQueue) {
      const size = queues.get(name)?.size ?? 0;
      const looking = new Set(waiting.map((j) => j.jid));
      const newest = Math.max(...waiting.map((j) => j.since)) + PUSH_SLACK_SECONDS;
      let read = 0;
      let past = false;
      while (looking.size > 0 && !past && read < Math.min(size, budget)) {
        const chunk = await store.queues.oldestFirst(name, read, QUEUE_CHUNK);
        if (chunk.length === 0) {
          break;
        }
        read += chunk.length;
        for (const raw of chunk) {
          const job = decodeJob(raw);
          if (job.decodable && job.jid !== null && looking.delete(job.jid)) {
            held.set(job.jid, { where: 'queue', queue: name });
          }
          if (job.decodable && job.enqueuedAt !== null && job.enqueuedAt > newest) {
            past = true;
          }
        }
      }
      if (looking.size > 0 && !past && read < size) {
        unread.push(`queue:${name}`);
      }
    }
    const rest = new Set([...wanted].filter((jid) => !held.has(jid)));
    for (const set of [SidekiqSetName.Scheduled, SidekiqSetName.Retry] as const) {
      if (rest.size === 0) {
        break;
      }
      const { found, truncated } = await store.sets.findJids(set, rest, budget);
      for (const [jid, score] of found) {
        held.set(jid, { where: set, score });
        rest.delete(jid);
      }
      if (truncated) {
        unread.push(set);
      }
    }
    return { held, queues, unread };
  }

  /** holdings(), or null when `instance` is not a configured Sidekiq instance. */
  async holdingsIfKnown(
    instance: string,
    jobs: readonly WaitingJob[],
    budget: number,
  ): Promise<HoldingsReport | null> {
    try {
      return await this.holdings(instance, jobs, budget);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'INSTANCE_NOT_FOUND') {
        return null;
      }
      throw error;
    }
  }

  /** Pushes a fresh payload (new jid) the way Sidekiq::Client.push does: SADD queues + LPUSH. */
  async push(input: PushJobInput): Promise<PushedJob> {
    const store = this.access.writable(input.instance);
    let payload: string;
    const jid = randomBytes(12).toString('hex');
    try {
      payload = buildNewPayload({
        jobClass: input.jobClass,
        queue: input.queue,
        argsJson: input.argsJson,
        jid,
        nowMs: Date.now(),
        timestampFormat: input.timestampFormat ?? TimestampFormat.Seconds,
        restartedFrom: input.restartedFrom,
      });
    } catch {
      throw invalid('arguments', 'must be a JSON array');
    }
    await store.queues.push(input.queue, [payload]);
    return { jid, queue: input.queue, payload };
  }
}
