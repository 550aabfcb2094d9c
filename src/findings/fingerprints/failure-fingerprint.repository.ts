import { EntityRepository } from '@mikro-orm/postgresql';
import { bindNumbered } from '../../database/bind-numbered.js';
import type { FingerprintDelta, HourDelta } from './aggregate.js';
import type { FailureFingerprint } from './failure-fingerprint.entity.js';
import { MAX_CLASSES } from './fingerprint.js';

/** Where the scan of job_events is (FailureScan): see FingerprintsService. */
export interface ScanState {
  lastId: string;
  pending: { at: number; id: string }[];
}

/** An instance's latest deploy mark. */
export interface DeployMark {
  instance: string;
  revision: string;
  deployedAt: Date;
}

export interface FingerprintRow {
  instance: string;
  fingerprint: string;
  errorClass: string;
  message: string;
  frame: string | null;
  firstSeenAt: Date;
  lastSeenAt: Date;
  count: number;
  jobClasses: string[];
  jobClassesTruncated: boolean;
  sampleJid: string;
  sampleMessage: string | null;
}

export interface FingerprintQuery {
  instance?: string;
  jobClass?: string;
  errorClass?: string;
  /** last seen at or after */
  since?: Date;
  sort: 'last_seen' | 'count';
  limit: number;
  offset: number;
}

const columns = (f: string) => `${f}.instance, ${f}.fingerprint, ${f}.error_class as "errorClass",
  ${f}.message, ${f}.frame, ${f}.first_seen_at as "firstSeenAt", ${f}.last_seen_at as "lastSeenAt",
  ${f}.count::text as count, ${f}.job_classes as "jobClasses",
  ${f}.job_classes_truncated as "jobClassesTruncated", ${f}.sample_jid as "sampleJid",
  ${f}.sample_message as "sampleMessage"`;

// A batch's groups added to the stored ones: counts add up, first and last seen widen, the
// classes are united (at most MAX_CLASSES kept), the sample is the latest failure's
const RECORD_SQL = `
insert into failure_fingerprints as f (instance, fingerprint, error_class, message, frame,
  first_seen_at, last_seen_at, count, job_classes, job_classes_truncated, sample_jid, sample_message)
select instance, fingerprint, error_class, message, frame, first_seen_at, last_seen_at, count,
  job_classes, job_classes_truncated, sample_jid, sample_message
from jsonb_to_recordset(?::jsonb) as r(instance text, fingerprint text, error_class text,
  message text, frame text, first_seen_at timestamptz, last_seen_at timestamptz, count int8,
  job_classes text[], job_classes_truncated boolean, sample_jid text, sample_message text)
on conflict (instance, fingerprint) do update set
  first_seen_at = least(f.first_seen_at, excluded.first_seen_at),
  last_seen_at = greatest(f.last_seen_at, excluded.last_seen_at),
  count = f.count + excluded.count,
  job_classes = array(select distinct c from unnest(f.job_classes || excluded.job_classes) c
    order by c limit ${MAX_CLASSES}),
  job_classes_truncated = f.job_classes_truncated or excluded.job_classes_truncated
    or (select count(distinct c) from unnest(f.job_classes || excluded.job_classes) c) > ${MAX_CLASSES},
  sample_jid = case when excluded.last_seen_at >= f.last_seen_at
    then excluded.sample_jid else f.sample_jid end,
  sample_message = case when excluded.last_seen_at >= f.last_seen_at
    then excluded.sample_message else f.sample_message end`;

const RECORD_HOURS_SQL = `
insert into failure_fingerprint_hours as h (instance, fingerprint, hour, count)
select instance, fingerprint, hour, count
from jsonb_to_recordset(?::jsonb) as r(instance text, fingerprint text, hour timestamptz, count int)
on conflict (instance, fingerprint, hour) do update set count = h.count + excluded.count`;

const MARKS = `jsonb_to_recordset(?::jsonb) as m(instance text, revision text, deployed_at timestamptz)`;

