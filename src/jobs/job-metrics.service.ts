import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';

export interface JobWindowQuery {
  from: Date;
  to: Date;
  jobClass?: string;
  queue?: string;
  instance?: string;
}

/** One job class and queue over a window; times in seconds, null when no job had them. */
export interface JobWindowRow {
  jobClass: string | null;
  queue: string | null;
  count: number;
  succeeded: number;
  failed: number;
  wait: { p50: number | null; p95: number | null; p99: number | null; max: number | null };
  run: { p50: number | null; p95: number | null; p99: number | null; max: number | null };
}

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

// A job's outcome time: terminal jobs only (succeeded, failed without retry, dead). The predicate
// and key expressions match the partial indexes of Migration20261123020000: the class-first one
// hands the rows over already grouped (no sort of the window), the time-first one serves narrow
// windows. Percentiles are exact (percentile_cont over every job in the window), computed on
// intervals (cheaper per row than epoch arithmetic) and turned into seconds once per group.
const WINDOW_SQL = `
select job_class, queue, count, succeeded,
  array(select date_part('epoch', x) from unnest(wait_p) x) as wait_p,
  date_part('epoch', wait_max) as wait_max,
  array(select date_part('epoch', x) from unnest(run_p) x) as run_p,
  date_part('epoch', run_max) as run_max
from (
  select job_class, queue, count(*)::int8 as count,
    count(*) filter (where status = 'succeeded')::int8 as succeeded,
    percentile_cont(array[0.5, 0.95, 0.99]) within group (order by wait) as wait_p,
    max(wait) as wait_max,
    percentile_cont(array[0.5, 0.95, 0.99]) within group (order by run) as run_p,
    max(run) as run_max
  from jobs,
    lateral (select started_at - coalesce(enqueued_at, created_at) as wait,
      coalesce(duration_ms * interval '1 millisecond',
        coalesce(completed_at, failed_at) - started_at) as run) d
  where status in ('succeeded', 'failed', 'dead')
    and coalesce(completed_at, failed_at) >= $1 and coalesce(completed_at, failed_at) < $2
    and ($3::text is null or job_class = $3) and ($4::text is null or queue = $4)
    and ($5::text is null or instance = $5)
    and /*classes*/
  group by job_class, queue
) g
order by job_class nulls last, queue nulls last
`;

// The distinct classes of terminal jobs, one index descent each (a loose index scan)
const CLASSES_SQL = `
with recursive c(job_class) as (
  select min(job_class) from jobs where status in ('succeeded', 'failed', 'dead')
  union all
  select (select min(j.job_class) from jobs j
    where j.status in ('succeeded', 'failed', 'dead') and j.job_class > c.job_class)
  from c where c.job_class is not null
)
select job_class from c where job_class is not null
`;

// A class range [$6, $7) (null: open) as an index range, or the jobs without a class; no OR, so
// the class-first index still hands rows over in group order
const CLASS_RANGE =
  '($6::text is null or job_class >= $6) and ($7::text is null or job_class < $7)';
const NO_CLASS = 'job_class is null and $6::text is null and $7::text is null';

// A window over every class is split into this many class ranges, read concurrently (the
// percentile sorts are CPU-bound and Postgres runs each statement's aggregate on one core)
const WINDOW_PARTS = 4;

// Events after a high-water mark id (primary key range), plus ids that were missing below it
// (transactions commit out of id order). The job row and the run's started event give class,
// queue and times that a bare "succeeded" event does not carry.
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

type Percentiles = (number | null)[] | null;

interface WindowRaw {
  job_class: string | null;
  queue: string | null;
  count: string;
  succeeded: string;
  wait_p: Percentiles;
  wait_max: number | string | null;
  run_p: Percentiles;
  run_max: number | string | null;
}

interface EventRaw {
  id: string;
  instance: string;
  type: string;
  job_class: string | null;
  queue: string | null;
  wait_s: number | string | null;
  run_s: number | string | null;
}

