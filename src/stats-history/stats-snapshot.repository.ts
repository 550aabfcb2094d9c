import { EntityRepository } from '@mikro-orm/postgresql';
import type { StatsSnapshot } from './stats-snapshot.entity.js';

export interface SnapshotValues {
  instance: string;
  takenAt: Date;
  processed: number;
  failed: number;
  enqueued: number;
  scheduled: number;
  retry: number;
  dead: number;
  busy: number;
  processes: number;
  defaultLatency: number;
  queues: Record<string, { size: number; latency: number }>;
}

/** A bucket's last snapshot; counters are bigints, as text. */
export interface SnapshotRow {
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

export class StatsSnapshotRepository extends EntityRepository<StatsSnapshot> {
  /** Stores the snapshot unless the instance has one for that minute; true when stored. */
  async insertIfNew(s: SnapshotValues): Promise<boolean> {
    const rows = await this.em.execute<{ id: string }[]>(
      `insert into stats_snapshots (instance, taken_at, processed, failed, enqueued, scheduled,
         retry, dead, busy, processes, default_latency, queues)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)
       on conflict (instance, taken_at) do nothing returning id`,
      [
        s.instance,
        s.takenAt.toISOString(),
        s.processed,
        s.failed,
        s.enqueued,
        s.scheduled,
        s.retry,
        s.dead,
        s.busy,
        s.processes,
        s.defaultLatency,
        JSON.stringify(s.queues),
      ],
    );
    return rows.length > 0;
  }

  /** Deletes up to `limit` of the oldest snapshots taken before `cutoff`; returns how many. */
  async deleteOldest(cutoff: Date, limit: number): Promise<number> {
    const rows = await this.em.execute<{ id: string }[]>(
      `delete from stats_snapshots where id in (
         select id from stats_snapshots where taken_at < ? order by taken_at limit ?
       ) returning id`,
      [cutoff.toISOString(), limit],
    );
    return rows.length;
  }

  /** The last snapshot of each `stepSeconds` bucket from `from` (aligned there) until `to`. */
  lastPerBucket(
    instance: string,
    from: Date,
    to: Date,
    stepSeconds: number,
  ): Promise<SnapshotRow[]> {
    return this.em.execute<SnapshotRow[]>(
      `select distinct on (bucket) date_bin(?::interval, taken_at, ?::timestamptz) as bucket,
         processed, failed, enqueued, scheduled, retry, dead, busy, processes, queues
       from stats_snapshots
       where instance = ? and taken_at >= ? and taken_at < ?
       order by bucket, taken_at desc`,
      [
        `${stepSeconds} seconds`,
        from.toISOString(),
        instance,
        from.toISOString(),
        to.toISOString(),
      ],
    );
  }
}