// timestamps come as Postgres prints them (the driver's parser is off), counts as text
interface RawRow extends Omit<FingerprintRow, 'count' | 'firstSeenAt' | 'lastSeenAt'> {
  count: string;
  firstSeenAt: string;
  lastSeenAt: string;
}

const toRow = (r: RawRow): FingerprintRow => ({
  ...r,
  firstSeenAt: new Date(r.firstSeenAt),
  lastSeenAt: new Date(r.lastSeenAt),
  count: Number(r.count),
});

/** failure_fingerprints, their hourly counts (failure_fingerprint_hours) and the scan's place (failure_scan). */
export class FailureFingerprintRepository extends EntityRepository<FailureFingerprint> {
  async scanState(): Promise<ScanState | null> {
    const [row] = await this.em.execute<{ lastId: string; pending: ScanState['pending'] }[]>(
      'select last_id::text as "lastId", pending from failure_scan where id = 1',
    );
    return row ?? null;
  }

  async saveScanState(state: ScanState): Promise<void> {
    await this.em.execute(
      `insert into failure_scan (id, last_id, pending) values (1, ?, ?::jsonb)
       on conflict (id) do update set last_id = excluded.last_id, pending = excluded.pending`,
      [state.lastId, JSON.stringify(state.pending)],
    );
  }

  /**
   * The database's clock and when the oldest other running transaction of this database began
   * (epoch ms; null when none runs). Sessions of other roles show no start without
   * pg_read_all_stats: the service's own (the ingest writer's) always do.
   */
  async transactionClock(): Promise<{ now: number; oldestOther: number | null }> {
    const [row] = await this.em.execute<{ now: number; oldest: number | null }[]>(
      `select (extract(epoch from clock_timestamp()) * 1000)::float8 as now,
         (select (extract(epoch from min(xact_start)) * 1000)::float8 from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid()
            and backend_type = 'client backend' and xact_start is not null) as oldest`,
    );
    return { now: Number(row.now), oldestOther: row.oldest === null ? null : Number(row.oldest) };
  }

  async record(fingerprints: FingerprintDelta[], hours: HourDelta[]): Promise<void> {
    if (fingerprints.length > 0) {
      await this.em.execute(RECORD_SQL, [
        JSON.stringify(
          fingerprints.map((f) => ({
            instance: f.instance,
            fingerprint: f.fingerprint,
            error_class: f.errorClass,
            message: f.message,
            frame: f.frame,
            first_seen_at: f.firstSeenAt.toISOString(),
            last_seen_at: f.lastSeenAt.toISOString(),
            count: f.count,
            job_classes: f.jobClasses,
            job_classes_truncated: f.jobClassesTruncated,
            sample_jid: f.sampleJid,
            sample_message: f.sampleMessage,
          })),
        ),
      ]);
    }
    if (hours.length > 0) {
      await this.em.execute(RECORD_HOURS_SQL, [
        JSON.stringify(
          hours.map((h) => ({
            instance: h.instance,
            fingerprint: h.fingerprint,
            hour: h.hour.toISOString(),
            count: h.count,
          })),
        ),
      ]);
    }
  }

  async page(query: FingerprintQuery): Promise<FingerprintRow[]> {
    const order =
      query.sort === 'count'
        ? 'count desc, last_seen_at desc, instance, fingerprint'
        : 'last_seen_at desc, instance, fingerprint';
    const rows = await this.em.execute<RawRow[]>(
      ...bindNumbered(
        `select ${columns('f')} from failure_fingerprints f
         where ($1::text is null or instance = $1)
           and ($2::text is null or $2 = any(job_classes))
           and ($3::text is null or error_class = $3)
           and ($4::timestamptz is null or last_seen_at >= $4)
         order by ${order} limit $5 offset $6`,
        [
          query.instance ?? null,
          query.jobClass ?? null,
          query.errorClass ?? null,
          query.since?.toISOString() ?? null,
          query.limit,
          query.offset,
        ],
      ),
    );
    return rows.map(toRow);
  }