/** `$n` placeholders (each may repeat) → knex's positional `?` with one binding per use. */
function bind(sql: string, values: unknown[]): [string, unknown[]] {
  const bindings: unknown[] = [];
  const text = sql.replace(/\$(\d+)/g, (_, n: string) => {
    bindings.push(values[Number(n) - 1]);
    return '?';
  });
  return [text, bindings];
}

function compareNullsLast(a: string | null, b: string | null): number {
  if (a === b) {
    return 0;
  }
  if (a === null) {
    return 1;
  }
  if (b === null) {
    return -1;
  }
  return a < b ? -1 : 1;
}

const byClassAndQueue = (a: JobWindowRow, b: JobWindowRow) =>
  compareNullsLast(a.jobClass, b.jobClass) || compareNullsLast(a.queue, b.queue);

const num = (v: number | string | null | undefined): number | null =>
  v === null || v === undefined ? null : Number(v);

/** Read-only SQL over jobs and job_events for the metrics module. */
@Injectable()
export class JobMetricsService {
  constructor(private readonly em: EntityManager) {}

  async window(query: JobWindowQuery): Promise<JobWindowRow[]> {
    if (query.jobClass !== undefined) {
      return this.windowPart(query, null, null);
    }
    const classes = (
      await this.em.fork().getConnection().execute<{ job_class: string }[]>(CLASSES_SQL)
    ).map((r) => r.job_class);
    const bounds: (string | null)[] = [null];
    for (let i = 1; i < WINDOW_PARTS; i++) {
      const bound = classes[Math.floor((i * classes.length) / WINDOW_PARTS)];
      if (bound !== undefined && bound !== bounds.at(-1)) {
        bounds.push(bound);
      }
    }
    const parts = await Promise.all([
      ...bounds.map((lo, i) => this.windowPart(query, lo, bounds[i + 1] ?? null)),
      this.windowPart(query, null, null, true),
    ]);
    return parts.flat().sort(byClassAndQueue);
  }

  /** Classes in [lo, hi) (null bounds are open), or the jobs without a class. */
  private async windowPart(
    query: JobWindowQuery,
    lo: string | null,
    hi: string | null,
    noClass = false,
  ): Promise<JobWindowRow[]> {
    const sql = WINDOW_SQL.replace('/*classes*/', noClass ? NO_CLASS : CLASS_RANGE);
    const rows = await this.em
      .fork()
      .getConnection()
      .execute<WindowRaw[]>(
        ...bind(sql, [
          query.from.toISOString(),
          query.to.toISOString(),
          query.jobClass ?? null,
          query.queue ?? null,
          query.instance ?? null,
          lo,
          hi,
        ]),
      );
    return rows.map((r) => ({
      jobClass: r.job_class,
      queue: r.queue,
      count: Number(r.count),
      succeeded: Number(r.succeeded),
      failed: Number(r.count) - Number(r.succeeded),
      wait: {
        p50: num(r.wait_p?.[0]),
        p95: num(r.wait_p?.[1]),
        p99: num(r.wait_p?.[2]),
        max: num(r.wait_max),
      },
      run: {
        p50: num(r.run_p?.[0]),
        p95: num(r.run_p?.[1]),
        p99: num(r.run_p?.[2]),
        max: num(r.run_max),
      },
    }));
  }

  async maxEventId(): Promise<string> {
    const [row] = await this.em
      .fork()
      .getConnection()
      .execute<{ id: string | null }[]>('select max(id)::text as id from job_events');
    return row?.id ?? '0';
  }

  /** Ids of events after `afterId`, oldest first (primary key range scan). */
  async eventIdsAfter(afterId: string, limit: number): Promise<string[]> {
    const rows = await this.em
      .fork()
      .getConnection()
      .execute<{ id: string }[]>(...bind(IDS_AFTER_SQL, [afterId, limit]));
    return rows.map((r) => r.id);
  }

  /** The events with these ids (those that exist), with their job's class, queue and times. */
  async events(ids: string[]): Promise<LifecycleEventRow[]> {
    if (ids.length === 0) {
      return [];
    }
    const rows = await this.em
      .fork()
      .getConnection()
      .execute<EventRaw[]>(...bind(EVENTS_SQL, [`{${ids.join(',')}}`]));
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
