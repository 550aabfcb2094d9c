import { EntityRepository } from '@mikro-orm/postgresql';
import { bindNumbered } from '../database/bind-numbered.js';
import { JobEvent } from './job-event.entity.js';
import type { Job } from './job.entity.js';
import type { JobKey } from './job.repository.js';

/** Events of one job's timeline per page. */
export const TIMELINE_PAGE = 1000;

/** A stored lifecycle event with what metrics need from its job. */
export interface LifecycleEventRow {
  id: string;
  instance: string;
  type: string;
  jobClass: string | null;
  queue: string | null;
  /** started events: seconds from enqueue to this start */
  waitSeconds: number | null;
  /** succeeded and failed events: seconds the run took */
  runSeconds: number | null;
}

/**
 * A stored row as the events it stands for, in order (`part`): the run's start when the row ends a
 * run and carries its started_at (part 0), then the row's own event (part 1).
 */
const EXPAND = `select 0 as part, 'started'::text as type, e.started_at as occurred_at
  where e.started_at is not null
  union all select 1, e.type, e.occurred_at`;

// Events after a high-water mark id, plus ids that were missing below it (transactions commit
// out of id order). The job row and the run's started event give class, queue and times that a
// bare "succeeded" event does not carry: the one read of `jobs` outside JobRepository, a join in
// the same module that a second round trip per page would only slow. Ids are found through each
// partition's BRIN index on id (ids follow the order rows are written in).
// A row that ends a run with its start (started_at) counts as both events.
const EVENTS_SQL = `
select e.id::text as id, j.instance, x.type, j.job_class, j.queue,
  case when x.type = 'started' then
    extract(epoch from x.occurred_at - coalesce(e.enqueued_at, j.enqueued_at)) end as wait_s,
  case when x.type in ('succeeded', 'failed') then
    coalesce(e.duration_ms / 1000.0, extract(epoch from e.occurred_at - coalesce(e.started_at, s.occurred_at)))
  end as run_s
from job_events e
join jobs j on j.id = e.job_id
cross join lateral (${EXPAND}) x
left join lateral (
  select x.occurred_at from job_events x
  where x.job_id = e.job_id and x.type = 'started' and x.attempt = e.attempt
    and x.received_at >= j.first_received_at and x.received_at <= j.updated_at
    and e.type in ('succeeded', 'failed') and e.duration_ms is null and e.started_at is null
  order by x.occurred_at desc limit 1
) s on true
where e.id = any($1::int8[])
order by e.id, x.part
`;

// ordered by the bigint column, not the text alias
const IDS_AFTER_SQL = `select e.id::text as id from job_events e where e.id > $1 order by e.id limit $2`;

// The newest event's id: looked for among the last million ids the sequence gave (BRIN ranges),
// the whole table only when none of those is stored
const MAX_ID_SQL = `
select coalesce(
  (select max(e.id) from job_events e, job_events_id_seq s where e.id > s.last_value - 1000000),
  (select max(id) from job_events), 0)::text as id
`;

interface EventRaw {
  id: string;
  instance: string;
  type: string;
  job_class: string | null;
  queue: string | null;
  wait_s: number | string | null;
  run_s: number | string | null;
}

const num = (v: number | string | null | undefined): number | null =>
  v === null || v === undefined ? null : Number(v);

/** The job row's fields that place its events: its id and the span its events were received in. */
export type EventSpan = Pick<Job, 'id' | 'firstReceivedAt' | 'updatedAt'>;

/** Where an event is in its job's timeline: its row's id and which of the row's events (EXPAND). */
export interface EventPosition {
  id: string;
  part: number;
}

/** A timeline event: a stored row, or the run's start it carries (part 0). */
export type TimelineEvent = JobEvent & { part: number };

// A job's events in its span, each row as the events it stands for: the run's start a row carries
// has the row's worker fields and none of its outcome.
const TIMELINE_SQL = `
select e.id, e.job_id, x.part, x.type, x.occurred_at, x.part = 0 or e.client_time as client_time,
  e.received_at, e.attempt, e.retry_count, e.enqueued_at, e.created_at, e.scheduled_at, e.hostname,
  e.pid, e.tid,
  case when x.part = 1 then e.error_class end as error_class,
  case when x.part = 1 then e.error_message end as error_message,
  case when x.part = 1 then e.error_backtrace end as error_backtrace,
  case when x.part = 1 then e.will_retry end as will_retry,
  case when x.part = 1 then e.duration_ms end as duration_ms,
  null::timestamptz as started_at, e.restarted_as, e.restarted_from
from job_events e cross join lateral (${EXPAND}) x
where e.job_id = ? and e.received_at >= ?::timestamptz and e.received_at <= ?::timestamptz`;

/** A failure as the fingerprints read it: the event's error with its job's identity. */
export interface FailureEventRow {
  id: string;
  instance: string;
  jid: string;
  jobClass: string | null;
  occurredAt: Date;
  errorClass: string;
  /** the first FAILURE_MESSAGE_READ characters */
  errorMessage: string | null;
  /** the first FAILURE_FRAMES_READ lines */
  backtrace: string[] | null;
}

