import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/errors/domain-error.js';
import { type ClassWindowRow, JobMetricsService } from '../jobs/job-metrics.service.js';
import {
  type ClassListDto,
  type ClassMetricsDto,
  METRICS_WINDOWS,
  type MetricsWindow,
} from './dto/class-metrics.dto.js';

// Sidekiq 7 metrics/histogram.rb BUCKET_INTERVALS: run-time bounds in ms, ×1.5 apart (the last
// bucket, past 335 s, is open)
export const HISTOGRAM_BOUNDS_MS = [
  20, 30, 45, 65, 100, 150, 225, 335, 500, 750, 1_100, 1_700, 2_500, 3_800, 5_750, 8_500, 13_000,
  20_000, 30_000, 45_000, 65_000, 100_000, 150_000, 225_000, 335_000,
];

const seconds = (ms: number | null) => (ms === null ? null : ms / 1000);

/** The window ending at the end of the current bucket (buckets stay put between reloads). */
export function windowBounds(window: MetricsWindow, now: Date): { from: Date; to: Date } {
  const { seconds: length, bucketSeconds } = METRICS_WINDOWS[window];
  const step = bucketSeconds * 1000;
  const to = Math.ceil((now.getTime() + 1) / step) * step;
  return { from: new Date(to - length * 1000), to: new Date(to) };
}

/** Every bucket of the window and every histogram bucket, zeros where no job fell. */
export function shapeClassWindow(
  row: ClassWindowRow,
  from: Date,
  window: MetricsWindow,
): Pick<ClassMetricsDto, 'series' | 'histogram'> {
  const { seconds: length, bucketSeconds } = METRICS_WINDOWS[window];
  const buckets = new Map(row.buckets.map((b) => [b.bucket, b]));
  const counts = new Map(row.histogram.map((b) => [b.bucket, b.count]));
  return {
    series: Array.from({ length: length / bucketSeconds }, (_, i) => ({
      at: new Date(from.getTime() + i * bucketSeconds * 1000).toISOString(),
      processed: buckets.get(i)?.processed ?? 0,
      failed: buckets.get(i)?.failed ?? 0,
    })),
    // width_bucket: 0 below the first bound, i in [bounds[i-1], bounds[i]), n at or past the last
    histogram: [...HISTOGRAM_BOUNDS_MS, null].map((bound, i) => ({
      up_to_seconds: bound === null ? null : bound / 1000,
      count: counts.get(i) ?? 0,
    })),
  };
}

/** Sidekiq's Metrics tab over our history: the class list, and one class over a window. */
@Injectable()
export class ClassMetricsService {
  constructor(private readonly jobMetrics: JobMetricsService) {}

  async list(
    window: MetricsWindow,
    instance: string | undefined,
    limit: number,
    now = new Date(),
  ): Promise<ClassListDto> {
    const { from, to } = windowBounds(window, now);
    const { rows, more } = await this.jobMetrics.classList(from, to, instance, limit);
    return {
      window,
      from: from.toISOString(),
      to: to.toISOString(),
      truncated: more,
      classes: rows.map((r) => ({
        job_class: r.jobClass,
        processed: r.processed,
        failed: r.failed,
        run_p50: seconds(r.runMs.p50),
        run_p95: seconds(r.runMs.p95),
      })),
    };
  }

  async one(
    jobClass: string,
    window: MetricsWindow,
    instance: string | undefined,
    now = new Date(),
  ): Promise<ClassMetricsDto> {
    const { from, to } = windowBounds(window, now);
    const row = await this.jobMetrics.classWindow({
      jobClass,
      from,
      to,
      instance,
      bucketSeconds: METRICS_WINDOWS[window].bucketSeconds,
      bounds: HISTOGRAM_BOUNDS_MS,
    });
    if (row.processed === 0 && !(await this.jobMetrics.hasTerminalJobs(jobClass, instance))) {
      throw new DomainError(
        'NOT_FOUND',
        `no finished job of class ${jobClass} is stored${instance ? ` for ${instance}` : ''}`,
        { job_class: jobClass },
      );
    }
    const stats = (s: ClassWindowRow['runMs']) => ({
      p50: seconds(s.p50),
      p95: seconds(s.p95),
      p99: seconds(s.p99),
      max: seconds(s.max),
    });
    return {
      job_class: jobClass,
      instance: instance ?? null,
      window,
      from: from.toISOString(),
      to: to.toISOString(),
      bucket_seconds: METRICS_WINDOWS[window].bucketSeconds,
      processed: row.processed,
      succeeded: row.processed - row.failed,
      failed: row.failed,
      failure_rate: row.processed === 0 ? 0 : row.failed / row.processed,
      run_seconds: stats(row.runMs),
      wait_seconds: stats(row.waitMs),
      ...shapeClassWindow(row, from, window),
    };
  }
}
