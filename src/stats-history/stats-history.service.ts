import { MikroORM } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';
import { DomainError } from '../common/errors/domain-error.js';
import { AppConfig } from '../config/app-config.js';
import { QueuesService } from '../sidekiq/queues/queues.service.js';
import { StatsService } from '../sidekiq/stats/stats.service.js';
import { RedisRegistry } from '../redis/redis.module.js';
import { invalid } from '../common/validation/invalid.js';

export type Resolution = 'minute' | 'hour' | 'day';
const STEP_MS: Record<Resolution, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const MAX_POINTS = 2000;
// pg_try_advisory_xact_lock keys: one per kind of tick, shared by every copy of the service
export const ADVISORY_LOCK_IDS = {
  snapshot: 7_301_001,
  import: 7_301_002,
  retention: 7_301_003,
} as const;

export interface TickResult {
  ran: boolean;
  /** per instance: written, or why not */
  instances: Record<string, 'written' | 'exists' | string>;
}

export interface SeriesPoint {
  at: string;
  processed: number | null;
  failed: number | null;
  enqueued: number | null;
  scheduled: number | null;
  retry: number | null;
  dead: number | null;
  busy: number | null;
  processes: number | null;
  /** jobs processed since the previous point; null where either point is missing */
  throughput: number | null;
  /** jobs failed since the previous point */
  failures: number | null;
}

export interface QueuePoint {
  at: string;
  size: number | null;
  latency: number | null;
}

export interface DrainEstimate {
  size: number;
  /** jobs per second the queue shrank by, over the window's last two points; null if not shrinking */
  rate_per_second: number | null;
  /** seconds to empty at that rate; null when not draining */
  eta_seconds: number | null;
}

export interface HistoryResult {
  instance: string;
  resolution: Resolution;
  from: string;
  to: string;
  points: SeriesPoint[];
  queues: Record<string, QueuePoint[]>;
  drain: Record<string, DrainEstimate>;
  daily: { day: string; processed: number; failed: number }[];
}

interface SnapshotRow {
  bucket: Date;
  processed: string;
  failed: string;
  enqueued: string;
  scheduled: string;
  retry: string;
  dead: string;
  busy: number;
  processes: number;
  queues: Record<string, { size: number; latency: number }>;
}

/** Snapshots of Sidekiq's stats into Postgres, Sidekiq's daily counters, retention, queries. */
@Injectable()
export class StatsHistoryService {
  private readonly logger = new Logger(StatsHistoryService.name);

  constructor(
    private readonly orm: MikroORM,
    private readonly stats: StatsService,
    private readonly queues: QueuesService,
    private readonly registry: RedisRegistry,
    private readonly config: AppConfig,
  ) {}

  /**
   * One snapshot per instance at `now` truncated to the minute. Only the copy that gets the
   * advisory lock writes; an instance whose Redis is down is skipped (logged), the others written.
   */
  async takeSnapshot(now: Date): Promise<TickResult> {
    const takenAt = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
    return this.locked(ADVISORY_LOCK_IDS.snapshot, async (execute) => {
      const instances: TickResult['instances'] = {};
      for (const name of this.registry.instanceNames) {
        try {
          const [stats, queues] = await Promise.all([
            this.stats.stats(name),
            this.queues.list(name),
          ]);
          const rows = await execute(
            `insert into stats_snapshots (instance, taken_at, processed, failed, enqueued, scheduled,
               retry, dead, busy, processes, default_latency, queues)
             values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)
             on conflict (instance, taken_at) do nothing returning id`,
            [
              name,
              takenAt.toISOString(),
              stats.processed,
              stats.failed,
              stats.enqueued,
              stats.scheduled_size,
              stats.retry_size,
              stats.dead_size,
              stats.workers_size,
              stats.processes_size,
              stats.default_queue_latency,
              JSON.stringify(
                Object.fromEntries(
                  queues.map((q) => [q.name, { size: q.size, latency: q.latency }]),
                ),
              ),
            ],
          );
          instances[name] = rows.length > 0 ? 'written' : 'exists';
        } catch (error) {
          if (error instanceof DomainError && error.code === 'SIDEKIQ_UNREACHABLE') {
            this.logger.warn(`snapshot of ${name} skipped: ${error.message}`);
            instances[name] = `skipped: ${error.message}`;
            continue;
          }
          throw error;
        }
      }
      return instances;
    });
  }