export const FAILURE_MESSAGE_READ = 4000;
export const FAILURE_FRAMES_READ = 60;

// Failure events with ids in ($1, $2] (the BRIN index on id narrows each partition to the range).
// One failed run reports up to three events (failed, then retrying or dead: the same attempt), so
// a run counts once, by its first such event; the others of the run are looked up by job, within
// the job's span (partition pruning).
const FAILURES_SQL = `
select e.id::text as id, j.instance, j.jid, j.job_class, e.occurred_at, e.error_class,
  left(e.error_message, ${FAILURE_MESSAGE_READ}) as error_message,
  case when jsonb_typeof(e.error_backtrace) = 'array'
    then jsonb_path_query_array(e.error_backtrace, '$[0 to ${FAILURE_FRAMES_READ - 1}]') end as backtrace
from job_events e
join jobs j on j.id = e.job_id
where e.id > $1 and e.id <= $2
  and e.type in ('failed', 'retrying', 'dead') and e.error_class is not null
  and not exists (
    select 1 from job_events p
    where p.job_id = e.job_id and p.attempt = e.attempt and p.id < e.id
      and p.type in ('failed', 'retrying', 'dead') and p.error_class is not null
      and p.received_at >= j.first_received_at and p.received_at <= j.updated_at)
order by e.id
`;

// the last id the sequence handed out (events up to it are stored or on their way)
const LAST_ISSUED_SQL = `select case when is_called then last_value else last_value - 1 end::text as id
  from job_events_id_seq`;

interface FailureRaw {
  id: string;
  instance: string;
  jid: string;
  job_class: string | null;
  occurred_at: Date | string;
  error_class: string;
  error_message: string | null;
  backtrace: unknown;
}
/** A start or end of a run of a recently active job, as the duplicate detector reads it. */
export interface RunEventRow {
  jobId: string;
  instance: string;
  jid: string;
  jobClass: string | null;
  lastEventAt: Date;
  type: string;
  attempt: number;
  occurredAt: Date;
  hostname: string | null;
  pid: number | null;
  tid: string | null;
}

// The starts and ends of runs of (a) jobs active since $1 that may hold a second start, and (b)
// the jobs named in $2 (the open duplicate findings, kept until their job goes quiet). A job
// with one run stores at most 3 events (queued, started, its end); a second start makes a
// running job's third event or a finished job's fourth, so the filter drops almost every job
// before its events are read. Each job's events are read from the partitions of its own span.
const RUN_EVENTS_SQL = `
with recent as (
  (select id, instance, jid, job_class, last_event_at, first_received_at, updated_at
   from jobs
   where last_event_at >= $1 and (event_count >= 4 or (event_count = 3 and status = 'running'))
   limit $3)
  union
  select j.id, j.instance, j.jid, j.job_class, j.last_event_at, j.first_received_at, j.updated_at
  from jsonb_to_recordset($2::jsonb) as k(instance text, jid text)
  join jobs j on j.instance = k.instance and j.jid = k.jid
)
select r.id::text as job_id, r.instance, r.jid, r.job_class, r.last_event_at, x.type, e.attempt,
  x.occurred_at, e.hostname, e.pid, e.tid
from recent r
join job_events e on e.job_id = r.id
  and e.received_at >= r.first_received_at and e.received_at <= r.updated_at
cross join lateral (${EXPAND}) x
where e.type in ('started', 'succeeded', 'failed', 'interrupted', 'retrying', 'dead')
order by r.id, e.attempt, x.occurred_at, e.id, x.part`;

/** job_events: append-only; written by the ingest writer, read here. */
export class JobEventRepository extends EntityRepository<JobEvent> {
  /**
   * One page of a job's events, oldest first, after the event `afterId` (in that order). Only the
   * partitions received in the job's span are read.
   */
  async timeline(job: EventSpan, after?: EventPosition): Promise<TimelineEvent[]> {
    const params: unknown[] = [job.id, ...span(job)];
    let page = '';
    if (after) {
      // in SQL: occurred_at has microseconds, a JS Date only milliseconds
      page = `and (x.occurred_at, e.attempt, e.id, x.part) > (
        select case when ?::int = 0 then y.started_at else y.occurred_at end, y.attempt, y.id, ?::int
        from job_events y where y.id = ? and y.job_id = ?
          and y.received_at >= ?::timestamptz and y.received_at <= ?::timestamptz)`;
      params.push(after.part, after.part, after.id, job.id, ...span(job));
    }
    const rows = await this.em.execute<Record<string, unknown>[]>(
      `${TIMELINE_SQL} ${page}
       order by x.occurred_at, e.attempt, e.id, x.part limit ${TIMELINE_PAGE + 1}`,
      params,
    );
    // a copy of each: the identity map holds one entity per id, and a row's start and end share it
    return rows.map((row) => ({
      ...(this.em.map(JobEvent, row) as JobEvent),
      part: Number(row.part),
    }));
  }

