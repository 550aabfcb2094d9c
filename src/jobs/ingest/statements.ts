// The ingest writer's statements. New events and new jobs' rows go in by COPY (copy-format.ts).
// The upsert and the careful path's insert take their rows as one jsonb parameter: an array of
// arrays, one value per column in the order of the column tables (columns.ts; Postgres reads
// `x->>i` from jsonb far faster than it matches object keys in json_to_recordset, and
// JSON.stringify of arrays is cheaper than of objects).

import type pg from 'pg';
import {
  type Column,
  COPY_JOB_COLUMNS,
  EVENT_COLUMNS,
  type EventColumn,
  JOB_COLUMNS,
} from './columns.js';

/** The SQL expression list reading `columns` from jsonb array element `x`. */
function readColumns(columns: readonly Column[]): string {
  return columns
    .map(({ type }, i) => (type === 'jsonb' ? `(x->>${i})::jsonb` : `(x->>${i})::${type}`))
    .join(',\n  ');
}

const copySql = (table: string, columns: readonly Column[]) =>
  `copy ${table} (${columns.map((c) => c.column).join(', ')}) from stdin`;

// New events, and rows of jobs that have none yet, by COPY (copyText). The defaults fill id,
// received_at and updated_at. A new job's row carries its payload itself (its events are all in
// the batch); a job that may have a row goes through UPSERT_JOBS_SQL.
export const COPY_EVENTS_SQL = copySql('job_events', EVENT_COLUMNS);
export const COPY_JOBS_SQL = copySql('jobs', COPY_JOB_COLUMNS);

// The events stored so far for the given jobs, with times as integer microseconds (a JS Date
// would drop the microseconds). The payload stays in Postgres: the row copies it by dedupe key.
// Each job is one probe of job_events_dedupe_idx (a brand-new job costs one probe that finds
// nothing), whatever the planner believes about the table's size: `offset 0` keeps the lateral
// subquery from being pulled up into a plain join. Without it the connection's cached generic plan,
// made while the table was small, hash-joined a sequential scan of all of job_events into every
// group, so each batch cost more than the one before. Its list is foldSelect of every column the
// fold reads (statements.spec.ts checks it), kept as written so the statement stays as it was.
export const SELECT_EVENTS_SQL = `
select e.instance, e.jid, e.type, e.dedupe_key,
  (extract(epoch from e.occurred_at) * 1000000)::int8 as occurred_us,
  e.attempt, e.job_class, e.queue, e.arguments, e.wrapper_class, e.raw_arguments, e.active_job_id,
  e.payload is not null as has_payload,
  (extract(epoch from e.created_at) * 1000000)::int8 as created_us,
  (extract(epoch from e.scheduled_at) * 1000000)::int8 as scheduled_us,
  e.hostname, e.pid, e.tid, e.error_class, e.error_message, e.error_backtrace::text as error_backtrace,
  e.will_retry, e.duration_ms, e.restarted_as, e.restarted_from
from (select distinct instance, jid from unnest($1::text[], $2::text[]) as k(instance, jid)) k
cross join lateral (
  select * from job_events j where j.instance = k.instance and j.jid = k.jid offset 0
) e
`;

const PAYLOAD_INDEX = JOB_COLUMNS.length - 1;
const jobValues = readColumns(JOB_COLUMNS.slice(0, PAYLOAD_INDEX));

// Folded rows (job-fold.ts), $1 from rowsParam(JOB_COLUMNS, rows), the payload copied from the
// stored event it names: the base of UPSERT_JOBS_SQL.
const INSERT_JOBS_SQL = `
insert into jobs (${JOB_COLUMNS.map((c) => c.column).join(', ')}, updated_at)
select ${jobValues},
  case when x->>${PAYLOAD_INDEX} is not null then (select e.payload from job_events e
    where e.instance = x->>0 and e.jid = x->>1 and e.dedupe_key = x->>${PAYLOAD_INDEX}) end,
  now()
from jsonb_array_elements($1::jsonb) x
`;

// The same for jobs that may have a row: every column replaced.
export const UPSERT_JOBS_SQL = `${INSERT_JOBS_SQL}on conflict (instance, jid) do update set
  ${JOB_COLUMNS.slice(2)
    .map((c) => `${c.column} = excluded.${c.column}`)
    .join(', ')},
  updated_at = excluded.updated_at
`;

// Serialises writers per job across connections and service copies; taken in sorted order so
// two transactions never wait on each other in a cycle.
/** A job's ingest lock key (pg_advisory_xact_lock): the writer's and retention's, one spelling
 * (listed with the service's other advisory locks in src/database/advisory-locks.ts). */
export const JOB_LOCK_KEY = `hashtextextended(instance || '/' || jid, 0)`;

export const LOCK_JOBS_SQL = `
select count(pg_advisory_xact_lock(h)) from (
  select distinct ${JOB_LOCK_KEY} as h
  from unnest($1::text[], $2::text[]) as k(instance, jid) order by h
) s
`;

// Events as they are, $1 from rowsParam(EVENT_COLUMNS, events): the base of INSERT_EVENTS_SQL.
const INSERT_NEW_EVENTS_SQL = `
insert into job_events (${EVENT_COLUMNS.map((c) => c.column).join(', ')})
select ${readColumns(EVENT_COLUMNS)}
from jsonb_array_elements($1::jsonb) x
`;

// The same, skipping events stored before; returns the ones it stored.
export const INSERT_EVENTS_SQL = `${INSERT_NEW_EVENTS_SQL}on conflict (instance, jid, dedupe_key) do nothing
returning instance, jid, dedupe_key
`;

/**
 * What SELECT_EVENTS_SQL returns for an event column the fold reads: the result column's name and
 * the expression. Times as integer microseconds (a JS Date would drop the microseconds), jsonb as
 * its text, the payload as whether there is one.
 */
export function foldSelect(c: EventColumn): { alias: string; sql: string } {
  if (c.foldPresence) {
    return { alias: `has_${c.column}`, sql: `e.${c.column} is not null as has_${c.column}` };
  }
  if (c.type === 'timestamptz') {
    const alias = c.column.replace(/_at$/, '_us');
    return { alias, sql: `(extract(epoch from e.${c.column}) * 1000000)::int8 as ${alias}` };
  }
  if (c.type === 'jsonb') {
    return { alias: c.column, sql: `e.${c.column}::text as ${c.column}` };
  }
  return { alias: c.column, sql: `e.${c.column}` };
}

/**
 * The writer's statements as named (prepared) statements: each connection parses and plans them
 * once instead of for every group (planning the 27-column INSERT ... SELECT cost about as much
 * as executing it for a few hundred rows).
 */
export function prepared(name: string, text: string, values: unknown[]): pg.QueryConfig {
  return { name: `ingest_${name}`, text, values };
}
