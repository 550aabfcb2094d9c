import { EntityRepository } from '@mikro-orm/postgresql';
import type { StatsDaily } from './stats-daily.entity.js';

export interface DailyCounts {
  /** YYYY-MM-DD */
  day: string;
  processed: number;
  failed: number;
}

export class StatsDailyRepository extends EntityRepository<StatsDaily> {
  /** Stores each day's counters, keeping the larger of the stored and the given value. */
  async upsertKeepingMax(instance: string, days: DailyCounts[]): Promise<void> {
    await this.em.execute(
      `insert into stats_daily (instance, day, processed, failed)
       select ?, d, p, f from json_to_recordset(?::json) as x(d date, p int8, f int8)
       on conflict (instance, day) do update set
         processed = greatest(stats_daily.processed, excluded.processed),
         failed = greatest(stats_daily.failed, excluded.failed),
         imported_at = now()`,
      [instance, JSON.stringify(days.map((d) => ({ d: d.day, p: d.processed, f: d.failed })))],
    );
  }

  /** The days from `fromDay` to `toDay` (YYYY-MM-DD, both included), in order. */
  async between(instance: string, fromDay: string, toDay: string): Promise<DailyCounts[]> {
    const rows = await this.em.execute<{ day: string; processed: string; failed: string }[]>(
      `select to_char(day, 'YYYY-MM-DD') as day, processed, failed from stats_daily
       where instance = ? and day >= ?::date and day <= ?::date order by day`,
      [instance, fromDay, toDay],
    );
    return rows.map((d) => ({
      day: d.day,
      processed: Number(d.processed),
      failed: Number(d.failed),
    }));
  }
}
