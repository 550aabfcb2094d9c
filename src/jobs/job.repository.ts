import { EntityRepository, type FilterQuery, type Knex } from '@mikro-orm/postgresql';
import { DomainError } from '../common/errors/domain-error.js';
import { bindNumbered } from '../database/bind-numbered.js';
import { JOB_LOCK_KEY } from './ingest/statements.js';
import { payloadSql } from './ingest/payload-args.js';
import type { Job } from './job.entity.js';
import { RUN_LIFE_OVER_SQL } from './processes/process-life.repository.js';

export type DurationKind = 'queued_to_completion' | 'started_to_completion';

export interface JobDurationRow {
  job: Job;
  durationMs: number;
}

export interface JobQuery {
  instance?: string;
  statuses?: string[];
  jobClass?: string;
  queue?: string;
  /** Active Job's own job_id */
  activeJobId?: string;
  from?: Date;
  to?: Date;
  argumentsContain?: string;
  /** id of the last row of the previous page */
  afterId?: string;
  offset?: number;
  limit: number;
  /** only jobs with a started_at (durations from start) */
  requireStarted?: boolean;
  /** only lost jobs (see LostPredicate) */
  lost?: LostPredicate;
}

/**
 * A job is lost when it started on a known process that is not among Sidekiq's live ones, no live
 * worker runs it, and it was never restarted. Both lists are small (Sidekiq's processes and their
 * busy threads), so they go to Postgres as parameters and the database answers with one page.
 */
export interface LostPredicate {
  live: { hostname: string; pid: number }[];
  working: string[];
  /** a reported process life whose last event is older than this is over (lost-rule.ts) */
  silentBefore: Date;
}

export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

// Rows of the newest part of a filtered list that an argument search looks through before it
// falls back to the trigram index (see search()).
const RECENT_WINDOW = 5_000;
// Fewer estimated matches than this: the needle is selective, the trigram index alone is quick.
const SURELY_RARE = 100;
// From this many rows on, a needle of several words is driven by its rarest word (see below),
// found on a sample of about SAMPLE_ROWS rows.
const SAMPLE_FROM = 50_000;
const SAMPLE_ROWS = 1_000;

/** The words pg_trgm indexes in a needle: runs of letters and digits, 3 or more long. */
export function needleWords(needle: string): string[] {
  return [...new Set(needle.split(/[^\p{L}\p{N}]+/u).filter((w) => w.length >= 3))];
}

/**
 * The word to drive the trigram index with, from each word's matches in a sample: the rarest
 * (the longest among equals); null when every word is as common as the others (no gain).
 */
export function rarestWord(counts: { word: string; matches: number }[]): string | null {
  if (counts.length < 2) {
    return null;
  }
  const sorted = [...counts].sort((a, b) => a.matches - b.matches || b.word.length - a.word.length);
  return sorted[0].matches < sorted[sorted.length - 1].matches || sorted[0].matches === 0
    ? sorted[0].word
    : null;
}

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

/** What sidekiq-status's view needs of a job (JobsService.statusesOf). */
export interface JobStatusRow {
  instance: string;
  jid: string;
  status: string;
  /** epoch seconds with microseconds */
  lastEventEpoch: number;
  // timestamps as Postgres prints them (raw SQL, not mapped)
  enqueuedAt: string | null;
  startedAt: string | null;
  completedAt: string | null;
  restartedAs: string | null;
}

export interface JobKey {
  instance: string;
  jid: string;
}

