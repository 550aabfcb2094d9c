import { EntityRepository } from '@mikro-orm/postgresql';
import { bindNumbered } from '../database/bind-numbered.js';
import type { DetectorName, Finding } from './finding.entity.js';

/** A finding as its detector sees it now: opened, or refreshed while one with its identity is open. */
export interface FindingDraft {
  /** stable while the thing lasts; unique among open findings */
  identity: string;
  instance: string;
  jobClass: string | null;
  jid: string | null;
  severity: 'warning' | 'critical';
  /** one sentence saying why it fired */
  summary: string;
  evidence: Record<string, unknown>;
  /** when what it is about was last seen (default: the evaluation's time) */
  seenAt?: Date;
}

/** What a detector sees in one evaluation. */
export interface Observation extends FindingDraft {
  detector: DetectorName;
}

/**
 * Which of a detector's open findings that an evaluation did not see again end: all of them (it
 * read everything), none (part of what it reads was out of reach: they stay open rather than end
 * on no evidence), or all but those of instances it could not read.
 */
export type EndUnseen = 'all' | 'none' | { readonly exceptInstances: readonly string[] };
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

export interface RecordResult {
  opened: number;
  refreshed: number;
  ended: number;
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

// Each draft opens a finding, or refreshes the open one with its identity (the partial unique index
// findings_open_identity is the arbiter: a finding that ended leaves room for a new one, kept as
// history beside it).
const RECORD_SQL = `
insert into findings as f (detector, identity, instance, job_class, jid, severity, summary,
  evidence, started_at, last_seen_at)
select $1, d.identity, d.instance, d.job_class, d.jid, d.severity, d.summary, d.evidence,
  $2::timestamptz, coalesce(d.seen_at, $2::timestamptz)
from jsonb_to_recordset($3::jsonb) as d(identity text, instance text, job_class text, jid text,
  severity text, summary text, evidence jsonb, seen_at timestamptz)
on conflict (identity) where ended_at is null do update set
  last_seen_at = greatest(f.last_seen_at, excluded.last_seen_at),
  severity = excluded.severity,
  summary = excluded.summary,
  evidence = excluded.evidence
returning (xmax = 0) as inserted`;

// The open findings of a detector that this evaluation did not see again have ended (but those of
// the instances it could not read). NOT IN over a subquery is a hashed subplan: one probe per open
// finding (`<> all(array)` compares each with every identity seen: 640k comparisons at 800).
const END_SQL = `
update findings set ended_at = $1::timestamptz
where detector = $2 and ended_at is null
  and identity not in (select jsonb_array_elements_text($3::jsonb))
  and instance not in (select jsonb_array_elements_text($4::jsonb))
returning id`;

export class FindingsRepository extends EntityRepository<Finding> {
  /**
   * The one write to the findings table, whatever the detector: records one evaluation of
   * `detector`, opening or refreshing a finding per draft (one per identity: should two share
   * one, the last wins) and ending, as `endUnseen` says, its open findings not seen again.
   * Through the EntityManager: in the caller's transaction, under its lock.
   */
  async record(
    detector: DetectorName,
    drafts: readonly FindingDraft[],
    now: Date,
    endUnseen: EndUnseen,
  ): Promise<RecordResult> {
    const seen = [...new Map(drafts.map((d) => [d.identity, d])).values()];
    let opened = 0;
    let refreshed = 0;
    if (seen.length > 0) {
      const payload = JSON.stringify(
        seen.map((d) => ({
          identity: d.identity,
          instance: d.instance,
          job_class: d.jobClass,
          jid: d.jid,
          severity: d.severity,
          summary: d.summary,
          evidence: d.evidence,
          seen_at: d.seenAt?.toISOString() ?? null,
        })),
      );
      const rows = await this.execute<{ inserted: boolean }>(RECORD_SQL, [
        detector,
        now.toISOString(),
        payload,
      ]);
      opened = rows.filter((r) => r.inserted).length;
      refreshed = rows.length - opened;
    }
    let ended = 0;
    if (endUnseen !== 'none') {
      const rows = await this.execute<{ id: string }>(END_SQL, [
        now.toISOString(),
        detector,
        JSON.stringify(seen.map((d) => d.identity)),
        JSON.stringify(endUnseen === 'all' ? [] : endUnseen.exceptInstances),
      ]);
      ended = rows.length;
    }
    return { opened, refreshed, ended };
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
