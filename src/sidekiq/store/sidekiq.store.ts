import type { SidekiqInstanceConfig } from '../../config/app-config.js';
import type { SidekiqConnection } from '../../redis/redis.module.js';
import { SidekiqKeys } from '../sidekiq-keys.js';
import { CronStore } from './cron.store.js';
import { ProcessStore } from './process.store.js';
import { QueueStore } from './queue.store.js';
import { SchedulerStore } from './scheduler.store.js';
import { SortedSetStore } from './sorted-set.store.js';
import { StatsStore } from './stats.store.js';

/** One Sidekiq instance's Redis, as Sidekiq's api.rb divides it: queues, sorted sets, processes, stats (and sidekiq-cron's jobs, sidekiq-scheduler's schedules). */
export class SidekiqStore {
  readonly instance: SidekiqInstanceConfig;
  readonly queues: QueueStore;
  readonly sets: SortedSetStore;
  readonly processes: ProcessStore;
  readonly stats: StatsStore;
  /** sidekiq-cron's jobs, when the app uses the gem */
  readonly cron: CronStore;
  /** sidekiq-scheduler's schedules, when the app uses that gem */
  readonly scheduler: SchedulerStore;

  constructor(connection: SidekiqConnection) {
    this.instance = connection.instance;
    const keys = new SidekiqKeys(this.instance.namespace);
    this.queues = new QueueStore(connection, keys);
    this.sets = new SortedSetStore(connection, keys);
    this.processes = new ProcessStore(connection, keys);
    this.stats = new StatsStore(connection, keys);
    this.cron = new CronStore(connection, keys);
    this.scheduler = new SchedulerStore(connection, keys);
  }

  get name(): string {
    return this.instance.name;
  }
}
