import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { JobMetricsService } from '../jobs/job-metrics.service.js';
import { JobsService } from '../jobs/jobs.service.js';
import { EventCursor } from './event-cursor.js';
import { observe } from './lifecycle-metrics.js';
import { MetricsRegistry } from './metrics-registry.js';
import { StatsdService } from './statsd.service.js';

const BATCH = 5000;
// a scrape reads at most this many batches; the rest waits for the next poll
const MAX_BATCHES = 20;
// with StatsD on, ingest commits trigger a poll at most this often, and a copy that takes no
// ingest traffic polls on this interval
const PUSH_DELAY_MS = 1000;
const PUSH_INTERVAL_MS = 10_000;

/**
 * Lifecycle counters and histograms, fed incrementally: each poll reads only the job_events rows
 * after a high-water mark id (a primary key range), never the whole table. Counting starts at the
 * mark found at boot, as Prometheus counters do. Every copy of the service counts every event
 * (the events come from the shared database), so aggregate copies with max, not sum.
 */
@Injectable()
export class LifecycleMetricsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(LifecycleMetricsService.name);
  private cursor: EventCursor | null = null;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private interval: NodeJS.Timeout | null = null;

  constructor(
    private readonly jobMetrics: JobMetricsService,
    private readonly metrics: MetricsRegistry,
    private readonly statsd: StatsdService,
    jobs: JobsService,
  ) {
    jobs.onFlush((stats) => {
      metrics.ingestEvents.inc({ result: 'accepted' }, stats.inserted);
      metrics.ingestEvents.inc({ result: 'duplicate' }, stats.events - stats.inserted);
      metrics.ingestBatch.observe(stats.events);
      metrics.ingestCommit.observe(stats.ms / 1000);
      if (this.statsd.enabled) {
        this.schedulePush();
      }
    });
    jobs.onRejected((events) => metrics.ingestEvents.inc({ result: 'rejected' }, events));
  }

  async onApplicationBootstrap(): Promise<void> {
    try {
      this.cursor = new EventCursor(BigInt(await this.jobMetrics.maxEventId()));
    } catch (error) {
      // the database may be down at boot; the first poll sets the mark instead
      this.logger.warn(`lifecycle metrics start later: ${(error as Error).message}`);
    }
    if (this.statsd.enabled) {
      this.interval = setInterval(() => void this.poll(), PUSH_INTERVAL_MS);
      this.interval.unref();
    }
  }

  onApplicationShutdown(): void {
    if (this.timer) {
      clearTimeout(this.timer);
    }
    if (this.interval) {
      clearInterval(this.interval);
    }
  }

  /** Reads the events stored since the last poll; polls never overlap. */
  poll(): Promise<void> {
    this.chain = this.chain.then(
      () => this.pollOnce(),
      () => this.pollOnce(),
    );
    return this.chain.catch((error: unknown) => {
      this.logger.warn(`lifecycle metrics poll failed: ${(error as Error).message}`);
    });
  }

  private schedulePush(): void {
    if (this.timer) {
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.poll();
    }, PUSH_DELAY_MS);
    this.timer.unref();
  }

  private async pollOnce(): Promise<void> {
    if (!this.cursor) {
      this.cursor = new EventCursor(BigInt(await this.jobMetrics.maxEventId()));
      return;
    }
    const cursor = this.cursor;
    for (let round = 0; round < MAX_BATCHES; round++) {
      const now = Date.now();
      const gaps = round === 0 ? cursor.openGaps(now) : [];
      const ids = await this.jobMetrics.eventIdsAfter(cursor.highWaterMark, BATCH);
      const rows = await this.jobMetrics.events([...gaps, ...ids]);
      cursor.advance(ids, now);
      cursor.found(rows.map((r) => r.id));
      for (const row of rows) {
        const o = observe(row);
        if (!o) {
          continue;
        }
        switch (o.outcome) {
          case 'succeeded':
            this.metrics.succeeded.inc(o.labels);
            break;
          case 'failed':
            this.metrics.jobFailures.inc(o.labels);
            break;
          case 'retried':
            this.metrics.retried.inc(o.labels);
            break;
          case 'dead':
            this.metrics.died.inc(o.labels);
            break;
          case undefined:
            break;
        }
        if (o.waitSeconds !== undefined) {
          this.metrics.wait.observe(o.labels, o.waitSeconds);
        }
        if (o.runSeconds !== undefined) {
          this.metrics.run.observe(o.labels, o.runSeconds);
        }
        this.statsd.record(o);
      }
      if (ids.length < BATCH) {
        return;
      }
    }
  }
}