  /**
   * Of these jobs, those pushed again after their run started: a `queued` event of their current
   * attempt later than its start (the run's own events stay `running` in the fold, which ranks
   * queued before started). Only the partitions received in each job's span are read.
   */
  async queuedAgain(keys: readonly JobKey[]): Promise<JobKey[]> {
    if (keys.length === 0) {
      return [];
    }
    return this.em.execute<JobKey[]>(
      `select j.instance, j.jid from jobs j
       where (j.instance, j.jid) in (
           select instance, jid from json_to_recordset(?::json) as k(instance text, jid text))
         and j.started_at is not null
         and exists (select 1 from job_events e
           where e.job_id = j.id and e.attempt = j.attempt and e.type = 'queued'
             and e.occurred_at > j.started_at
             and e.received_at >= j.first_received_at
             and e.received_at <= j.updated_at + interval '1 millisecond')`,
      [JSON.stringify(keys)],
    );
  }

  /** How many of the job's events are still stored (the rest expired with their partitions). */
  async storedCount(job: EventSpan): Promise<number> {
    const [row] = await this.em.execute<{ n: string }[]>(
      `select (count(*) + count(started_at))::text as n from job_events
       where job_id = ? and received_at >= ?::timestamptz and received_at <= ?::timestamptz`,
      [job.id, ...span(job)],
    );
    return Number(row?.n ?? 0);
  }

  async maxId(): Promise<string> {
    const [row] = await this.em.getConnection().execute<{ id: string }[]>(MAX_ID_SQL);
    return row?.id ?? '0';
  }
  /** Ids of events after `afterId`, oldest first (primary key range scan). */
  async idsAfter(afterId: string, limit: number): Promise<string[]> {
    const rows = await this.em
      .getConnection()
      .execute<{ id: string }[]>(...bindNumbered(IDS_AFTER_SQL, [afterId, limit]));
    return rows.map((r) => r.id);
  }

  /**
   * Run starts and ends of jobs active since `since` (at most `limit` such jobs) and of `keep`;
   * in order per job, attempt and time.
   */
  async runEvents(since: Date, keep: JobKey[], limit: number): Promise<RunEventRow[]> {
    const rows = await this.em
      .getConnection()
      .execute<Record<string, unknown>[]>(
        ...bindNumbered(RUN_EVENTS_SQL, [
          since.toISOString(),
          JSON.stringify(keep.map((k) => ({ instance: k.instance, jid: k.jid }))),
          limit,
        ]),
      );
    return rows.map((r) => ({
      jobId: r.job_id as string,
      instance: r.instance as string,
      jid: r.jid as string,
      jobClass: r.job_class as string | null,
      lastEventAt: new Date(r.last_event_at as string),
      type: r.type as string,
      attempt: Number(r.attempt),
      occurredAt: new Date(r.occurred_at as string),
      hostname: r.hostname as string | null,
      pid: r.pid === null ? null : Number(r.pid),
      tid: r.tid as string | null,
    }));
  }

  /** The events with these ids (those that exist), with their job's class, queue and times. */
  async lifecycleEvents(ids: string[]): Promise<LifecycleEventRow[]> {
    if (ids.length === 0) {
      return [];
    }
    const rows = await this.em
      .getConnection()
      .execute<EventRaw[]>(...bindNumbered(EVENTS_SQL, [`{${ids.join(',')}}`]));
    return rows.map((r) => ({
      id: r.id,
      instance: r.instance,
      type: r.type,
      jobClass: r.job_class,
      queue: r.queue,
      waitSeconds: num(r.wait_s),
      runSeconds: num(r.run_s),
    }));
  }

  /** The last event id handed out by the sequence (its transaction may not have committed yet). */
  async lastIssuedId(): Promise<string> {
    const [row] = await this.em.getConnection().execute<{ id: string }[]>(LAST_ISSUED_SQL);
    return row?.id ?? '0';
  }

  /** Failure events with an error class and ids in (afterId, upToId], each failed run once. */
  async failuresBetween(afterId: string, upToId: string): Promise<FailureEventRow[]> {
    const rows = await this.em
      .getConnection()
      .execute<FailureRaw[]>(...bindNumbered(FAILURES_SQL, [afterId, upToId]));
    return rows.map((r) => ({
      id: r.id,
      instance: r.instance,
      jid: r.jid,
      jobClass: r.job_class,
      occurredAt: new Date(r.occurred_at),
      errorClass: r.error_class,
      errorMessage: r.error_message,
      backtrace: Array.isArray(r.backtrace)
        ? r.backtrace.filter((l): l is string => typeof l === 'string')
        : null,
    }));
  }
}

/** A job's span as SQL parameters; timestamps to the microsecond the row keeps (a Date has ms). */
function span(job: EventSpan): [string, string] {
  const from = new Date(Math.floor(job.firstReceivedAt.getTime()));
  const to = new Date(job.updatedAt.getTime() + 1);
  return [from.toISOString(), to.toISOString()];
}
