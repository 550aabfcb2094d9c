import type { AuditFilter, AuditRow } from '../audit.repository.js';
import type { AuditListQueryDto, AuditPageDto, AuditRecordDto } from './audit.dto.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The query as a filter; one row more than the page to know whether another follows. */
export function auditFilter(q: AuditListQueryDto, limit: number): AuditFilter {
  const filter: AuditFilter = {
    action: q.action,
    jid: q.jid,
    instance: q.instance,
    since: q.since === undefined ? undefined : new Date(q.since),
    until: q.until === undefined ? undefined : new Date(q.until),
    beforeId: q.cursor,
    limit: limit + 1,
  };
  if (q.actor === 'repl' || q.actor === 'bootstrap') {
    filter.actorKind = q.actor;
  } else if (q.actor !== undefined && UUID.test(q.actor)) {
    filter.tokenId = q.actor.toLowerCase();
  } else if (q.actor !== undefined) {
    filter.tokenName = q.actor;
  }
  return filter;
}

/** `withClient`: the client's address and user agent (the admin log; not on a job's page). */
export function toAuditPage(rows: AuditRow[], limit: number, withClient: boolean): AuditPageDto {
  const page = rows.slice(0, limit);
  return {
    records: page.map((r) => toRecord(r, withClient)),
    next_cursor: rows.length > limit ? page[page.length - 1].id : null,
  };
}

function toRecord(r: AuditRow, withClient: boolean): AuditRecordDto {
  return {
    id: r.id,
    at: new Date(r.at).toISOString(),
    actor: {
      kind: r.actor_kind,
      token_id: r.token_id,
      token_name: r.token_name,
      os_user: r.os_user,
    },
    client_address: withClient ? r.client_address : null,
    user_agent: withClient ? r.user_agent : null,
    action: r.action,
    route: r.route,
    instance: r.instance,
    targets: r.targets,
    options: r.options,
    outcome: r.outcome,
    result: r.result,
    error: r.error,
    finished_at: r.finished_at === null ? null : new Date(r.finished_at).toISOString(),
  };
}
