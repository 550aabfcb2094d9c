import { cronJobName } from '../sidekiq-keys.js';
import { CRON_FIELDS, type CronHash } from '../cron/cron-definition.js';
import { BaseStore, SCAN_COUNT, toNumber } from './base.store.js';
import { CRON_ENQUEUE_LUA, CRON_SET_STATUS_LUA } from './scripts.js';

/** The cron jobs read per instance: more are listed as truncated (sidekiq-cron apps have tens). */
export const MAX_CRON_JOBS = 5000;
// Sidekiq::Options[:cron_history_size] default; the app's own setting cannot be read from Redis
const JID_HISTORY_SIZE = 10;

export interface CronNames {
  readonly names: string[];
  /** more than MAX_CRON_JOBS jobs: `names` holds the first ones SSCAN returned */
  readonly truncated: boolean;
}

export interface CronEnqueue {
  readonly name: string;
  readonly queue: string;
  readonly payload: string;
  readonly jid: string;
  /** LAST_ENQUEUE_TIME_FORMAT text */
  readonly lastEnqueueTime: string;
}

/** sidekiq-cron 1.x: the `cron_jobs` SET and the `cron_job:<name>` hashes (see SidekiqKeys). */
export class CronStore extends BaseStore {
  /** SSCAN `cron_jobs` (never the keyspace), at most MAX_CRON_JOBS names, sorted. */
  names(): Promise<CronNames> {
    return this.run(async () => {
      const seen = new Set<string>();
      let cursor = '0';
      do {
        const [next, batch] = await this.redis.sscan(
          this.keys.cronJobs,
          cursor,
          'COUNT',
          SCAN_COUNT,
        );
        cursor = next;
        for (const member of batch) {
          const name = cronJobName(member);
          if (name !== null) {
            seen.add(name);
          }
        }
      } while (cursor !== '0' && seen.size < MAX_CRON_JOBS);
      const names = [...seen].sort();
      return {
        names: names.slice(0, MAX_CRON_JOBS),
        truncated: cursor !== '0' || names.length > MAX_CRON_JOBS,
      };
    });
  }

  /** One pipeline of HMGET per job: its hash, or null when the job has no hash. */
  async hashes(names: readonly string[]): Promise<(CronHash | null)[]> {
    const replies = await this.pipelined(names, (pipe, name) =>
      pipe.hmget(this.keys.cronJob(name), ...CRON_FIELDS),
    );
    return replies.map((reply) => {
      const values = reply as (string | null)[];
      if (values.every((v) => v === null)) {
        return null;
      }
      return Object.fromEntries(CRON_FIELDS.map((f, i) => [f, values[i] ?? null])) as CronHash;
    });
  }

  /** HSET status on an existing job; false when it is gone. */
  setStatus(name: string, status: 'enabled' | 'disabled'): Promise<boolean> {
    return this.write(
      async (w) =>
        toNumber(await w.eval(CRON_SET_STATUS_LUA, 1, this.keys.cronJob(name), status)) === 1,
    );
  }

  /** Job#enque!'s writes in one script; false when the job is gone (nothing pushed). */
  enqueue(push: CronEnqueue): Promise<boolean> {
    const history = JSON.stringify({ jid: push.jid, enqueued: push.lastEnqueueTime });
    return this.write(
      async (w) =>
        toNumber(
          await w.eval(
            CRON_ENQUEUE_LUA,
            4,
            this.keys.cronJob(push.name),
            this.keys.queues,
            this.keys.queue(push.queue),
            this.keys.cronJobJidHistory(push.name),
            push.queue,
            push.payload,
            push.lastEnqueueTime,
            history,
            JID_HISTORY_SIZE - 1,
          ),
        ) === 1,
    );
  }
}
