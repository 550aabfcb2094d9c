import { EntityRepository } from '@mikro-orm/postgresql';
import { bindNumbered } from '../database/bind-numbered.js';
import { JobEvent } from './job-event.entity.js';
import type { Job } from './job.entity.js';

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

// Events after a high-water mark id, plus ids that were missing below it (transactions commit
// out of id order). The job row and the run's started event give class, queue and times that a
// bare "succeeded" event does not carry: the one read of `jobs` outside JobRepository, a join in
// the same module that a second round trip per page would only slow. Ids are found through each
// partition's BRIN index on id (ids follow the order rows are written in).
const EVENTS_SQL = `
select e.id::text as id, j.instance, e.type, j.job_class, j.queue,
  case when e.type = 'started' then
    extract(epoch from e.occurred_at - coalesce(e.enqueued_at, j.enqueued_at)) end as wait_s,
  case when e.type in ('succeeded', 'failed') then
    coalesce(e.duration_ms / 1000.0, extract(epoch from e.occurred_at - s.occurred_at)) end as run_s
from job_events e
join jobs j on j.id = e.job_id
left join lateral (
  select x.occurred_at from job_events x
  where x.job_id = e.job_id and x.type = 'started' and x.attempt = e.attempt
    and x.received_at >= j.first_received_at and x.received_at <= j.updated_at
    and e.type in ('succeeded', 'failed') and e.duration_ms is null
  order by x.occurred_at desc limit 1
) s on true
where e.id = any($1::int8[])
order by e.id
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

/** job_events: append-only; written by the ingest writer, read here. */
export class JobEventRepository extends EntityRepository<JobEvent> {
  /**
   * One page of a job's events, oldest first, after the event `afterId` (in that order). Only the
   * partitions received in the job's span are read.
   */
  async timeline(job: EventSpan, afterId?: string): Promise<JobEvent[]> {
    const meta = this.em.getMetadata().get<JobEvent>(JobEvent.name);
    const columns = meta.props.flatMap((prop) => prop.fieldNames);
    const query = this.em
      .getKnex()('job_events')
      .select(columns)
      .where('job_id', job.id)
      .whereRaw('received_at >= ?::timestamptz and received_at <= ?::timestamptz', span(job))
      .orderBy([
        { column: 'occurred_at', order: 'asc' },
        { column: 'attempt', order: 'asc' },
        { column: 'id', order: 'asc' },
      ])
      .limit(TIMELINE_PAGE + 1);
    if (afterId) {
      // in SQL: occurred_at has microseconds, a JS Date only milliseconds
      void query.whereRaw(
        `(occurred_at, attempt, id) > (select e.occurred_at, e.attempt, e.id from job_events e
           where e.id = ? and e.job_id = ?
             and e.received_at >= ?::timestamptz and e.received_at <= ?::timestamptz)`,
        [afterId, job.id, ...span(job)],
      );
    }
    const rows = await this.em.execute<Record<string, unknown>[]>(query);
    return rows.map((row) => this.em.map(JobEvent, row) as JobEvent);
  }

  /** How many of the job's events are still stored (the rest expired with their partitions). */
  async storedCount(job: EventSpan): Promise<number> {
    const [row] = await this.em.execute<{ n: string }[]>(
      `select count(*)::text as n from job_events
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
}

/** A job's span as SQL parameters; timestamps to the microsecond the row keeps (a Date has ms). */
function span(job: EventSpan): [string, string] {
  const from = new Date(Math.floor(job.firstReceivedAt.getTime()));
  const to = new Date(job.updatedAt.getTime() + 1);
  return [from.toISOString(), to.toISOString()];
}
