import { EntityRepository, type FilterQuery, type Knex } from '@mikro-orm/postgresql';
import { DomainError } from '../common/errors/domain-error.js';
import { JobEvent } from './job-event.entity.js';
import type { Job } from './job.entity.js';

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
}

/** Events of one job's timeline per page. */
export const TIMELINE_PAGE = 1000;

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
          `not exists (select 1 from json_to_recordset(?::json) as live(hostname text, pid int)
             where live.hostname = jobs.hostname and live.pid = jobs.pid)`,
          [JSON.stringify(query.lost.live)],
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

  /**
   * One page of a job's events, oldest first, after the event `afterId` (in that order). Events'
   * arguments and payloads are not part of a timeline and stay in Postgres.
   */
  async timeline(job: Job, afterId?: string): Promise<JobEvent[]> {
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
}
