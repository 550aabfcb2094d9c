import type { SidekiqConnection } from '../../redis/redis.module.js';
import type { SidekiqKeys } from '../sidekiq-keys.js';
import { SchedulerKeys } from '../sidekiq-keys.js';
import type { SchedulerEntry } from '../scheduler/scheduler-definition.js';
import { BaseStore, SCAN_COUNT, toNumber } from './base.store.js';
import { SCHEDULER_PUSH_LUA, SCHEDULER_SET_STATE_LUA } from './scripts.js';

/** The sidekiq-scheduler schedules read per instance: more are listed as truncated. */
export const MAX_SCHEDULER_JOBS = 5000;

export interface SchedulerNames {
  readonly names: string[];
  /** more than MAX_SCHEDULER_JOBS schedules: `names` holds the first ones HSCAN returned */
  readonly truncated: boolean;
}

export type SetStateOutcome = 'set' | 'gone' | 'changed';

/** sidekiq-scheduler 4.x–6.x: the `schedules` hash, its states and times (see SchedulerKeys). */
export class SchedulerStore extends BaseStore {
  private readonly scheduler: SchedulerKeys;

  constructor(connection: SidekiqConnection, keys: SidekiqKeys) {
    super(connection, keys);
    this.scheduler = new SchedulerKeys(
      connection.instance.namespace,
      connection.instance.schedulerKeyPrefix,
    );
  }

  /** TYPE and HLEN, then HSCAN `schedules` for at most MAX_SCHEDULER_JOBS names, sorted. */
  names(): Promise<SchedulerNames> {
    return this.run(async () => {
      // `schedules` is a generic name: an app without the gem may use it for something else
      if ((await this.redis.type(this.scheduler.schedules)) !== 'hash') {
        return { names: [], truncated: false };
      }
      const length = await this.redis.hlen(this.scheduler.schedules);
      const seen = new Set<string>();
      let cursor = '0';
      if (length > 0) {
        do {
          const [next, batch] = await this.redis.hscan(
            this.scheduler.schedules,
            cursor,
            'COUNT',
            SCAN_COUNT,
          );
          cursor = next;
          for (let i = 0; i < batch.length; i += 2) {
            seen.add(batch[i]!);
          }
        } while (cursor !== '0' && seen.size < MAX_SCHEDULER_JOBS);
      }
      const names = [...seen].sort();
      return {
        names: names.slice(0, MAX_SCHEDULER_JOBS),
        truncated: length > MAX_SCHEDULER_JOBS || names.length > MAX_SCHEDULER_JOBS,
      };
    });
  }

  /** The schedules, states and times of `names`: four HMGETs in one pipeline. */
  entries(names: readonly string[]): Promise<SchedulerEntry[]> {
    return this.run(async () => {
      if (names.length === 0) {
        return [];
      }
      const k = this.scheduler;
      const [configs, states, next, last] = (await this.exec(
        this.redis
          .pipeline()
          .hmget(k.schedules, ...names)
          .hmget(k.states, ...names)
          .hmget(k.nextTimes, ...names)
          .hmget(k.lastTimes, ...names),
      )) as (string | null)[][];
      return names.map((name, i) => ({
        name,
        config: configs![i] ?? null,
        state: states![i] ?? null,
        nextTime: next![i] ?? null,
        lastTime: last![i] ?? null,
      }));
    });
  }

  /** set_job_state of a schedule whose state is still `expected` (null: none). */
  setState(name: string, expected: string | null, state: string): Promise<SetStateOutcome> {
    return this.write(async (w) => {
      const reply = toNumber(
        await w.eval(
          SCHEDULER_SET_STATE_LUA,
          2,
          this.scheduler.schedules,
          this.scheduler.states,
          name,
          expected ?? '',
          state,
        ),
      );
      return reply === 1 ? 'set' : reply === 0 ? 'gone' : 'changed';
    });
  }

  /** Sidekiq::Client.push of a schedule's job; false when the schedule is gone (nothing pushed). */
  push(name: string, queue: string, payload: string): Promise<boolean> {
    return this.write(
      async (w) =>
        toNumber(
          await w.eval(
            SCHEDULER_PUSH_LUA,
            3,
            this.scheduler.schedules,
            this.keys.queues,
            this.keys.queue(queue),
            name,
            queue,
            payload,
          ),
        ) === 1,
    );
  }
}
