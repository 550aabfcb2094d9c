import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { RedisRegistry } from '../redis/redis.module.js';
import { ProcessesService } from '../sidekiq/processes/processes.service.js';
import { QueuesService } from '../sidekiq/queues/queues.service.js';
import { StatsService } from '../sidekiq/stats/stats.service.js';
import { MetricsRegistry } from './metrics-registry.js';

/**
 * Sets the Sidekiq state gauges from Redis, at most once per METRICS_CACHE_MS however many
 * scrapes arrive (concurrent scrapes share one read). An instance that cannot be read reports
 * sidekiq_up 0 and no other series.
 */
@Injectable()
export class SidekiqStateService {
  private readonly logger = new Logger(SidekiqStateService.name);
  private readAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly registry: RedisRegistry,
    private readonly metrics: MetricsRegistry,
    private readonly stats: StatsService,
    private readonly queues: QueuesService,
    private readonly processes: ProcessesService,
  ) {}

  refresh(): Promise<void> {
    if (performance.now() - this.readAt < this.config.metricsCacheMs) {
      return Promise.resolve();
    }
    this.inFlight ??= this.read().finally(() => {
      this.readAt = performance.now();
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async read(): Promise<void> {
    const results = await Promise.all(
      this.registry.instanceNames.map(async (instance) => {
        try {
          const [stats, queues, processes] = await Promise.all([
            this.stats.stats(instance),
            this.queues.list(instance),
            this.processes.list(instance),
          ]);
          return { instance, state: { stats, queues, processes } };
        } catch (error) {
          this.logger.warn(`cannot read Sidekiq "${instance}": ${(error as Error).message}`);
          return { instance, state: null };
        }
      }),
    );
    // everything read first, then swapped in at once: a scrape never sees half a state
    const m = this.metrics;
    for (const g of [
      m.sidekiqUp,
      m.processed,
      m.failed,
      m.enqueued,
      m.scheduled,
      m.retry,
      m.dead,
      m.busy,
      m.processes,
      m.queueSize,
      m.queueLatency,
      m.processBusy,
      m.processConcurrency,
    ]) {
      g.reset();
    }
    for (const { instance, state } of results) {
      const own = { sidekiq_instance: instance };
      m.sidekiqUp.set(own, state ? 1 : 0);
      if (!state) {
        continue;
      }
      const { stats, queues, processes } = state;
      m.processed.set(own, stats.processed);
      m.failed.set(own, stats.failed);
      m.enqueued.set(own, stats.enqueued);
      m.scheduled.set(own, stats.scheduled_size);
      m.retry.set(own, stats.retry_size);
      m.dead.set(own, stats.dead_size);
      m.busy.set(own, stats.workers_size);
      m.processes.set(own, stats.processes_size);
      for (const q of queues) {
        m.queueSize.set({ ...own, queue: q.name }, q.size);
        m.queueLatency.set({ ...own, queue: q.name }, q.latency);
      }
      for (const p of processes) {
        const labels = {
          ...own,
          hostname: p.hostname ?? '',
          pid: p.pid === null ? '' : String(p.pid),
          tag: p.tag ?? '',
        };
        m.processBusy.set(labels, p.busy);
        if (p.concurrency !== null) {
          m.processConcurrency.set(labels, p.concurrency);
        }
      }
    }
  }
}