  /** The fingerprint in this instance, or in any (the one seen last) when none is named. */
  async one(fingerprint: string, instance: string | null): Promise<FingerprintRow | null> {
    const [row] = await this.em.execute<RawRow[]>(
      ...bindNumbered(
        `select ${columns('f')} from failure_fingerprints f
         where fingerprint = $1 and ($2::text is null or instance = $2)
         order by last_seen_at desc limit 1`,
        [fingerprint, instance],
      ),
    );
    return row ? toRow(row) : null;
  }

  /** Failures per hour since `from` of these fingerprints. */
  async hourly(
    keys: { instance: string; fingerprint: string }[],
    from: Date,
  ): Promise<{ instance: string; fingerprint: string; hour: Date; count: number }[]> {
    if (keys.length === 0) {
      return [];
    }
    const rows = await this.em.execute<
      { instance: string; fingerprint: string; hour: string; count: number }[]
    >(
      `select h.instance, h.fingerprint, h.hour, h.count from failure_fingerprint_hours h
       join jsonb_to_recordset(?::jsonb) as k(instance text, fingerprint text)
         on k.instance = h.instance and k.fingerprint = h.fingerprint
       where h.hour >= ? order by h.hour`,
      [JSON.stringify(keys), from.toISOString()],
    );
    return rows.map((r) => ({ ...r, hour: new Date(r.hour) }));
  }

  /** Fingerprints first seen after their instance's deploy mark and seen since `seenSince`. */
  async newSince(
    marks: DeployMark[],
    seenSince: Date,
    limit: number,
  ): Promise<(FingerprintRow & { revision: string; deployedAt: Date })[]> {
    if (marks.length === 0) {
      return [];
    }
    const rows = await this.em.execute<(RawRow & { revision: string; deployedAt: string })[]>(
      `select ${columns('f')}, m.revision,
         m.deployed_at as "deployedAt"
       from failure_fingerprints f join ${MARKS} on m.instance = f.instance
       where f.first_seen_at > m.deployed_at and f.last_seen_at >= ?
       order by f.last_seen_at desc limit ?`,
      [marksJson(marks), seenSince.toISOString(), limit],
    );
    return rows.map((r) => ({
      ...toRow(r),
      revision: r.revision,
      deployedAt: new Date(r.deployedAt),
    }));
  }

  /** Per instance with a deploy mark: fingerprints first seen after it. */
  async countNewSince(marks: DeployMark[]): Promise<Map<string, number>> {
    if (marks.length === 0) {
      return new Map();
    }
    const rows = await this.em.execute<{ instance: string; n: string }[]>(
      `select m.instance, count(f.fingerprint)::text as n
       from ${MARKS} left join failure_fingerprints f
         on f.instance = m.instance and f.first_seen_at > m.deployed_at
       group by m.instance`,
      [marksJson(marks)],
    );
    return new Map(rows.map((r) => [r.instance, Number(r.n)]));
  }

  /** Retention: hours before `hoursBefore`, fingerprints last seen before `seenBefore`; at most `limit` rows each. */
  async prune(hoursBefore: Date, seenBefore: Date, limit: number): Promise<number> {
    const hours = await this.em.execute<{ n: string }[]>(
      `with gone as (delete from failure_fingerprint_hours where ctid in (
         select ctid from failure_fingerprint_hours where hour < ? limit ?) returning 1)
       select count(*)::text as n from gone`,
      [hoursBefore.toISOString(), limit],
    );
    const fingerprints = await this.em.execute<{ n: string }[]>(
      `with gone as (delete from failure_fingerprints where ctid in (
         select ctid from failure_fingerprints where last_seen_at < ? limit ?) returning 1)
       select count(*)::text as n from gone`,
      [seenBefore.toISOString(), limit],
    );
    return Number(hours[0]?.n ?? 0) + Number(fingerprints[0]?.n ?? 0);
  }
}

function marksJson(marks: DeployMark[]): string {
  return JSON.stringify(
    marks.map((m) => ({
      instance: m.instance,
      revision: m.revision,
      deployed_at: m.deployedAt.toISOString(),
    })),
  );
}
