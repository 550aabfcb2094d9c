import { Injectable } from '@nestjs/common';
import { nowSeconds } from '../queues/queues.service.js';
import { SidekiqAccessService } from '../sidekiq-access.service.js';
import type { StatCounter } from '../sidekiq-keys.js';
import { queueLatency } from '../payload/job-record.js';
import type { ResetStatsResultDto, SidekiqStatsDto, StatsHistoryDto } from './dto/stats.dto.js';
import { invalid } from '../../common/validation/invalid.js';

const DAY_MS = 86_400_000;

/** UTC dates from `start` going back `days` days (Stats::History#date_stat_hash). */
export function historyDates(start: string, days: number): string[] {
  const t0 = Date.parse(`${start}T00:00:00Z`);
  return Array.from({ length: days }, (_, i) =>
    new Date(t0 - i * DAY_MS).toISOString().slice(0, 10),
  );
}

/** Sidekiq::Stats and Sidekiq::Stats::History. */
@Injectable()
export class StatsService {
  constructor(private readonly access: SidekiqAccessService) {}

  async stats(instance?: string): Promise<SidekiqStatsDto> {
    const store = this.access.readable(instance);
    // one round of three independent reads, then one of the two per-member pipelines
    const [fast, identities, queues] = await Promise.all([
      store.stats.snapshot(),
      store.processes.identities(),
      store.queues.names(),
    ]);
    const [busy, sizes] = await Promise.all([
      store.processes.busyCounts(identities),
      store.queues.sizes(queues),
    ]);
    return {
      processed: fast.processed,
      failed: fast.failed,
      scheduled_size: fast.scheduledSize,
      retry_size: fast.retrySize,
      dead_size: fast.deadSize,
      processes_size: fast.processesSize,
      default_queue_latency: queueLatency(fast.defaultOldest, nowSeconds()),
      workers_size: busy.reduce((a, b) => a + b, 0),
      enqueued: sizes.reduce((a, n) => a + n, 0),
    };
  }

  async history(
    instance: string | undefined,
    days = 30,
    startDate?: string,
  ): Promise<StatsHistoryDto> {
    const start = startDate ?? new Date().toISOString().slice(0, 10);
    const parsed = new Date(`${start}T00:00:00Z`);
    if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== start) {
      throw invalid('start_date', `${start} is not a calendar date`);
    }
    const store = this.access.readable(instance);
    const dates = historyDates(start, days);
    const [processed, failed] = await Promise.all([
      store.stats.daily('processed', dates),
      store.stats.daily('failed', dates),
    ]);
    return {
      start_date: start,
      days,
      processed: Object.fromEntries(dates.map((d, i) => [d, processed[i] ?? 0])),
      failed: Object.fromEntries(dates.map((d, i) => [d, failed[i] ?? 0])),
    };
  }

  /** Stats#reset: lifetime counters only, daily keys untouched. */
  async reset(
    instance: string | undefined,
    counters: StatCounter[] = ['failed', 'processed'],
  ): Promise<ResetStatsResultDto> {
    const store = this.access.writable(instance);
    await store.stats.reset(counters);
    return { reset: counters };
  }
}
