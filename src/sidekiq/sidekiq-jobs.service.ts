import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { SidekiqAccessService } from './sidekiq-access.service.js';
import { SIDEKIQ_SET_NAMES, type SidekiqSetName } from './sidekiq-keys.js';
import { TimestampFormat } from './payload/job-record.js';
import { buildNewPayload } from './payload/payload-edit.js';
import { WorkersService } from './workers/workers.service.js';
import { invalid } from '../common/validation/invalid.js';

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