// A job's outcome time: terminal jobs only (succeeded, failed without retry, dead). The predicate
// and key expressions match the partial class-first index of Migration20261204000000, which hands
// the rows over already grouped (no sort of the window); a window over every class is narrowed by
// the BRIN index on last_event_at. Percentiles are exact (percentile_cont over every job in the window), computed on
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
    -- implied (a job's last event is no earlier than its outcome), and what the BRIN index on
    -- last_event_at narrows a window over every class to
    and last_event_at >= $1
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

// retention: the ingest writer's per-job locks, in its order; ? is a JSON array of { instance, jid }
const INGEST_LOCKS_SQL = `
select count(pg_advisory_xact_lock(h)) from (
  select distinct ${JOB_LOCK_KEY} as h
  from jsonb_to_recordset(?::jsonb) as k(instance text, jid text) order by h
) s`;

/** One job class's terminal jobs before and after a moment (a deploy). */
export interface AroundRow {
  jobClass: string;
  before: { count: number; failed: number; p95: number | null };
  after: { count: number; failed: number; p95: number | null };
}

// Per class, one range of the class-first outcome index each side of $2 ([$1, $2) and [$2, $3)):
// the classes come from a loose index scan (CLASSES_SQL), each class's window is an index range,
// so the cost follows the jobs in the windows, not the table. Run p95 in seconds, exact.
const AROUND_SQL = `
with recursive c(job_class) as (
  select min(job_class) from jobs where status in ('succeeded', 'failed', 'dead')
  union all
  select (select min(j.job_class) from jobs j
    where j.status in ('succeeded', 'failed', 'dead') and j.job_class > c.job_class)
  from c where c.job_class is not null
)
select c.job_class, s.*
from c cross join lateral (
  select count(*) filter (where t < $2)::int8 as before_count,
    count(*) filter (where t < $2 and status <> 'succeeded')::int8 as before_failed,
    date_part('epoch', percentile_cont(0.95) within group (order by run) filter (where t < $2)) as before_p95,
    count(*) filter (where t >= $2)::int8 as after_count,
    count(*) filter (where t >= $2 and status <> 'succeeded')::int8 as after_failed,
    date_part('epoch', percentile_cont(0.95) within group (order by run) filter (where t >= $2)) as after_p95
  from jobs,
    lateral (select coalesce(completed_at, failed_at) as t,
      coalesce(duration_ms * interval '1 millisecond',
        coalesce(completed_at, failed_at) - started_at) as run) d
  where job_class = c.job_class and status in ('succeeded', 'failed', 'dead')
    and coalesce(completed_at, failed_at) >= $1 and coalesce(completed_at, failed_at) < $3
    and instance = $4
) s
where c.job_class is not null and s.before_count + s.after_count > 0
order by c.job_class
`;

interface AroundRaw {
  job_class: string;
  before_count: string;
  before_failed: string;
  before_p95: number | string | null;
  after_count: string;
  after_failed: string;
  after_p95: number | string | null;
}

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

const num = (v: number | string | null | undefined): number | null =>
  v === null || v === undefined ? null : Number(v);

interface PlanNode {
  'Relation Name'?: string;
  'Plan Rows': number;
  Plans?: PlanNode[];
}

export class JobRepository extends EntityRepository<Job> {
  /**
   * Newest job first; keyset pagination on id (stable while jobs change). An arguments substring
   * needs care on millions of rows: walking the id order and filtering is fast when matches are
   * common and slow when they are rare, the trigram index the other way round (it reads every
   * match before sorting), and the planner's guess between the two swings with every ANALYZE.
   * So: unless the planner expects almost no match, look through the newest RECENT_WINDOW rows of
   * the list first (enough whenever ~1% of them match); when they hold too few matches, ask the
   * trigram index (`id + 0` keeps the planner off the id-order walk).
   */
  async search(query: JobQuery): Promise<Job[]> {
    if (query.argumentsContain) {
      return this.searchArguments(query, query.argumentsContain);
    }
    if (query.lost) {
      const rows = await this.em.execute<Record<string, unknown>[]>(
        this.where(query)
          .select(this.listColumns('jobs'))
          .orderBy('id', 'desc')
          .limit(query.limit)
          .offset(query.offset ?? 0),
      );
      return rows.map((row) => this.em.map(this.entityName, row) as Job);
    }
    return this.find(
      { $and: this.filters(query) },
      {
        orderBy: { id: 'desc' },
        limit: query.limit,
        offset: query.offset,
      },
    );
  }

  /**
   * Succeeded jobs with the time from enqueue (or creation when no queued event arrived) or from
   * the latest start, to completion; newest first.
   */
  async durations(kind: DurationKind, query: JobQuery): Promise<JobDurationRow[]> {
    // succeeded jobs always have completed_at and created_at (the fold sets both)
    const jobs = await this.search({
      ...query,
      statuses: ['succeeded'],
      requireStarted: kind === 'started_to_completion',
    });
    return jobs.map((job) => {
      const start =
        kind === 'queued_to_completion' ? (job.enqueuedAt ?? job.createdAt) : job.startedAt;
      return { job, durationMs: job.completedAt!.getTime() - start!.getTime() };
    });
  }

  /** `jobs` narrowed by every filter of the query but the arguments substring. */
  private where(query: JobQuery): Knex.QueryBuilder {
    const base = this.em.getKnex()('jobs');
    if (query.instance) {
      void base.where('instance', query.instance);
    }
    if (query.statuses?.length) {
      void base.whereIn('status', query.statuses);
    }
    if (query.jobClass) {
      void base.where('job_class', query.jobClass);
    }
    if (query.queue) {
      void base.where('queue', query.queue);
    }
    if (query.activeJobId) {
      void base.where('active_job_id', query.activeJobId);
    }
    if (query.from) {
      void base.where('last_event_at', '>=', query.from.toISOString());
    }
    if (query.to) {
      void base.where('last_event_at', '<', query.to.toISOString());
    }
    if (query.afterId) {
      void base.where('id', '<', query.afterId);
    }
    if (query.requireStarted) {
      void base.whereNotNull('started_at');
    }
    if (query.lost) {
      void base
        .whereNotNull('hostname')
        .whereNotNull('pid')
        .whereNull('restarted_as')
        .whereRaw(
          `coalesce(${RUN_LIFE_OVER_SQL},
             not exists (select 1 from json_to_recordset(?::json) as live(hostname text, pid int)
               where live.hostname = jobs.hostname and live.pid = jobs.pid))`,
          [query.lost.silentBefore.toISOString(), JSON.stringify(query.lost.live)],
        )
        .whereRaw(
          `not exists (select 1 from json_array_elements_text(?::json) as working(jid)
             where working.jid = jobs.jid)`,
          [JSON.stringify(query.lost.working)],
        );
    }
    return base;
  }

  /**
   * What a list row reads of `table`: every eager column, and the previews and sizes (formulas)
   * instead of the lazy unbounded values.
   */
  private listColumns(table: string): (string | Knex.Raw)[] {
    const knex = this.em.getKnex();
    const meta = this.em.getMetadata().get<Job>(this.entityName);
    const formulaTable = { alias: table, name: 'jobs', qualifiedName: 'jobs' };
    const columns = meta.createColumnMappingObject();
    return meta.props.flatMap((prop): (string | Knex.Raw)[] => {
      if (prop.formula) {
        return [knex.raw(`${prop.formula(formulaTable, columns)} as ??`, [prop.fieldNames[0]])];
      }
      return prop.lazy || prop.persist === false ? [] : prop.fieldNames.map((f) => `${table}.${f}`);
    });
  }

  private async searchArguments(query: JobQuery, needle: string): Promise<Job[]> {
    const knex = this.em.getKnex();
    const pattern = `%${escapeLike(needle)}%`;
    const base = this.where(query);
    const offset = query.offset ?? 0;
    const indexed = base
      .clone()
      .select(this.listColumns('jobs'))
      .where('arguments', 'like', pattern)
      .orderByRaw('id + 0 desc')
      .limit(query.limit)
      .offset(offset);
    const recent = knex
      .select(this.listColumns('recent'))
      .from(base.clone().select('*').orderBy('id', 'desc').limit(RECENT_WINDOW).as('recent'))
      .where('arguments', 'like', pattern)
      .orderBy('id', 'desc')
      .limit(query.limit)
      .offset(offset);
    // the planner is trusted only when it expects almost nothing to match (a selective needle):
    // then the trigram index alone answers; otherwise the recent rows go first
    if ((await this.estimateRows(indexed.toString())) >= SURELY_RARE) {
      const found = await this.em.execute<Record<string, unknown>[]>(recent);
      if (found.length === query.limit) {
        return found.map((row) => this.em.map(this.entityName, row) as Job);
      }
    }
    // A GIN scan reads the whole posting list of every trigram of the needle: one common word
    // ("customer" in "customer-424242", present in every row) costs tens of ms on a million
    // rows. Driving the index with the rarest word alone and checking the whole needle on the
    // rows it finds (`arguments || ''` is not indexable, so it stays a filter) is ~10x faster.
    const word = await this.drivingWord(needle);
    const driven = word
      ? base
          .clone()
          .select(this.listColumns('jobs'))
          .where('arguments', 'like', `%${escapeLike(word)}%`)
          .whereRaw(`(arguments || '') like ?`, [pattern])
          .orderByRaw('id + 0 desc')
          .limit(query.limit)
          .offset(offset)
      : indexed;
    const rows = await this.em.execute<Record<string, unknown>[]>(driven);
    return rows.map((row) => this.em.map(this.entityName, row) as Job);
  }

  /** The needle's rarest word on a sample of the table, when that is worth knowing. */
  private async drivingWord(needle: string): Promise<string | null> {
    const words = needleWords(needle);
    if (words.length < 2) {
      return null;
    }
    const [table] = await this.em.execute<{ rows: number }[]>(
      `select reltuples::float8 as rows from pg_class where oid = 'jobs'::regclass`,
    );
    if (!table || table.rows < SAMPLE_FROM) {
      return null;
    }
    const percent = Math.min(100, (SAMPLE_ROWS * 100) / table.rows);
    const [counts] = await this.em.execute<Record<string, number>[]>(
      `select ${words.map((_, i) => `count(*) filter (where arguments like ?)::int as w${i}`).join(', ')}
       from jobs tablesample system (${percent.toFixed(6)})`,
      words.map((w) => `%${escapeLike(w)}%`),
    );
    return rarestWord(words.map((word, i) => ({ word, matches: counts?.[`w${i}`] ?? 0 })));
  }

  /** Rows the planner expects from the scan of `jobs` (Infinity when the plan does not say). */
  private async estimateRows(sql: string): Promise<number> {
    const [row] = await this.em.execute<{ 'QUERY PLAN': { Plan: PlanNode }[] }[]>(
      `explain (format json) ${sql}`,
    );
    const find = (node: PlanNode): number | null => {
      if (node['Relation Name'] === 'jobs') {
        return node['Plan Rows'];
      }
      for (const child of node.Plans ?? []) {
        const found = find(child);
        if (found !== null) {
          return found;
        }
      }
      return null;
    };
    const plan = row?.['QUERY PLAN']?.[0]?.Plan;
    return (plan ? find(plan) : null) ?? Number.POSITIVE_INFINITY;
  }

  private filters(query: JobQuery): FilterQuery<Job>[] {
    const where: FilterQuery<Job>[] = [];
    if (query.instance) {
      where.push({ instance: query.instance });
    }
    if (query.statuses?.length) {
      where.push({ status: { $in: query.statuses } });
    }
    if (query.jobClass) {
      where.push({ jobClass: query.jobClass });
    }
    if (query.queue) {
      where.push({ queue: query.queue });
    }
    if (query.activeJobId) {
      where.push({ activeJobId: query.activeJobId });
    }
    if (query.from) {
      where.push({ lastEventAt: { $gte: query.from } });
    }
    if (query.to) {
      where.push({ lastEventAt: { $lt: query.to } });
    }
    if (query.argumentsContain) {
      where.push({ arguments: { $like: `%${escapeLike(query.argumentsContain)}%` } });
    }
    if (query.afterId) {
      where.push({ id: { $lt: query.afterId } });
    }
    if (query.requireStarted) {
      where.push({ startedAt: { $ne: null } });
    }
    return where;
  }

  /**
   * The job with Sidekiq's jid `id`, or else the newest one carrying Active Job's job_id `id` (a
   * JobManager restart pushes the same Active Job again under a new jid).
   */
  async findByJid(jid: string, instance?: string): Promise<Job> {
    const populate = ['payload', 'arguments', 'errorMessage', 'rawArguments'] as const;
    let rows = await this.find(instance ? { jid, instance } : { jid }, {
      orderBy: { lastEventAt: 'desc' },
      limit: 2,
      populate,
    });
    if (rows.length === 0) {
      const byActiveJob = await this.find(
        instance ? { activeJobId: jid, instance } : { activeJobId: jid },
        { orderBy: { id: 'desc' }, limit: 20, populate },
      );
      rows = byActiveJob.filter((job) => job.instance === byActiveJob[0]?.instance);
      rows = rows.length === byActiveJob.length ? rows.slice(0, 1) : byActiveJob;
    }
    if (rows.length === 0) {
      throw new DomainError('JOB_NOT_FOUND', `No job with job_id ${jid}`, { field: 'job_id' });
    }
    if (rows.length > 1) {
      throw new DomainError(
        'CONFLICT',
        `job_id ${jid} exists in several instances; pass instance`,
        {
          field: 'instance',
        },
      );
    }
    return rows[0];
  }

  /** The job classes of terminal jobs, in order. */
  async terminalClasses(): Promise<string[]> {
    const rows = await this.em.getConnection().execute<{ job_class: string }[]>(CLASSES_SQL);
    return rows.map((r) => r.job_class);
  }

  /**
   * Counts and exact wait and run percentiles of terminal jobs by class and queue, over the jobs
   * whose class is in [lo, hi) (null bounds are open), or over the jobs without a class.
   */
  async outcomeWindow(
    query: JobWindowQuery,
    lo: string | null,
    hi: string | null,
    noClass = false,
  ): Promise<JobWindowRow[]> {
    const sql = WINDOW_SQL.replace('/*classes*/', noClass ? NO_CLASS : CLASS_RANGE);
    const rows = await this.em
      .getConnection()
      .execute<WindowRaw[]>(
        ...bindNumbered(sql, [
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

  /**
   * One class's terminal jobs in [from, to): counts, run and wait percentiles (ms), the counts
   * per bucket of `bucketSeconds` from `from`, and the run times per histogram bucket (the index of
   * `bounds`, Postgres's width_bucket). One range of jobs_class_outcome_index, read once.
   */
  async classWindow(query: ClassWindowQuery): Promise<ClassWindowRow> {
    const [row] = await this.em
      .getConnection()
      .execute<ClassWindowRaw[]>(
        ...bindNumbered(CLASS_WINDOW_SQL, [
          query.jobClass,
          query.from.toISOString(),
          query.to.toISOString(),
          query.instance ?? null,
          query.bucketSeconds,
          `{${query.bounds.join(',')}}`,
        ]),
      );
    const t = row.totals;
    return {
      processed: Number(t.processed),
      failed: Number(t.failed),
      runMs: {
        p50: num(t.run?.[0]),
        p95: num(t.run?.[1]),
        p99: num(t.run?.[2]),
        max: num(t.run_max),
      },
      waitMs: {
        p50: num(t.wait?.[0]),
        p95: num(t.wait?.[1]),
        p99: num(t.wait?.[2]),
        max: num(t.wait_max),
      },
      buckets: row.series.map(([bucket, processed, failed]) => ({ bucket, processed, failed })),
      histogram: row.histogram.map(([bucket, count]) => ({ bucket, count })),
    };
  }

  /** Whether the class has any terminal job (in `instance`, or in any). */
  async hasTerminalJobs(jobClass: string, instance?: string): Promise<boolean> {
    const rows = await this.em.execute<unknown[]>(
      `select 1 from jobs where job_class = ? and ${TERMINAL}
         and (?::text is null or instance = ?) limit 1`,
      [jobClass, instance ?? null, instance ?? null],
    );
    return rows.length > 0;
  }

  /**
   * The first `limit` classes with terminal jobs (by name, a loose index scan), each with its
   * counts and run p50/p95 (ms) in [from, to); classes without a job in the window are left out.
   * `more`: classes past the first `limit` exist.
   */
  async classList(
    from: Date,
    to: Date,
    instance: string | undefined,
    limit: number,
  ): Promise<{ rows: ClassListRow[]; more: boolean }> {
    const rows = await this.em
      .getConnection()
      .execute<Record<string, unknown>[]>(
        ...bindNumbered(CLASS_LIST_SQL, [
          from.toISOString(),
          to.toISOString(),
          instance ?? null,
          limit + 1,
        ]),
      );
    const more = rows.some((r) => Number(r.n) > limit);
    return {
      more,
      rows: rows
        .filter((r) => Number(r.n) <= limit && Number(r.processed) > 0)
        .map((r) => {
          const run = r.run_p as Percentiles;
          return {
            jobClass: r.job_class as string,
            processed: Number(r.processed),
            failed: Number(r.failed),
            runMs: { p50: num(run?.[0]), p95: num(run?.[1]) },
          };
        }),
    };
  }

  /** The jobs with these jids, in one instance or all. */
  statusRows(jids: string[], instance: string | null): Promise<JobStatusRow[]> {
    return this.em.execute<JobStatusRow[]>(
      `select instance, jid, status, extract(epoch from last_event_at)::float8 as "lastEventEpoch",
         enqueued_at as "enqueuedAt", started_at as "startedAt", completed_at as "completedAt",
         restarted_as as "restartedAs"
       from jobs where jid in (select jsonb_array_elements_text(?::jsonb))
         and (?::text is null or instance = ?)`,
      [JSON.stringify(jids), instance, instance],
    );
  }

  /** Status and last activity of those of these jobs that exist. */
  async lastActivity(keys: JobKey[]): Promise<(JobKey & { status: string; lastEventAt: Date })[]> {
    if (keys.length === 0) {
      return [];
    }
    // milliseconds cut down (a Date's precision), so `lastEventAt < cutoff` holds as in SQL
    const rows = await this.em.execute<(JobKey & { status: string; ms: string })[]>(
      `select j.instance, j.jid, j.status, floor(extract(epoch from j.last_event_at) * 1000)::text as ms
       from jobs j join jsonb_to_recordset(?::jsonb) as k(instance text, jid text)
         on j.instance = k.instance and j.jid = k.jid`,
      [JSON.stringify(keys)],
    );
    return rows.map(({ ms, ...job }) => ({ ...job, lastEventAt: new Date(Number(ms)) }));
  }

  /**
   * The whole arguments and payload of one job, to push it again: for an Active Job its Sidekiq
   * wrapper class and the wrapper's arguments.
   */
  async restartSource(
    instance: string,
    jid: string,
  ): Promise<{ arguments: string | null; wrapperClass: string | null; payload: string | null }> {
    const [row] = await this.em.execute<
      { arguments: string | null; wrapperClass: string | null; payload: string | null }[]
    >(
      `select coalesce(raw_arguments, arguments) as arguments, wrapper_class as "wrapperClass",
         ${payloadSql('jobs')} as payload from jobs where instance = ? and jid = ?`,
      [instance, jid],
    );
    return row ?? { arguments: null, wrapperClass: null, payload: null };
  }

  /** Retention: the `limit` jobs idle longest, of those idle since before `cutoff`. */
  idleBefore(cutoff: Date, limit: number): Promise<JobKey[]> {
    return this.em.execute<JobKey[]>(
      'select instance, jid from jobs where last_event_at < ? order by last_event_at limit ?',
      [cutoff.toISOString(), limit],
    );
  }

  /** Takes these jobs' ingest locks (JOB_LOCK_KEY), waiting, in the writer's order. */
  async lockForIngest(keys: JobKey[]): Promise<void> {
    await this.em.execute(INGEST_LOCKS_SQL, [JSON.stringify(keys)]);
  }

  /** Deletes these jobs unless they got an event since `cutoff`; returns those deleted. */
  deleteIdleBefore(keys: JobKey[], cutoff: Date): Promise<JobKey[]> {
    return this.em.execute<JobKey[]>(
      `delete from jobs j using jsonb_to_recordset(?::jsonb) as k(instance text, jid text)
       where j.instance = k.instance and j.jid = k.jid and j.last_event_at < ?
       returning j.instance, j.jid`,
      [JSON.stringify(keys), cutoff.toISOString()],
    );
  }

  /** Terminal jobs of `instance` per class, in [from, at) and [at, to). */
  async around(instance: string, from: Date, at: Date, to: Date): Promise<AroundRow[]> {
    const rows = await this.em
      .getConnection()
      .execute<AroundRaw[]>(
        ...bindNumbered(AROUND_SQL, [
          from.toISOString(),
          at.toISOString(),
          to.toISOString(),
          instance,
        ]),
      );
    return rows.map((r) => ({
      jobClass: r.job_class,
      before: {
        count: Number(r.before_count),
        failed: Number(r.before_failed),
        p95: num(r.before_p95),
      },
      after: {
        count: Number(r.after_count),
        failed: Number(r.after_failed),
        p95: num(r.after_p95),
      },
    }));
  }

  /** Jobs whose latest status is running, oldest start first (at most `limit`). */
  async running(limit: number): Promise<RunningJobRow[]> {
    const rows = await this.em.execute<Record<string, unknown>[]>(
      ...bindNumbered(RUNNING_SQL, [limit]),
    );
    return rows.map((r) => ({
      instance: r.instance as string,
      jid: r.jid as string,
      jobClass: r.job_class as string | null,
      queue: r.queue as string | null,
      startedAt: r.started_at === null ? null : new Date(r.started_at as string),
      hostname: r.hostname as string | null,
      pid: r.pid as number | null,
      restartedAs: r.restarted_as as string | null,
    }));
  }

  /**
   * Running jobs of `classes` that share their class and arguments with another running job of
   * the same instance (at most `limit` rows), grouped together, oldest start first in each group.
   */
  async concurrentRuns(classes: readonly string[], limit: number): Promise<ConcurrentRunRow[]> {
    if (classes.length === 0) {
      return [];
    }
    const rows = await this.em.execute<Record<string, unknown>[]>(
      ...bindNumbered(CONCURRENT_RUNS_SQL, [JSON.stringify(classes), limit]),
    );
    return rows.map((r) => ({
      instance: r.instance as string,
      jobClass: r.job_class as string,
      argsDigest: r.args_digest as string,
      argsPreview: r.args_preview as string | null,
      jid: r.jid as string,
      startedAt: r.started_at === null ? null : new Date(r.started_at as string),
      hostname: r.hostname as string | null,
      pid: r.pid as number | null,
      tid: r.tid as string | null,
    }));
  }

  /** Each class's p99 run time over its last `sampleRuns` successes since `since`. */
  async runBaselines(
    classes: { instance: string; jobClass: string }[],
    since: Date,
    sampleRuns: number,
  ): Promise<RunBaselineRow[]> {
    if (classes.length === 0) {
      return [];
    }
    const rows = await this.em.execute<Record<string, unknown>[]>(
      ...bindNumbered(BASELINES_SQL, [
        JSON.stringify(classes.map((c) => ({ instance: c.instance, job_class: c.jobClass }))),
        since.toISOString(),
        sampleRuns,
      ]),
    );
    return rows.map((r) => ({
      instance: r.instance as string,
      jobClass: r.job_class as string,
      samples: Number(r.samples),
      p99Ms: num(r.p99_ms as string | number | null),
    }));
  }

  /** Queued jobs not started since before `before`, and scheduled jobs due before it. */
  async waitingSince(before: Date, limit: number): Promise<WaitingJobRow[]> {
    return this.waiting(WAITING_SQL, before, limit);
  }

  /**
   * Jobs whose last word is a retry put in Sidekiq's retry set (status retrying), due by Sidekiq's
   * default backoff before `before`, and not started since.
   */
  async retriesDueBefore(before: Date, limit: number): Promise<WaitingJobRow[]> {
    return this.waiting(RETRIES_DUE_SQL, before, limit);
  }

  private async waiting(sql: string, before: Date, limit: number): Promise<WaitingJobRow[]> {
    const rows = await this.em.execute<Record<string, unknown>[]>(
      ...bindNumbered(sql, [before.toISOString(), limit]),
    );
    return rows.map((r) => ({
      instance: r.instance as string,
      jid: r.jid as string,
      jobClass: r.job_class as string | null,
      queue: r.queue as string | null,
      status: r.status as string,
      waitingSince: new Date(r.waiting_since as string),
      attempt: Number(r.attempt),
      scheduled: r.scheduled_at !== null,
      failedAt: r.failed_at === null ? null : new Date(r.failed_at as string),
    }));
  }

  /**
   * Per class, in one instance: its newest terminal outcome and its newest success among its last
   * `window` outcomes (jobs_class_outcome_index, read backwards: at most `window` index entries
   * per class, whatever the history's size).
   */
  async classOutcomes(
    classes: string[],
    instance: string,
    window: number,
  ): Promise<ClassOutcomeRow[]> {
    const rows = await this.em.execute<Record<keyof ClassOutcomeRow, string | null>[]>(
      CLASS_OUTCOMES_SQL,
      [JSON.stringify(classes), instance, window],
    );
    // the driver hands timestamptz over as text
    const date = (text: string | null) => (text === null ? null : new Date(text));
    return rows.map((r) => ({
      jobClass: r.jobClass!,
      lastRunAt: date(r.lastRunAt),
      lastRunStatus: r.lastRunStatus,
      lastSuccessAt: date(r.lastSuccessAt),
      oldestAt: date(r.oldestAt),
    }));
  }

  /**
   * The newest successes (at most `keep` per class and instance) among each class's last `window`
   * outcomes, for the first `classLimit` classes with terminal jobs (a skip scan of
   * jobs_class_outcome_index, then `window` entries per class).
   */
  async recentSuccesses(
    window: number,
    keep: number,
    classLimit: number,
  ): Promise<RecentSuccessRow[]> {
    const rows = await this.em.execute<RecentSuccessRow[]>(RECENT_SUCCESSES_SQL, [
      classLimit,
      keep,
      window,
    ]);
    return rows.map((r) => ({ ...r, times: r.times.map(Number) }));
  }
}

/** A job whose latest status is running, as the stuck detector reads it. */
export interface RunningJobRow {
  instance: string;
  jid: string;
  jobClass: string | null;
  queue: string | null;
  startedAt: Date | null;
  hostname: string | null;
  pid: number | null;
  restartedAs: string | null;
}

/** A running job that shares its class and arguments with another running job. */
export interface ConcurrentRunRow {
  instance: string;
  jobClass: string;
  /** md5 of the arguments: the group's key */
  argsDigest: string;
  /** their first 200 characters */
  argsPreview: string | null;
  jid: string;
  startedAt: Date | null;
  hostname: string | null;
  pid: number | null;
  tid: string | null;
}

/** A class's recent successful run times in one instance: how many, and their p99. */
export interface RunBaselineRow {
  instance: string;
  jobClass: string;
  samples: number;
  p99Ms: number | null;
}

/**
 * A job waiting to start since `waitingSince`: queued, scheduled and due, or retrying and due
 * (Sidekiq's default backoff after its failure: the latest its retry set entry falls due).
 */
export interface WaitingJobRow {
  instance: string;
  jid: string;
  jobClass: string | null;
  queue: string | null;
  status: string;
  waitingSince: Date;
  /** 0: the first run; n: retry n (for a retrying job: the retry waited for) */
  attempt: number;
  /** it went through the scheduled set (perform_in / perform_at) */
  scheduled: boolean;
  /** its last failure (retrying jobs) */
  failedAt: Date | null;
}

// Running jobs, oldest start first. `status = 'running'` is answered by the GIN index (btree_gin
// on status): a handful of rows however many jobs are stored.
const RUNNING_SQL = `
select instance, jid, job_class, queue, started_at, hostname, pid, restarted_as
from jobs where status = 'running'
order by started_at nulls first, id
limit $1`;

// Running jobs of the declared classes whose class and arguments another running job of the same
// instance shares. `status = 'running'` with the class list goes through the GIN index (btree_gin
// on job_class and status: the running jobs of those classes only, however many jobs are stored);
// the arguments are compared by their md5, so a group's key stays short however long they are.
const CONCURRENT_RUNS_SQL = `
select instance, job_class, args_digest, args_preview, jid, started_at, hostname, pid, tid from (
  select instance, job_class, md5(coalesce(arguments, '')) as args_digest,
    left(arguments, 200) as args_preview, jid, started_at, hostname, pid, tid, id,
    count(*) over (partition by instance, job_class, md5(coalesce(arguments, ''))) as runs
  from jobs
  where status = 'running' and restarted_as is null
    and job_class = any(array(select jsonb_array_elements_text($1::jsonb)))
) r
where runs > 1
order by instance, job_class, args_digest, started_at nulls first, id
limit $2`;

// Per (instance, class): the last $4 successful runs within the window, newest first, walked down
// the class-first outcome index (its predicate and key expression, so no sort and no more rows
// than the sample); their p99 in ms.
const BASELINES_SQL = `
select c.instance, c.job_class, count(r.ms)::int as samples,
  percentile_cont(0.99) within group (order by r.ms) as p99_ms
from jsonb_to_recordset($1::jsonb) as c(instance text, job_class text)
left join lateral (
  select coalesce(j.duration_ms,
    extract(epoch from j.completed_at - j.started_at) * 1000) as ms
  from jobs j
  where j.job_class = c.job_class and j.status in ('succeeded', 'failed', 'dead')
    and coalesce(j.completed_at, j.failed_at) >= $2
    and j.status = 'succeeded' and j.instance = c.instance
    and (j.duration_ms is not null or j.started_at is not null)
  order by coalesce(j.completed_at, j.failed_at) desc
  limit $3
) r on true
group by c.instance, c.job_class`;

// Jobs queued before $1 and not started since, and scheduled jobs due before $1 (Sidekiq's poller
// moves a due job to its queue within seconds); the longest waiting first. Both statuses go through
// the GIN index; a restarted job is no longer waited for. A retry the poller moved back to its queue
// waits since that queued event (the job's last), not since its first enqueue.
const WAITING_SQL = `
select instance, jid, job_class, queue, status, since as waiting_since, attempt, scheduled_at,
  null as failed_at from (
  select instance, jid, job_class, queue, status, id, attempt, scheduled_at,
    case when status = 'scheduled' then scheduled_at
      when attempt > 0 then last_event_at
      else coalesce(enqueued_at, created_at, first_event_at) end as since
  from jobs
  where status in ('queued', 'scheduled') and restarted_as is null
) w
where since < $1
order by since, id
limit $2`;

// Retrying jobs (GIN index on status) whose retry is due by Sidekiq's default backoff before $1:
// retry_count ** 4 + 15 + rand(10) * (retry_count + 1) seconds after the failure (Sidekiq 6-8
// job_retry.rb delay_for), at most count^4 + 15 + 9 (count + 1); a retrying row's attempt is that
// retry_count. A class with its own sidekiq_retry_in waits longer: Redis then shows its entry's
// score in the future, and it is not reported.
const RETRIES_DUE_SQL = `
select instance, jid, job_class, queue, status, since as waiting_since, attempt, scheduled_at,
  failed_at from (
  select instance, jid, job_class, queue, status, id, attempt, scheduled_at,
    coalesce(failed_at, last_event_at) as failed_at,
    coalesce(failed_at, last_event_at)
      + make_interval(secs => power(attempt, 4) + 15 + 9 * (attempt + 1)) as since
  from jobs
  where status = 'retrying' and restarted_as is null
) w
where since < $1
order by since, id
limit $2`;

export interface ClassOutcomeRow {
  jobClass: string;
  lastRunAt: Date | null;
  lastRunStatus: string | null;
  lastSuccessAt: Date | null;
  /** the oldest outcome read (the window's start) */
  oldestAt: Date | null;
}

export interface RecentSuccessRow {
  jobClass: string;
  instance: string;
  /** epoch seconds, newest first */
  times: number[];
}

const OUTCOME_AT = 'coalesce(completed_at, failed_at)';
const TERMINAL = "status in ('succeeded', 'failed', 'dead')";

const CLASS_OUTCOMES_SQL = `
select c.job_class as "jobClass", r.last_at as "lastRunAt", r.last_status as "lastRunStatus",
  r.last_success_at as "lastSuccessAt", r.oldest_at as "oldestAt"
from jsonb_array_elements_text(?::jsonb) as c(job_class)
cross join lateral (
  select max(t.at) as last_at, (array_agg(t.status order by t.at desc))[1] as last_status,
    max(t.at) filter (where t.status = 'succeeded') as last_success_at, min(t.at) as oldest_at
  from (
    select status, ${OUTCOME_AT} as at from jobs
    where job_class = c.job_class and ${TERMINAL} and ${OUTCOME_AT} is not null and instance = ?
    order by ${OUTCOME_AT} desc limit ?
  ) t
) r`;

const RECENT_SUCCESSES_SQL = `
with recursive c(job_class, n) as (
  select min(job_class), 1 from jobs where ${TERMINAL}
  union all
  select (select min(j.job_class) from jobs j
    where j.status in ('succeeded', 'failed', 'dead') and j.job_class > c.job_class), c.n + 1
  from c where c.job_class is not null and c.n < ?
)
select c.job_class as "jobClass", s.instance,
  (array_agg(extract(epoch from s.at)::float8 order by s.at desc))[1:?] as times
from c cross join lateral (
  select t.instance, t.at from (
    select instance, status, ${OUTCOME_AT} as at from jobs
    where job_class = c.job_class and ${TERMINAL} and ${OUTCOME_AT} is not null
    order by ${OUTCOME_AT} desc limit ?
  ) t where t.status = 'succeeded'
) s
where c.job_class is not null
group by c.job_class, s.instance`;

export interface ClassWindowQuery {
  jobClass: string;
  from: Date;
  to: Date;
  instance?: string;
  bucketSeconds: number;
  /** histogram bucket bounds in ms, ascending */
  bounds: number[];
}

interface MsStats {
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

/** One class over a window (times in ms; buckets by index from the window's start). */
export interface ClassWindowRow {
  processed: number;
  failed: number;
  runMs: MsStats;
  waitMs: MsStats;
  buckets: { bucket: number; processed: number; failed: number }[];
  /** width_bucket of the run time over the bounds: 0 below the first, bounds.length above the last */
  histogram: { bucket: number; count: number }[];
}

interface ClassWindowRaw {
  totals: {
    processed: number;
    failed: number;
    run: Percentiles;
    run_max: number | null;
    wait: Percentiles;
    wait_max: number | null;
  };
  series: [number, number, number][];
  histogram: [number, number][];
}

export interface ClassListRow {
  jobClass: string;
  processed: number;
  failed: number;
  runMs: { p50: number | null; p95: number | null };
}

// A terminal job's run and wait in ms, as WINDOW_SQL reads them (date_part: float8, where
// extract() computes in numeric, several times slower per row)
const RUN_MS = `coalesce(duration_ms,
  date_part('epoch', coalesce(completed_at, failed_at) - started_at) * 1000)`;
const WAIT_MS = "date_part('epoch', started_at - coalesce(enqueued_at, created_at)) * 1000";

// One class's window: one range of jobs_class_outcome_index (its predicate and key expression; an
// index-only scan, the index includes every column read here), materialized once and aggregated
// three ways (totals, buckets in time, run-time histogram)
const CLASS_WINDOW_SQL = `
with w as materialized (
  select ${OUTCOME_AT} as t, status <> 'succeeded' as failed,
    ${RUN_MS}::float8 as run_ms, ${WAIT_MS}::float8 as wait_ms
  from jobs
  where job_class = $1 and ${TERMINAL}
    and ${OUTCOME_AT} >= $2 and ${OUTCOME_AT} < $3
    and ($4::text is null or instance = $4)
)
select
  (select json_build_object('processed', count(*), 'failed', count(*) filter (where failed),
     'run', percentile_cont(array[0.5, 0.95, 0.99]) within group (order by run_ms),
     'run_max', max(run_ms),
     'wait', percentile_cont(array[0.5, 0.95, 0.99]) within group (order by wait_ms),
     'wait_max', max(wait_ms)) from w) as totals,
  (select coalesce(json_agg(json_build_array(b, n, f) order by b), '[]') from (
     select floor(date_part('epoch', t - $2::timestamptz) / $5::int)::int as b, count(*) as n,
       count(*) filter (where failed) as f
     from w group by 1) s) as series,
  (select coalesce(json_agg(json_build_array(b, n) order by b), '[]') from (
     select width_bucket(run_ms, $6::float8[]) as b, count(*) as n
     from w where run_ms is not null group by 1) s) as histogram`;

// The first $4 classes with terminal jobs (a loose index scan, as CLASSES_SQL), each with its
// window [$1, $2) as one index range
const CLASS_LIST_SQL = `
with recursive c(job_class, n) as (
  select min(job_class), 1 from jobs where ${TERMINAL}
  union all
  select (select min(j.job_class) from jobs j
    where j.status in ('succeeded', 'failed', 'dead') and j.job_class > c.job_class), c.n + 1
  from c where c.job_class is not null and c.n < $4
)
select c.job_class, c.n, s.*
from c cross join lateral (
  select count(*)::int8 as processed, count(*) filter (where status <> 'succeeded')::int8 as failed,
    percentile_cont(array[0.5, 0.95]) within group (order by ${RUN_MS}) as run_p
  from jobs
  where job_class = c.job_class and ${TERMINAL}
    and ${OUTCOME_AT} >= $1 and ${OUTCOME_AT} < $2
    and ($3::text is null or instance = $3)
) s
where c.job_class is not null
order by c.job_class`;
