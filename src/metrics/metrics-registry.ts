import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

// 0.01 s to 1 h, roughly ×2.5 per step: short jobs and hour-long ones both get resolution
export const DURATION_BUCKETS = [
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
];

/**
 * The Sidekiq instance's label. Not `instance`: Prometheus gives every scraped series its own
 * `instance` (the target), which would rename ours to `exported_instance`.
 */
export const INSTANCE_LABEL = 'sidekiq_instance';

const REDUNDANT_TOTAL_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

const JOB_LABELS = [INSTANCE_LABEL, 'job_class', 'queue'] as const;

/** Our own prom-client registry (never the global one) and every metric in it. */
@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();
  private readonly registers = [this.registry];

  // Sidekiq state, read from Redis on scrape (cached)
  readonly sidekiqUp = this.gauge('sidekiq_up', 'Whether the last read of this instance worked', [
    INSTANCE_LABEL,
  ]);
  readonly processed = this.gauge('sidekiq_processed_jobs', 'Sidekiq stat:processed', [
    INSTANCE_LABEL,
  ]);
  readonly failed = this.gauge('sidekiq_failed_jobs', 'Sidekiq stat:failed', [INSTANCE_LABEL]);
  readonly enqueued = this.gauge('sidekiq_enqueued_jobs', 'Jobs in all queues', [INSTANCE_LABEL]);
  readonly scheduled = this.gauge('sidekiq_scheduled_jobs', 'Scheduled set size', [INSTANCE_LABEL]);
  readonly retry = this.gauge('sidekiq_retry_jobs', 'Retry set size', [INSTANCE_LABEL]);
  readonly dead = this.gauge('sidekiq_dead_jobs', 'Dead set size', [INSTANCE_LABEL]);
  readonly busy = this.gauge('sidekiq_busy_workers', 'Jobs running now', [INSTANCE_LABEL]);
  readonly processes = this.gauge('sidekiq_processes', 'Registered Sidekiq processes', [
    INSTANCE_LABEL,
  ]);
  readonly queueSize = this.gauge('sidekiq_queue_size', 'Jobs waiting in the queue', [
    INSTANCE_LABEL,
    'queue',
  ]);
  readonly queueLatency = this.gauge(
    'sidekiq_queue_latency_seconds',
    'Seconds since the oldest job in the queue was enqueued',
    [INSTANCE_LABEL, 'queue'],
  );
  readonly processBusy = this.gauge('sidekiq_process_busy', 'Jobs running in the process', [
    INSTANCE_LABEL,
    'hostname',
    'pid',
    'tag',
  ]);
  readonly processConcurrency = this.gauge(
    'sidekiq_process_concurrency',
    'Worker threads of the process',
    [INSTANCE_LABEL, 'hostname', 'pid', 'tag'],
  );

  // lifecycle history, fed incrementally from job_events
  readonly succeeded = this.counter('sidekiq_jobs_succeeded_total', 'Jobs that succeeded');
  readonly jobFailures = this.counter('sidekiq_jobs_failed_total', 'Job runs that failed');
  readonly retried = this.counter('sidekiq_jobs_retried_total', 'Failed jobs scheduled to retry');
  readonly died = this.counter('sidekiq_jobs_dead_total', 'Jobs moved to the dead set');
  readonly wait = new Histogram({
    name: 'sidekiq_job_queue_wait_seconds',
    help: 'Enqueue to start',
    labelNames: JOB_LABELS,
    buckets: DURATION_BUCKETS,
    registers: this.registers,
  });
  readonly run = new Histogram({
    name: 'sidekiq_job_run_seconds',
    help: 'Start to finish (succeeded or failed)',
    labelNames: JOB_LABELS,
    buckets: DURATION_BUCKETS,
    registers: this.registers,
  });

  // detectors (src/findings/): set from the findings table after each evaluation; the Sidekiq
  // instance under INSTANCE_LABEL like every series here (a scraped `instance` label would be
  // renamed exported_instance), which the alerting rules group by
  readonly findingsOpen = this.gauge(
    'sidekiq_supervisor_findings_open',
    'Open findings by detector and Sidekiq instance',
    ['detector', INSTANCE_LABEL],
  );

  // this service
  readonly httpRequests = new Counter({
    name: 'sidekiq_supervisor_http_requests_total',
    help: 'HTTP requests by route pattern and status',
    labelNames: ['method', 'route', 'status'],
    registers: this.registers,
  });
  readonly httpDuration = new Histogram({
    name: 'sidekiq_supervisor_http_request_duration_seconds',
    help: 'HTTP request time by route pattern',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: this.registers,
  });
  readonly ingestEvents = new Counter({
    name: 'sidekiq_supervisor_ingest_events_total',
    help: 'Lifecycle events received: accepted (new), duplicate, rejected (400/413)',
    labelNames: ['result'],
    registers: this.registers,
  });
  readonly ingestBatch = new Histogram({
    name: 'sidekiq_supervisor_ingest_batch_events',
    help: 'Events per group commit',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000],
    registers: this.registers,
  });
  readonly ingestCommit = new Histogram({
    name: 'sidekiq_supervisor_ingest_commit_seconds',
    help: 'Time to write and commit one group',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: this.registers,
  });

  /**
   * Read at each scrape: per instance, how many failure fingerprints were first seen after its
   * last deploy mark. The failures module sets it (the metrics module does not read findings).
   */
  newFailureCounts: (() => Promise<Map<string, number>>) | null = null;
  readonly failureFingerprintsNew = new Gauge({
    name: 'sidekiq_supervisor_failure_fingerprints_new',
    help: "Failure fingerprints first seen after the instance's last deploy mark",
    labelNames: [INSTANCE_LABEL],
    registers: this.registers,
    collect: () => this.collectNewFailures(),
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // gauges named like counters, which `promtool check metrics` rejects; each is the sum of its
    // per-type twin (sum(nodejs_active_handles)), so nothing is lost
    for (const name of REDUNDANT_TOTAL_GAUGES) {
      this.registry.removeSingleMetric(name);
    }
    for (const result of ['accepted', 'duplicate', 'rejected']) {
      this.ingestEvents.inc({ result }, 0);
    }
  }

  private async collectNewFailures(): Promise<void> {
    if (!this.newFailureCounts) {
      return;
    }
    let counts: Map<string, number>;
    try {
      counts = await this.newFailureCounts();
    } catch {
      // the database is down: the scrape goes on with the last values (health reports the outage)
      return;
    }
    this.failureFingerprintsNew.reset();
    for (const [instance, count] of counts) {
      this.failureFingerprintsNew.set({ [INSTANCE_LABEL]: instance }, count);
    }
  }

  private gauge(name: string, help: string, labelNames: string[]): Gauge {
    return new Gauge({ name, help, labelNames, registers: this.registers });
  }

  private counter(name: string, help: string): Counter {
    return new Counter({ name, help, labelNames: JOB_LABELS, registers: this.registers });
  }
}
