import { type EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';
import { DomainError } from '../common/errors/domain-error.js';
import { AppConfig } from '../config/app-config.js';
import { type AdvisoryLock, tryAdvisoryXactLock } from '../database/advisory-locks.js';
import { QueuesService } from '../sidekiq/queues/queues.service.js';
import { StatsService } from '../sidekiq/stats/stats.service.js';
import { RedisRegistry } from '../redis/redis.module.js';
import { invalid } from '../common/validation/invalid.js';
import { StatsDaily } from './stats-daily.entity.js';
import { StatsDailyRepository } from './stats-daily.repository.js';
import { StatsSnapshot } from './stats-snapshot.entity.js';
import { StatsSnapshotRepository, type SnapshotRow } from './stats-snapshot.repository.js';

export type Resolution = 'minute' | 'hour' | 'day';
const STEP_MS: Record<Resolution, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const MAX_POINTS = 2000;

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

/** Snapshots of Sidekiq's stats into Postgres, Sidekiq's daily counters, retention, queries. */
@Injectable()
export class StatsHistoryService {
  private readonly logger = new Logger(StatsHistoryService.name);

  constructor(
    private readonly orm: MikroORM,
    private readonly snapshots: StatsSnapshotRepository,
    private readonly daily: StatsDailyRepository,
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
    return this.locked('statsSnapshot', async (em) => {
      const instances: TickResult['instances'] = {};
      for (const name of this.registry.instanceNames) {
        try {
          const [stats, queues] = await Promise.all([
            this.stats.stats(name),
            this.queues.list(name),
          ]);
          const written = await em.getRepository(StatsSnapshot).insertIfNew({
            instance: name,
            takenAt,
            processed: stats.processed,
            failed: stats.failed,
            enqueued: stats.enqueued,
            scheduled: stats.scheduled_size,
            retry: stats.retry_size,
            dead: stats.dead_size,
            busy: stats.workers_size,
            processes: stats.processes_size,
            defaultLatency: stats.default_queue_latency,
            queues: Object.fromEntries(
              queues.map((q) => [q.name, { size: q.size, latency: q.latency }]),
            ),
          });
          instances[name] = written ? 'written' : 'exists';
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
    return this.locked('statsImport', async (em) => {
      const instances: TickResult['instances'] = {};
      for (const name of this.registry.instanceNames) {
        try {
          const history = await this.stats.history(name, days, start);
          await em.getRepository(StatsDaily).upsertKeepingMax(
            name,
            Object.keys(history.processed).map((day) => ({
              day,
              processed: history.processed[day] ?? 0,
              failed: history.failed[day] ?? 0,
            })),
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

  /**
   * Deletes snapshots older than the retention period, in bounded batches, each under the
   * retention lock; stops when another copy of the service holds it.
   */
  async pruneSnapshots(now: Date): Promise<number> {
    const cutoff = new Date(now.getTime() - this.config.retention.snapshotDays * 86_400_000);
    let total = 0;
    for (;;) {
      const n = await this.orm.em
        .fork()
        .transactional(async (em) =>
          (await tryAdvisoryXactLock(em, 'retention'))
            ? em.getRepository(StatsSnapshot).deleteOldest(cutoff, this.config.retention.batch)
            : null,
        );
      total += n ?? 0;
      if (n === null || n < this.config.retention.batch) {
        return total;
      }
    }
  }

  /** Runs `work` in a transaction that holds `lock`; does nothing when another copy holds it. */
  private async locked(
    lock: AdvisoryLock,
    work: (em: EntityManager) => Promise<TickResult['instances']>,
  ): Promise<TickResult> {
    return this.orm.em.fork().transactional(async (em) => {
      if (!(await tryAdvisoryXactLock(em, lock))) {
        return { ran: false, instances: {} };
      }
      return { ran: true, instances: await work(em) };
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
    const rows = await this.snapshots.lastPerBucket(instance, from, to, step / 1000);
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
    const daily = await this.daily.between(
      instance,
      from.toISOString().slice(0, 10),
      to.toISOString().slice(0, 10),
    );
    return {
      instance,
      resolution: query.resolution,
      from: from.toISOString(),
      to: to.toISOString(),
      points,
      queues,
      drain: drainEstimates(queues),
      daily,
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
