import type { EntityManager } from '@mikro-orm/postgresql';
import type { ProcessLife } from './process-life.js';

/** A row of `processes` as read back (times as Dates). */
export interface ProcessRow {
  /** last_event_at with its microseconds (the list's cursor) */
  cursorAt?: string;
  instance: string;
  identity: string;
  hostname: string | null;
  pid: number | null;
  tag: string | null;
  sidekiqVersion: string | null;
  clientVersion: string | null;
  concurrency: number | null;
  queues: string[] | null;
  startedAt: Date | null;
  lastHeartbeatAt: Date;
  quietAt: Date | null;
  stoppedAt: Date | null;
  lastEventAt: Date;
}

export interface ProcessListQuery {
  instance?: string;
  /** only lives whose state is one of these (computed with silentBefore) */
  statuses?: string[];
  silentBefore: Date;
  limit: number;
  /** the (last_event_at, identity) of the previous page's last row */
  after?: { lastEventAt: string; instance: string; identity: string };
}

const COLUMNS = `instance, identity, hostname, pid, tag, sidekiq_version, client_version, concurrency,
  queues, started_at, last_heartbeat_at, quiet_at, stopped_at, last_event_at, described_at`;

// The state of a row as SQL (ProcessStatus, see statusOf); $silent is the silence cutoff.
const STATUS_SQL = (silent: string) => `case
  when stopped_at is not null then 'stopped'
  when last_heartbeat_at < ${silent} then 'silent'
  when quiet_at is not null then 'quiet'
  else 'running' end`;

// mergeLives in SQL: p is the stored row, excluded the incoming life
const NEWER = `(p.started_at is not null and excluded.started_at > p.started_at)`;
const OLDER = `(p.started_at is not null and excluded.started_at < p.started_at)`;
const DESCRIBED_LATER = `(${NEWER} or (excluded.described_at is not null and (p.described_at is null or excluded.described_at > p.described_at)))`;
const described = (c: string) =>
  `${c} = case when ${DESCRIBED_LATER} then excluded.${c} else p.${c} end`;
const timed = (c: string, keep: 'least' | 'greatest') =>
  `${c} = case when ${NEWER} then excluded.${c} else ${keep}(p.${c}, excluded.${c}) end`;
const UPSERT_SQL = `insert into processes as p (${COLUMNS})
  select ${COLUMNS} from json_populate_recordset(null::processes, ?::json)
  on conflict (instance, identity) do update set
    hostname = greatest(p.hostname, excluded.hostname),
    pid = greatest(p.pid, excluded.pid),
    ${['tag', 'sidekiq_version', 'client_version', 'concurrency', 'queues', 'described_at'].map(described).join(',\n    ')},
    ${timed('started_at', 'least')},
    ${timed('last_heartbeat_at', 'greatest')},
    ${timed('quiet_at', 'least')},
    ${timed('stopped_at', 'least')},
    ${timed('last_event_at', 'greatest')}
  where not ${OLDER}`;

/**
 * lost-rule.ts's lifeOfRun + lifeIsDead for the run of a `jobs` row, as a subquery for
 * JobRepository's lost predicate: whether the process life it ran in (its hostname and pid, begun
 * before it; LIFE_START_SLACK_MS = 1 s) is over; null when it has none. One parameter: the silence
 * cutoff. An index lookup per job (processes_host_pid_index).
 */
export const RUN_LIFE_OVER_SQL = `(select p.stopped_at is not null or p.last_heartbeat_at < ?::timestamptz
  from processes p
  where p.instance = jobs.instance and p.hostname = jobs.hostname and p.pid = jobs.pid
    and (p.started_at is null or jobs.started_at is null
         or p.started_at <= jobs.started_at + interval '1 second')
  order by p.started_at desc nulls last limit 1)`;

/** The one class that spells SQL for `processes` (Sidekiq process lives, see process-life.ts). */
export class ProcessLifeRepository {
  constructor(private readonly em: EntityManager) {}

