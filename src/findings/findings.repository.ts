import type { QueryResult } from '@mikro-orm/core';
import { EntityRepository } from '@mikro-orm/postgresql';
import { bindNumbered } from '../database/bind-numbered.js';
import type { Finding } from './finding.entity.js';

/** What a detector sees in one evaluation: a finding to open, or to refresh when already open. */
export interface Observation {
  detector: string;
  /** stable while the thing lasts; unique among open findings */
  identity: string;
  instance: string;
  jobClass: string | null;
  jid: string | null;
  severity: 'warning' | 'critical';
  summary: string;
  evidence: Record<string, unknown>;
}

export interface FindingRow {
  id: string;
  detector: string;
  identity: string;
  instance: string;
  jobClass: string | null;
  jid: string | null;
  severity: string;
  summary: string;
  evidence: Record<string, unknown>;
  startedAt: Date;
  lastSeenAt: Date;
  endedAt: Date | null;
}

export type FindingState = 'open' | 'recent';

export interface FindingQuery {
  detector?: string;
  /** open: not ended, newest start first; recent: ended, newest end first; none: all, newest first */
  state?: FindingState;
  instance?: string;
  jobClass?: string;
  jid?: string;
  offset: number;
  limit: number;
}

export interface ObserveResult {
  opened: number;
  refreshed: number;
  closed: number;
}

const COLUMNS = `id::text as id, detector, identity, instance, job_class, jid, severity, summary,
  evidence, started_at, last_seen_at, ended_at`;

interface RawRow {
  id: string;
  detector: string;
  identity: string;
  instance: string;
  job_class: string | null;
  jid: string | null;
  severity: string;
  summary: string;
  evidence: Record<string, unknown> | string;
  started_at: Date | string;
  last_seen_at: Date | string;
  ended_at: Date | string | null;
}

const toDate = (v: Date | string) => (v instanceof Date ? v : new Date(v));

function toRow(r: RawRow): FindingRow {
  return {
    id: r.id,
    detector: r.detector,
    identity: r.identity,
    instance: r.instance,
    jobClass: r.job_class,
    jid: r.jid,
    severity: r.severity,
    summary: r.summary,
    evidence: typeof r.evidence === 'string' ? (JSON.parse(r.evidence) as never) : r.evidence,
    startedAt: toDate(r.started_at),
    lastSeenAt: toDate(r.last_seen_at),
    endedAt: r.ended_at === null ? null : toDate(r.ended_at),
  };
}

// Each observation opens a finding, or refreshes the open one with its identity (the partial
// unique index is the arbiter: a finding that ended leaves room for a new one).
const OBSERVE_SQL = `
insert into findings (detector, identity, instance, job_class, jid, severity, summary, evidence,
  started_at, last_seen_at)
select o.detector, o.identity, o.instance, o.job_class, o.jid, o.severity, o.summary, o.evidence,
  $2, $2
from jsonb_to_recordset($1::jsonb) as o(detector text, identity text, instance text,
  job_class text, jid text, severity text, summary text, evidence jsonb)
on conflict (identity) where ended_at is null do update set
  last_seen_at = excluded.last_seen_at,
  severity = excluded.severity,
  summary = excluded.summary,
  evidence = excluded.evidence
returning (xmax = 0) as inserted`;

// The open findings of a detector that this evaluation did not see again have ended.
const CLOSE_SQL = `
update findings set ended_at = $3
where detector = $1 and ended_at is null
  and identity not in (select jsonb_array_elements_text($2::jsonb))`;

export class FindingsRepository extends EntityRepository<Finding> {
  /**
   * Records one complete evaluation of `detector`: opens or refreshes what it saw and ends its
   * open findings it did not see. `closeUnseen` false (a partial evaluation: an instance was
   * unreachable) keeps the unseen ones open rather than ending them on no evidence.
   */
  async observe(
    detector: string,
    seen: Observation[],
    now: Date,
    closeUnseen: boolean,
  ): Promise<ObserveResult> {
    let opened = 0;
    let refreshed = 0;
    if (seen.length > 0) {
      const payload = JSON.stringify(
        seen.map((o) => ({
          detector: o.detector,
          identity: o.identity,
          instance: o.instance,
          job_class: o.jobClass,
          jid: o.jid,
          severity: o.severity,
          summary: o.summary,
          evidence: o.evidence,
        })),
      );
      const rows = await this.execute<{ inserted: boolean }>(OBSERVE_SQL, [
        payload,
        now.toISOString(),
      ]);
      opened = rows.filter((r) => r.inserted).length;
      refreshed = rows.length - opened;
    }
    let closed = 0;
    if (closeUnseen) {
      const [sql, bindings] = bindNumbered(CLOSE_SQL, [
        detector,
        JSON.stringify(seen.map((o) => o.identity)),
        now.toISOString(),
      ]);
      // through the EntityManager: in the evaluation's transaction, under its lock
      const result = await this.em.execute<QueryResult>(sql, bindings, 'run');
      closed = result.affectedRows;
    }
    return { opened, refreshed, closed };
  }

  /** Open findings per detector and instance. */
  openCounts(): Promise<{ detector: string; instance: string; open: number }[]> {
    return this.execute(
      `select detector, instance, count(*)::int as open from findings where ended_at is null
       group by detector, instance`,
      [],
    );
  }

  /** The open findings of a detector (bounded by the number of open ones, as every evaluation). */
  async open(detector: string): Promise<FindingRow[]> {
    const rows = await this.execute<RawRow>(
      `select ${COLUMNS} from findings where detector = $1 and ended_at is null`,
      [detector],
    );
    return rows.map(toRow);
  }

  /** One page, and whether another follows. */
  async list(query: FindingQuery): Promise<{ rows: FindingRow[]; more: boolean }> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (clause: string, value: unknown) => {
      values.push(value);
      where.push(clause.replace('?', `$${values.length}`));
    };
    if (query.detector) {
      add('detector = ?', query.detector);
    }
    if (query.instance) {
      add('instance = ?', query.instance);
    }
    if (query.jobClass) {
      add('job_class = ?', query.jobClass);
    }
    if (query.jid) {
      add('jid = ?', query.jid);
    }
    if (query.state === 'open') {
      where.push('ended_at is null');
    } else if (query.state === 'recent') {
      where.push('ended_at is not null');
    }
    const order = query.state === 'recent' ? 'ended_at desc, id desc' : 'started_at desc, id desc';
    values.push(query.limit + 1, query.offset);
    const rows = await this.execute<RawRow>(
      `select ${COLUMNS} from findings ${where.length > 0 ? `where ${where.join(' and ')}` : ''}
       order by ${order} limit $${values.length - 1} offset $${values.length}`,
      values,
    );
    return { rows: rows.slice(0, query.limit).map(toRow), more: rows.length > query.limit };
  }

  async byId(id: string): Promise<FindingRow | null> {
    const [row] = await this.execute<RawRow>(`select ${COLUMNS} from findings where id = $1`, [id]);
    return row ? toRow(row) : null;
  }

  private execute<T>(sql: string, values: unknown[]): Promise<T[]> {
    const [text, bindings] = bindNumbered(sql, values);
    return this.em.execute<T[]>(text, bindings);
  }
}
