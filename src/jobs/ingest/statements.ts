// The ingest writer's statements. New events and new jobs' rows go in by COPY (copy-format.ts).
// The update of existing jobs takes its rows as one jsonb parameter: an array of arrays, one value
// per column in the order of the column tables (columns.ts; Postgres reads `x->>i` from jsonb far
// faster than it matches object keys in json_to_recordset, and JSON.stringify of arrays is cheaper
// than of objects).
//
// job_events is partitioned by the day it was received and keyed by the job row's id; it has no
// unique index (a partitioned table's would have to contain received_at, and would no longer
// dedupe): the writer dedupes under the job's advisory lock, against the job's stored events.

import type pg from 'pg';
import {
  type Column,
  type EventColumn,
  EVENT_COLUMNS,
  JOB_COLUMNS,
  STORED_EVENT_COLUMNS,
} from './columns.js';

/** The SQL expression list reading `columns` from jsonb array element `x`, each named. */
function readColumns(columns: readonly Column[]): string {
  return columns
    .map(({ type, column }, i) =>
      type === 'jsonb' ? `(x->>${i})::jsonb as ${column}` : `(x->>${i})::${type} as ${column}`,
    )
    .join(',\n  ');
}

const copySql = (table: string, columns: readonly Column[]) =>
  `copy ${table} (${columns.map((c) => c.column).join(', ')}) from stdin`;

// New events, and rows of jobs that have none yet, by COPY (copyText). The defaults fill the
// events' id and received_at, and the job's first_received_at and updated_at.
export const COPY_EVENTS_SQL = copySql('job_events', STORED_EVENT_COLUMNS);
export const COPY_JOBS_SQL = copySql('jobs', JOB_COLUMNS);

/** Ids for `$1` new jobs, drawn before their events (which carry them) are written. */
export const NEXT_JOB_IDS_SQL = `
select nextval(pg_get_serial_sequence('jobs', 'id'))::text as id from generate_series(1, $1::int)
`;

/**
 * The dedupe key of a stored event, as the parser makes it (`type|attempt|occurred_at or -`):
 * derived rather than stored (40 bytes an event).
 */
export const DEDUPE_KEY_SQL = `e.type || '|' || e.attempt || '|' || case when e.client_time
  then to_char(e.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') else '-' end`;

/**
 * What the stored-events read returns for an event field the fold reads: the result column's name
 * and the expression. Times as integer microseconds (a JS Date would drop the microseconds), jsonb
 * as its text; the fields kept on the job row read as null (the job's identity is merged by the
 * update: identity_at) and the dedupe key is derived.
 */