  /** Copies Sidekiq's stat:processed:<day> / stat:failed:<day> of the last `days` days. */
  async importDaily(now: Date, days = this.config.statsImportDays): Promise<TickResult> {
    const start = now.toISOString().slice(0, 10);
    return this.locked(ADVISORY_LOCK_IDS.import, async (execute) => {
      const instances: TickResult['instances'] = {};
      for (const name of this.registry.instanceNames) {
        try {
          const history = await this.stats.history(name, days, start);
          const dayList = Object.keys(history.processed);
          await execute(
            `insert into stats_daily (instance, day, processed, failed)
             select ?, d, p, f from json_to_recordset(?::json) as x(d date, p int8, f int8)
             on conflict (instance, day) do update set
               processed = greatest(stats_daily.processed, excluded.processed),
               failed = greatest(stats_daily.failed, excluded.failed),
               imported_at = now()`,
            [
              name,
              JSON.stringify(
                dayList.map((d) => ({
                  d,
                  p: history.processed[d] ?? 0,
                  f: history.failed[d] ?? 0,
                })),
              ),
            ],
          );
          instances[name] = 'written';
        } catch (error) {
          if (error instanceof DomainError && error.code === 'SIDEKIQ_UNREACHABLE') {
            this.logger.warn(`daily import of ${name} skipped: ${error.message}`);
            instances[name] = `skipped: ${error.message}`;
            continue;
          }
          throw error;
        }
      }
      return instances;
    });
  }

  /** Deletes snapshots older than the retention period, in bounded batches. */
  async pruneSnapshots(now: Date): Promise<number> {
    const cutoff = new Date(now.getTime() - this.config.retention.snapshotDays * 86_400_000);
    let total = 0;
    for (;;) {
      const n = await this.orm.em.fork().transactional(async (em) => {
        const rows = await em.execute<{ id: string }[]>(
          `delete from stats_snapshots where id in (
             select id from stats_snapshots where taken_at < ? order by taken_at limit ?
           ) returning id`,
          [cutoff.toISOString(), this.config.retention.batch],
        );
        return rows.length;
      });
      total += n;
      if (n < this.config.retention.batch) {
        return total;
      }
    }
  }

  private async locked(
    key: number,
    work: (
      execute: (sql: string, params: unknown[]) => Promise<unknown[]>,
    ) => Promise<TickResult['instances']>,
  ): Promise<TickResult> {
    return this.orm.em.fork().transactional(async (em) => {
      const [{ locked }] = await em.execute<{ locked: boolean }[]>(
        'select pg_try_advisory_xact_lock(?) as locked',
        [key],
      );
      if (!locked) {
        return { ran: false, instances: {} };
      }
      const instances = await work((sql, params) => em.execute<unknown[]>(sql, params));
      return { ran: true, instances };
    });
  }

