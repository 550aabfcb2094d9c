import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { StatsD } from 'hot-shots';
import { AppConfig } from '../config/app-config.js';
import type { LifecycleObservation } from './lifecycle-metrics.js';

/** StatsD names allow no dots or colons inside a segment; `Billing::Invoice` → `Billing__Invoice`. */
export function statsdSegment(text: string): string {
  return text.replace(/::/g, '__').replace(/[^A-Za-z0-9_-]/g, '_');
}

const COUNTER = {
  succeeded: 'successes',
  failed: 'failures',
  retried: 'retries',
  dead: 'deaths',
} as const;

/**
 * Optional push of the lifecycle metrics to StatsD (STATSD_HOST): per job class, counters
 * `jobs.<class>.successes|failures|retries|deaths` and timings `jobs.<class>.wait|run` in ms.
 * Plain StatsD lines, no tags, so any StatsD server reads them.
 */
@Injectable()
export class StatsdService implements OnApplicationShutdown {
  private readonly logger = new Logger(StatsdService.name);
  private readonly client: StatsD | null;

  constructor(config: AppConfig) {
    this.client = config.statsd
      ? new StatsD({
          host: config.statsd.host,
          port: config.statsd.port,
          prefix: config.statsd.prefix,
          protocol: 'udp',
          // metrics are best effort: a lost datagram must never reach a request
          errorHandler: (error) => this.logger.warn(`statsd: ${error.message}`),
        })
      : null;
  }

  get enabled(): boolean {
    return this.client !== null;
  }

  record(o: LifecycleObservation): void {
    if (!this.client) {
      return;
    }
    const base = `jobs.${statsdSegment(o.labels.job_class)}`;
    if (o.outcome) {
      this.client.increment(`${base}.${COUNTER[o.outcome]}`);
    }
    if (o.waitSeconds !== undefined) {
      this.client.timing(`${base}.wait`, o.waitSeconds * 1000);
    }
    if (o.runSeconds !== undefined) {
      this.client.timing(`${base}.run`, o.runSeconds * 1000);
    }
  }

  onApplicationShutdown(): Promise<void> {
    const client = this.client;
    if (!client) {
      return Promise.resolve();
    }
    return new Promise((resolve) => client.close(() => resolve()));
  }
}
