import type { QueryResult } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { bindNumbered } from '../database/bind-numbered.js';
import type { AuditEntry, AuditOutcome } from './audit-capture.js';

export interface AuditRow {
  id: string;
  at: Date;
  actor_kind: 'token' | 'bootstrap' | 'repl';
  token_id: string | null;
  token_name: string | null;
  os_user: string | null;
  client_address: string | null;
  user_agent: string | null;
  action: string;
  route: string | null;
  instance: string | null;
  targets: Record<string, unknown>;
  options: Record<string, unknown>;
  outcome: 'pending' | 'ok' | 'error';
  result: Record<string, unknown> | null;
  error: Record<string, unknown> | null;
  finished_at: Date | null;
}

export interface AuditFilter {
  actorKind?: 'token' | 'bootstrap' | 'repl';
  tokenId?: string;
  tokenName?: string;
  action?: string;
  jid?: string;
  instance?: string;
  since?: Date;
  until?: Date;
  /** ids below this one (the previous page's last) */
  beforeId?: string;
  limit: number;
}

const INSERT_SQL = `
insert into audit_log (at, actor_kind, token_id, token_name, os_user, client_address, user_agent,
  action, route, instance, targets, options)
values ($1::timestamptz, $2, $3::uuid, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12::jsonb)
returning id::text as id`;

// the trigger allows this one update of a record: pending → its outcome
const FINISH_SQL = `
update audit_log set outcome = $2, result = $3::jsonb, error = $4::jsonb,
  finished_at = $5::timestamptz
where id = $1 and outcome = 'pending'`;

// a job's actions: the jids the request named, or those its outcome names (a restart's pushes)
const LIST_SQL = `
select id::text as id, at, actor_kind, token_id, token_name, os_user, client_address, user_agent,
  action, route, instance, targets, options, outcome, result, error, finished_at
from audit_log
where ($1::text is null or actor_kind = $1)
  and ($2::uuid is null or token_id = $2::uuid)
  and ($3::text is null or token_name = $3)
  and ($4::text is null or action = $4)
  and ($5::jsonb is null or targets @> $5::jsonb or result @> $5::jsonb)
  and ($6::text is null or instance = $6)
  and ($7::timestamptz is null or at >= $7::timestamptz)
  and ($8::timestamptz is null or at < $8::timestamptz)
  and ($9::bigint is null or id < $9::bigint)
order by audit_log.id desc
limit $10`;

// the trigger lets DELETE through only in a transaction that set this (the retention job's)
const RETENTION_SQL = `select set_config('supervisor.audit_retention', 'on', true)`;

const PRUNE_SQL = `
delete from audit_log where id in (
  select id from audit_log where at < $1::timestamptz order by at, id limit $2)`;

/** audit_log: appended to, each record finished once, read, and pruned by retention only. */
export class AuditRepository {
  constructor(private readonly em: EntityManager) {}

  async insert(entry: AuditEntry, at: Date): Promise<string> {
    const actor = entry.actor;
    const [row] = await this.run<{ id: string }[]>(INSERT_SQL, [
      at.toISOString(),
      actor.kind,
      actor.kind === 'token' ? actor.tokenId : null,
      actor.kind === 'repl' ? null : actor.tokenName,
      actor.kind === 'repl' ? actor.osUser : null,
      entry.clientAddress,
      entry.userAgent,
      entry.action,
      entry.route,
      entry.instance,
      JSON.stringify(entry.targets),
      JSON.stringify(entry.options),
    ]);
    return row.id;
  }

  async finish(id: string, outcome: AuditOutcome, at: Date): Promise<void> {
    await this.run(FINISH_SQL, [
      id,
      outcome.outcome,
      outcome.outcome === 'ok' ? JSON.stringify(outcome.result) : null,
      outcome.outcome === 'error' ? JSON.stringify(outcome.error) : null,
      at.toISOString(),
    ]);
  }

  list(filter: AuditFilter): Promise<AuditRow[]> {
    return this.run<AuditRow[]>(LIST_SQL, [
      filter.actorKind ?? null,
      filter.tokenId ?? null,
      filter.tokenName ?? null,
      filter.action ?? null,
      filter.jid === undefined ? null : JSON.stringify({ jids: [filter.jid] }),
      filter.instance ?? null,
      filter.since?.toISOString() ?? null,
      filter.until?.toISOString() ?? null,
      filter.beforeId ?? null,
      filter.limit,
    ]);
  }

  /** Deletes up to `batch` records older than `cutoff`, oldest first; in the caller's transaction. */
  async pruneBefore(cutoff: Date, batch: number): Promise<number> {
    await this.run(RETENTION_SQL, []);
    const [sql, bindings] = bindNumbered(PRUNE_SQL, [cutoff.toISOString(), batch]);
    // through the EntityManager: in the caller's transaction, where the setting holds
    const result = await this.em.execute<QueryResult>(sql, bindings, 'run');
    return result.affectedRows;
  }

  private run<T = unknown[]>(sql: string, values: unknown[]): Promise<T> {
    return this.em.execute<T & unknown[]>(...bindNumbered(sql, values)) as Promise<T>;
  }
}