  /**
   * Merges each life into its row (mergeLives' rules, in SQL: a newer started_at replaces the
   * row, an older one is ignored, otherwise earliest/latest per time). One statement; `lives`
   * holds one entry per (instance, identity).
   */
  async record(lives: readonly ProcessLife[]): Promise<void> {
    if (lives.length === 0) {
      return;
    }
    const rows = lives.map((l) => ({
      instance: l.instance,
      identity: l.identity,
      hostname: l.hostname,
      pid: l.pid,
      tag: l.tag,
      sidekiq_version: l.sidekiqVersion,
      client_version: l.clientVersion,
      concurrency: l.concurrency,
      queues: l.queues === null ? null : (JSON.parse(l.queues) as unknown),
      started_at: l.startedAt,
      last_heartbeat_at: l.lastHeartbeatAt,
      quiet_at: l.quietAt,
      stopped_at: l.stoppedAt,
      last_event_at: l.lastEventAt,
      described_at: l.describedAt,
    }));
    await this.em.execute(UPSERT_SQL, [JSON.stringify(rows)]);
  }

  /** A page of lives, the most recently heard from first (keyset on last_event_at, instance, identity). */
  async list(q: ProcessListQuery): Promise<ProcessRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.instance !== undefined) {
      where.push('instance = ?');
      params.push(q.instance);
    }
    if (q.statuses?.length) {
      where.push(`${STATUS_SQL('?::timestamptz')} in (select json_array_elements_text(?::json))`);
      params.push(q.silentBefore.toISOString(), JSON.stringify(q.statuses));
    }
    if (q.after) {
      where.push('(last_event_at, instance, identity) < (?::timestamptz, ?, ?)');
      params.push(q.after.lastEventAt, q.after.instance, q.after.identity);
    }
    const rows = await this.em.execute<Record<string, unknown>[]>(
      `select ${COLUMNS}, to_char(last_event_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at
       from processes ${where.length ? `where ${where.join(' and ')}` : ''}
       order by last_event_at desc, instance desc, identity desc limit ?`,
      [...params, q.limit],
    );
    return rows.map(toRow);
  }

  /**
   * The lives JobManager judges running jobs by: of `instance` (every instance when undefined),
   * at most `limit`, the most recently heard from first.
   */
  async recent(instance: string | undefined, limit: number): Promise<ProcessRow[]> {
    const rows = await this.em.execute<Record<string, unknown>[]>(
      `select ${COLUMNS} from processes ${instance === undefined ? '' : 'where instance = ?'}
       order by last_event_at desc limit ?`,
      instance === undefined ? [limit] : [instance, limit],
    );
    return rows.map(toRow);
  }

  /** The lives of these (instance, hostname, pid): what a page of jobs is judged by. */
  async ofWorkers(
    keys: readonly { instance: string; hostname: string; pid: number }[],
  ): Promise<ProcessRow[]> {
    if (keys.length === 0) {
      return [];
    }
    const rows = await this.em.execute<Record<string, unknown>[]>(
      `select ${COLUMNS} from processes
       where (instance, hostname, pid) in (
         select instance, hostname, pid
         from json_to_recordset(?::json) as k(instance text, hostname text, pid int))`,
      [JSON.stringify(keys)],
    );
    return rows.map(toRow);
  }

  /**
   * Deletes up to `limit` lives stopped before `cutoff`, or never heard from since (silent);
   * returns how many.
   */
  async deleteEndedBefore(cutoff: Date, limit: number): Promise<number> {
    const rows = await this.em.execute<{ identity: string }[]>(
      `delete from processes where (instance, identity) in (
         select instance, identity from processes
         where coalesce(stopped_at, last_event_at) < ? and last_event_at < ?
         limit ?)
       returning identity`,
      [cutoff.toISOString(), cutoff.toISOString(), limit],
    );
    return rows.length;
  }
}

function toRow(r: Record<string, unknown>): ProcessRow & { cursorAt?: string } {
  const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));
  return {
    instance: r.instance as string,
    identity: r.identity as string,
    hostname: (r.hostname as string | null) ?? null,
    pid: (r.pid as number | null) ?? null,
    tag: (r.tag as string | null) ?? null,
    sidekiqVersion: (r.sidekiq_version as string | null) ?? null,
    clientVersion: (r.client_version as string | null) ?? null,
    concurrency: (r.concurrency as number | null) ?? null,
    queues: (r.queues as string[] | null) ?? null,
    startedAt: date(r.started_at),
    lastHeartbeatAt: date(r.last_heartbeat_at)!,
    quietAt: date(r.quiet_at),
    stoppedAt: date(r.stopped_at),
    lastEventAt: date(r.last_event_at)!,
    ...(typeof r.cursor_at === 'string' ? { cursorAt: r.cursor_at } : {}),
  };
}