export function foldSelect(c: EventColumn): { alias: string; sql: string } {
  if (c.key === 'dedupeKey') {
    return { alias: c.column, sql: `${DEDUPE_KEY_SQL} as ${c.column}` };
  }
  if (c.foldPresence) {
    const alias = `has_${c.column}`;
    return { alias, sql: c.onJob ? `false as ${alias}` : `e.${c.column} is not null as ${alias}` };
  }
  if (c.onJob) {
    return { alias: c.column, sql: `null::text as ${c.column}` };
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

const FOLD_SELECT = EVENT_COLUMNS.filter((c: EventColumn) => c.fold !== undefined)
  .map((c) => foldSelect(c).sql)
  .join(',\n  ');

// The given jobs' rows: their ids, how many events they count, and the span their events were
// received in (integer microseconds). One probe of the jobs (jid, instance) index each, whatever the
// planner believes about the table's size: `offset 0` keeps the lateral subquery from being pulled
// up into a join that a connection's cached generic plan, made while the table was small, could
// answer with a sequential scan of jobs for every group.
export const SELECT_JOBS_SQL = `
select k.instance, k.jid, j.id::text as job_id, j.event_count,
  (extract(epoch from j.first_received_at) * 1000000)::int8 as first_received_us,
  (extract(epoch from j.updated_at) * 1000000)::int8 as updated_us
from (select distinct instance, jid from unnest($1::text[], $2::text[]) as k(instance, jid)) k
cross join lateral (
  select id, event_count, first_received_at, updated_at from jobs
  where jobs.jid = k.jid and jobs.instance = k.instance offset 0
) j
`;

// Every event stored for the jobs $1 (ids), as the fold reads them, from the partitions received
// between $2 and $3 (the earliest first_received_at and the latest updated_at of those jobs: a job's
// events are received in its span; run-time pruning skips every other day). One scan of the
// job_id index per partition in the span, for all the jobs at once.
export const SELECT_EVENTS_SQL = `
select e.job_id::text as job_id,
  ${FOLD_SELECT},
  (extract(epoch from e.started_at) * 1000000)::int8 as started_us
from job_events e
where e.job_id = any($1::int8[])
  and e.received_at >= timestamptz 'epoch' + $2::int8 * interval '1 microsecond'
  and e.received_at <= timestamptz 'epoch' + $3::int8 * interval '1 microsecond'
`;

// Identity columns of the job row: each taken from the update when it has one and the row has
// none, or when it comes from an earlier event than the row's (identity_at). The payload travels
// with where its args go back.
const IDENTITY = [
  'job_class',
  'queue',
  'arguments',
  'wrapper_class',
  'raw_arguments',
  'active_job_id',
];
const EARLIER = `(j.identity_at is null or v.identity_at < j.identity_at)`;
const takes = (column: string) =>
  `(v.${column} is not null and (j.${column} is null or ${EARLIER}))`;
const newArgs = `coalesce(case when ${takes('raw_arguments')} then v.raw_arguments else j.raw_arguments end,
    case when ${takes('arguments')} then v.arguments else j.arguments end)`;
// The payload is stored without its args (payload-args.ts), which go back from the row's arguments.
// Whenever the arguments the row ends with are not the ones a payload part was cut against (an
// earlier event brought other arguments, or a payload without them), that payload is stored whole.
const whole = (t: string) =>
  `overlay(${t}.payload_rest placing coalesce(${t}.raw_arguments, ${t}.arguments) from ${t}.payload_args_at + 1 for 0)`;
const cutAgainstOther = (t: string) =>
  `(${t}.payload_args_at is not null and ${newArgs} is distinct from coalesce(${t}.raw_arguments, ${t}.arguments))`;
const PAYLOAD_REST = `case
    when ${takes('payload_rest')} then case when ${cutAgainstOther('v')} then ${whole('v')} else v.payload_rest end
    when ${cutAgainstOther('j')} then ${whole('j')}
    else j.payload_rest end`;
const PAYLOAD_ARGS_AT = `case
    when ${takes('payload_rest')} then case when ${cutAgainstOther('v')} then null else v.payload_args_at end
    when ${cutAgainstOther('j')} then null
    else j.payload_args_at end`;

const STATE_COLUMNS = JOB_COLUMNS.filter(
  (c) =>
    !['id', 'instance', 'jid', 'identity_at', 'payload_rest', 'payload_args_at'].includes(
      c.column,
    ) &&
    !IDENTITY.includes(c.column) &&
    !['first_event_at', 'created_at', 'last_event_at'].includes(c.column),
);

// Existing jobs' rows, $1 from rowsParam(JOB_COLUMNS, rows): the state the fold decided; times the
// events of an expired part may have set kept by least/greatest; the identity merged (above); the
// payload dropped once the job succeeded unless succeeded jobs keep theirs.
export const updateJobsSql = (keepSucceededPayloads: boolean) => `
update jobs j set
  ${STATE_COLUMNS.map((c) => `${c.column} = v.${c.column}`).join(',\n  ')},
  first_event_at = least(j.first_event_at, v.first_event_at),
  created_at = least(j.created_at, v.created_at),
  last_event_at = greatest(j.last_event_at, v.last_event_at),
  ${IDENTITY.map((c) => `${c} = case when ${takes(c)} then v.${c} else j.${c} end`).join(',\n  ')},
  payload_rest = ${keepSucceededPayloads ? PAYLOAD_REST : `case when v.status = 'succeeded' then null else ${PAYLOAD_REST} end`},
  payload_args_at = ${keepSucceededPayloads ? PAYLOAD_ARGS_AT : `case when v.status = 'succeeded' then null else ${PAYLOAD_ARGS_AT} end`},
  identity_at = least(j.identity_at, v.identity_at),
  updated_at = now()
from (select ${readColumns(JOB_COLUMNS)}
  from jsonb_array_elements($1::jsonb) x) v
where j.id = v.id
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

/**
 * The writer's statements as named (prepared) statements: each connection parses and plans them
 * once instead of for every group.
 */
export function prepared(name: string, text: string, values: unknown[]): pg.QueryConfig {
  return { name: `ingest_${name}`, text, values };
}
