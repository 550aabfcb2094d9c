import { EntityRepository } from '@mikro-orm/postgresql';
import type { JobStatusData } from './job-status-data.entity.js';

/** A job's status data as read: bigints as text (exact), the change time as epoch seconds. */
export interface StatusDataRow {
  instance: string;
  jid: string;
  at: string | null;
  total: string | null;
  message: string | null;
  data: Record<string, unknown>;
  /** epoch seconds with microseconds */
  updatedEpoch: number;
}

export interface DataLimits {
  keys: number;
  bytes: number;
}

export class JobStatusDataRepository extends EntityRepository<JobStatusData> {
  /** The rows of these jids, in one instance or all. */
  findByJids(jids: string[], instance: string | null): Promise<StatusDataRow[]> {
    return this.em.execute<StatusDataRow[]>(
      `select instance, jid, at::text as at, total::text as total, message, data,
         extract(epoch from updated_at)::float8 as "updatedEpoch"
       from job_status_data where jid in (select jsonb_array_elements_text(?::jsonb))
         and (?::text is null or instance = ?)`,
      [JSON.stringify(jids), instance, instance],
    );
  }

  /** sidekiq-status's `at` / `total` (null keeps what was stored); `message` goes with `at`. */
  async saveProgress(
    instance: string,
    jid: string,
    progress: { at: number | null; total: number | null; message: string | null },
  ): Promise<void> {
    await this.em.execute(
      `insert into job_status_data (instance, jid, at, total, message, updated_at)
       values (?, ?, ?, ?, ?, now())
       on conflict (instance, jid) do update set
         at = coalesce(excluded.at, job_status_data.at),
         total = coalesce(excluded.total, job_status_data.total),
         message = case when ? then excluded.message else job_status_data.message end,
         updated_at = now()`,
      [instance, jid, progress.at, progress.total, progress.message, progress.at !== null],
    );
  }

  /**
   * Merges `data` into the job's (a null value removes its key) when the result stays within
   * `limits`; returns the stored data, or null when it would not fit (nothing changed).
   */
  async mergeData(
    instance: string,
    jid: string,
    data: Record<string, unknown>,
    limits: DataLimits,
  ): Promise<Record<string, unknown> | null> {
    const merged = `jsonb_strip_nulls(coalesce(job_status_data.data, '{}') || ?::jsonb)`;
    const fits = (expr: string) =>
      `octet_length((${expr})::text) <= ${limits.bytes}
       and (select count(*) from jsonb_object_keys(${expr})) <= ${limits.keys}`;
    const json = JSON.stringify(data);
    const rows = await this.em.execute<{ data: Record<string, unknown> }[]>(
      `insert into job_status_data (instance, jid, data, updated_at)
       select ?, ?, d, now() from (select jsonb_strip_nulls(?::jsonb) as d) s
       where ${fits('s.d')}
       on conflict (instance, jid) do update set data = ${merged}, updated_at = now()
       where ${fits(merged)}
       returning data`,
      [instance, jid, json, json, json, json],
    );
    return rows[0]?.data ?? null;
  }

  /** The job's custom data ({} when none). */
  async dataOf(instance: string, jid: string): Promise<Record<string, unknown>> {
    const rows = await this.em.execute<{ data: Record<string, unknown> }[]>(
      'select data from job_status_data where instance = ? and jid = ?',
      [instance, jid],
    );
    return rows[0]?.data ?? {};
  }

  /** Rows unchanged since before `cutoff`, oldest first, after the row `after` in that order. */
  staleSince(
    cutoff: Date,
    limit: number,
    after?: { updatedAt: string; instance: string; jid: string },
  ): Promise<{ instance: string; jid: string; updatedAt: string }[]> {
    return this.em.execute(
      `select instance, jid, updated_at::text as "updatedAt" from job_status_data
       where updated_at < ?
         and (?::timestamptz is null or (updated_at, instance, jid) > (?::timestamptz, ?, ?))
       order by updated_at, instance, jid limit ?`,
      [
        cutoff,
        after?.updatedAt ?? null,
        after?.updatedAt ?? null,
        after?.instance ?? null,
        after?.jid ?? null,
        limit,
      ],
    );
  }

  /** Deletes these rows unless they changed since `cutoff`; returns how many went. */
  async deleteStale(keys: { instance: string; jid: string }[], cutoff: Date): Promise<number> {
    if (keys.length === 0) {
      return 0;
    }
    const rows = await this.em.execute<{ n: number }[]>(
      `with gone as (
         delete from job_status_data d using jsonb_to_recordset(?::jsonb) as k(instance text, jid text)
         where d.instance = k.instance and d.jid = k.jid and d.updated_at < ?
         returning 1)
       select count(*)::int as n from gone`,
      [JSON.stringify(keys), cutoff],
    );
    return rows[0]?.n ?? 0;
  }
}
