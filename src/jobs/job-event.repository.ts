import { EntityRepository } from '@mikro-orm/postgresql';
import { bindNumbered } from '../database/bind-numbered.js';
import { JobEvent } from './job-event.entity.js';

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

// Events after a high-water mark id (primary key range), plus ids that were missing below it
// (transactions commit out of id order). The job row and the run's started event give class,
// queue and times that a bare "succeeded" event does not carry: the one read of `jobs` outside
// JobRepository, a join in the same module that a second round trip per page would only slow.
const EVENTS_SQL = `
select e.id::text as id, e.instance, e.type,
  coalesce(e.job_class, j.job_class) as job_class, coalesce(e.queue, j.queue) as queue,
  case when e.type = 'started' then
    extract(epoch from e.occurred_at - coalesce(e.enqueued_at, j.enqueued_at)) end as wait_s,
  case when e.type in ('succeeded', 'failed') then
    coalesce(e.duration_ms / 1000.0, extract(epoch from e.occurred_at - s.occurred_at)) end as run_s
from job_events e
left join jobs j on j.instance = e.instance and j.jid = e.jid
left join lateral (
  select x.occurred_at from job_events x
  where x.instance = e.instance and x.jid = e.jid and x.type = 'started' and x.attempt = e.attempt
    and e.type in ('succeeded', 'failed') and e.duration_ms is null
  order by x.occurred_at desc limit 1
) s on true
where e.id = any($1::int8[])
order by e.id
`;

// ordered by the bigint column, not the text alias
const IDS_AFTER_SQL = `select e.id::text as id from job_events e where e.id > $1 order by e.id limit $2`;

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

/** job_events: append-only; written by the ingest writer, read here. */
export class JobEventRepository extends EntityRepository<JobEvent> {
  /**
   * One page of a job's events, oldest first, after the event `afterId` (in that order). Events'
   * arguments and payloads are not part of a timeline and stay in Postgres.
   */
  async timeline(job: { instance: string; jid: string }, afterId?: string): Promise<JobEvent[]> {
    const meta = this.em.getMetadata().get<JobEvent>(JobEvent.name);
    const columns = meta.props.flatMap((prop) =>
      prop.lazy || prop.name === 'arguments' ? [] : prop.fieldNames,
    );
    const query = this.em
      .getKnex()('job_events')
      .select(columns)
      .where({ instance: job.instance, jid: job.jid })
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
           where e.id = ? and e.instance = ? and e.jid = ?)`,
        [afterId, job.instance, job.jid],
      );
    }
    const rows = await this.em.execute<Record<string, unknown>[]>(query);
    return rows.map((row) => this.em.map(JobEvent, row) as JobEvent);
  }

  /** Deletes every event of these jobs (retention, in the transaction that deletes the jobs). */
  async deleteOfJobs(keys: { instance: string; jid: string }[]): Promise<void> {
    if (keys.length === 0) {
      return;
    }
    await this.em.execute(
      `delete from job_events e using jsonb_to_recordset(?::jsonb) as k(instance text, jid text)
       where e.instance = k.instance and e.jid = k.jid`,
      [JSON.stringify(keys)],
    );
  }

  async maxId(): Promise<string> {
    const [row] = await this.em
      .getConnection()
      .execute<{ id: string | null }[]>('select max(id)::text as id from job_events');
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