  /** Series between from and to, one point per bucket (the bucket's last snapshot), gaps as nulls. */
  async history(query: {
    instance?: string;
    from: Date;
    to: Date;
    resolution: Resolution;
  }): Promise<HistoryResult> {
    const instance = query.instance ?? this.registry.instanceNames[0];
    this.registry.connection(instance); // 404 for an unknown instance
    const step = STEP_MS[query.resolution];
    const from = new Date(Math.floor(query.from.getTime() / step) * step);
    const to = query.to;
    if (to <= from) {
      throw invalid('to', 'must be after from');
    }
    const count = Math.ceil((to.getTime() - from.getTime()) / step);
    if (count > MAX_POINTS) {
      throw invalid(
        'resolution',
        `gives ${count} points; at most ${MAX_POINTS} (use a coarser one)`,
      );
    }
    const em = this.orm.em.fork();
    const rows = await em.execute<SnapshotRow[]>(
      `select distinct on (bucket) date_bin(?::interval, taken_at, ?::timestamptz) as bucket,
         processed, failed, enqueued, scheduled, retry, dead, busy, processes, queues
       from stats_snapshots
       where instance = ? and taken_at >= ? and taken_at < ?
       order by bucket, taken_at desc`,
      [
        `${step / 1000} seconds`,
        from.toISOString(),
        instance,
        from.toISOString(),
        to.toISOString(),
      ],
    );
    const byBucket = new Map(rows.map((r) => [new Date(r.bucket).getTime(), r]));
    const points: SeriesPoint[] = [];
    const queueNames = new Set(rows.flatMap((r) => Object.keys(r.queues)));
    const queues: Record<string, QueuePoint[]> = Object.fromEntries(
      [...queueNames].map((q) => [q, []]),
    );
    let previous: SnapshotRow | undefined;
    for (let i = 0; i < count; i++) {
      const at = from.getTime() + i * step;
      const row = byBucket.get(at);
      const num = (v: string | number | undefined) => (v === undefined ? null : Number(v));
      const delta = (key: 'processed' | 'failed') => {
        if (!row || !previous) {
          return null;
        }
        const d = Number(row[key]) - Number(previous[key]);
        return d >= 0 ? d : null; // a reset of Sidekiq's counters is not negative work
      };
      points.push({
        at: new Date(at).toISOString(),
        processed: num(row?.processed),
        failed: num(row?.failed),
        enqueued: num(row?.enqueued),
        scheduled: num(row?.scheduled),
        retry: num(row?.retry),
        dead: num(row?.dead),
        busy: row ? row.busy : null,
        processes: row ? row.processes : null,
        throughput: delta('processed'),
        failures: delta('failed'),
      });
      for (const name of queueNames) {
        const q = row?.queues[name];
        queues[name].push({
          at: new Date(at).toISOString(),
          size: row ? (q?.size ?? 0) : null,
          latency: row ? (q?.latency ?? 0) : null,
        });
      }
      previous = row;
    }
    const daily = await em.execute<{ day: string; processed: string; failed: string }[]>(
      `select to_char(day, 'YYYY-MM-DD') as day, processed, failed from stats_daily
       where instance = ? and day >= ?::date and day <= ?::date order by day`,
      [instance, from.toISOString().slice(0, 10), to.toISOString().slice(0, 10)],
    );
    return {
      instance,
      resolution: query.resolution,
      from: from.toISOString(),
      to: to.toISOString(),
      points,
      queues,
      drain: drainEstimates(queues),
      daily: daily.map((d) => ({
        day: d.day,
        processed: Number(d.processed),
        failed: Number(d.failed),
      })),
    };
  }
}

/** Per queue: the rate it shrank between its last two known points, and the time to empty. */
export function drainEstimates(
  queues: Record<string, QueuePoint[]>,
): Record<string, DrainEstimate> {
  const out: Record<string, DrainEstimate> = {};
  for (const [name, series] of Object.entries(queues)) {
    const known = series.filter((p) => p.size !== null);
    const last = known.at(-1);
    const before = known.at(-2);
    if (!last) {
      continue;
    }
    const size = last.size!;
    let rate: number | null = null;
    if (before) {
      const seconds = (Date.parse(last.at) - Date.parse(before.at)) / 1000;
      const shrink = before.size! - size;
      rate = shrink > 0 && seconds > 0 ? shrink / seconds : null;
    }
    out[name] = {
      size,
      rate_per_second: rate,
      eta_seconds: size === 0 ? 0 : rate ? size / rate : null,
    };
  }
  return out;
}
