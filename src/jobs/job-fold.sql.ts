// The ingest writer's statements. New events and new jobs' rows go in by COPY (copyText). The
// upsert and the careful path's insert take their rows as one jsonb parameter: an array of
// arrays, one value per column in the order of the column lists below (Postgres reads `x->>i`
// from jsonb far faster than it matches object keys in json_to_recordset, and JSON.stringify of
// arrays is cheaper than of objects).

import type { IngestEvent } from './ingest-event.js';

/** A column the writer sends: the property of the JS row, the SQL column, its SQL type. */
interface Column<Row> {
  key: keyof Row & string;
  column: string;
  type: string;
}

/** The SQL expression list reading `columns` from jsonb array element `x`. */
function readColumns<Row>(columns: readonly Column<Row>[]): string {
  return columns
    .map(({ type }, i) => (type === 'jsonb' ? `(x->>${i})::jsonb` : `(x->>${i})::${type}`))
    .join(',\n  ');
}

/** JSON text of `rows` as arrays in `columns` order: the parameter the statements read. */
export function rowsParam<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  return JSON.stringify(rows.map(valuesOf(columns)));
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * `new Function(...params, body(keys))` for the columns' keys, made once per column list and kept
 * in `cache`. The keys are this file's own identifiers (checked here), never input.
 */
function compiled<F>(
  cache: WeakMap<object, F>,
  columns: readonly { key: string }[],
  params: string[],
  body: (keys: string[]) => string,
): F {
  let fn = cache.get(columns);
  if (!fn) {
    const bad = columns.find((c) => !IDENTIFIER.test(c.key));
    if (bad) {
      throw new Error(`column key ${bad.key} is not an identifier`);
    }
    fn = new Function(...params, body(columns.map((c) => c.key))) as F;
    cache.set(columns, fn);
  }
  return fn;
}

const accessors = new WeakMap<object, (row: never) => unknown[]>();

/**
 * `(row) => [row.a, row.b, ...]` for `columns`, made once per column list: named property reads
 * the JIT inlines. Reading `row[key]` in a loop over 25 keys goes through V8's megamorphic keyed
 * lookup, which cost about as much as the JSON text itself (0.7 µs of ~1.8 per row).
 */
function valuesOf<Row>(columns: readonly Column<Row>[]): (row: Row) => unknown[] {
  return compiled(
    accessors,
    columns,
    ['row'],
    (keys) => `return [${keys.map((k) => `row.${k}`).join(', ')}];`,
  ) as (row: Row) => unknown[];
}

const copyLines = new WeakMap<object, (field: (value: unknown) => string, row: never) => string>();

// the characters COPY's text format escapes
const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_SPECIAL_ALL = /[\\\n\r\t]/g;
const COPY_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

/** One value in COPY's text format: `\N` for null; backslash, newline, CR and tab escaped. */
export function copyField(value: unknown): string {
  if (value === null || value === undefined) {
    return '\\N';
  }
  if (typeof value !== 'string') {
    // numbers and booleans: what Postgres's int, float8 and boolean inputs read
    return String(value as number | boolean);
  }
  return COPY_SPECIAL.test(value) ? value.replace(COPY_SPECIAL_ALL, (c) => COPY_ESCAPES[c]) : value;
}

/**
 * `rows` in COPY's text format, `columns` in order: what COPY_EVENTS_SQL / COPY_JOBS_SQL read.
 * COPY stores a batch with a fraction of the work of INSERT ... SELECT from a jsonb parameter: no
 * jsonb to parse and take apart, and the heap takes many rows per WAL record (multi-insert);
 * measured 17% less Postgres CPU for a new job's event and row.
 */
export function copyText<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  const line = compiled(
    copyLines,
    columns,
    ['field', 'row'],
    (keys) => `return ${keys.map((k) => `field(row.${k})`).join(" + '\\t' + ")} + '\\n';`,
  ) as (field: (value: unknown) => string, row: Row) => string;
  let text = '';
  for (const row of rows) {
    text += line(copyField, row);
  }
  return text;
}

const copySql = <Row>(table: string, columns: readonly Column<Row>[]) =>
  `copy ${table} (${columns.map((c) => c.column).join(', ')}) from stdin`;

// what the writer inserts per event
export const EVENT_COLUMNS: readonly Column<IngestEvent>[] = [
  { key: 'instance', column: 'instance', type: 'text' },
  { key: 'jid', column: 'jid', type: 'text' },
  { key: 'type', column: 'type', type: 'text' },
  { key: 'dedupeKey', column: 'dedupe_key', type: 'text' },
  { key: 'occurredAt', column: 'occurred_at', type: 'timestamptz' },
  { key: 'clientTime', column: 'client_time', type: 'boolean' },
  { key: 'attempt', column: 'attempt', type: 'int' },
  { key: 'retryCount', column: 'retry_count', type: 'int' },
  { key: 'jobClass', column: 'job_class', type: 'text' },
  { key: 'queue', column: 'queue', type: 'text' },
  { key: 'arguments', column: 'arguments', type: 'text' },
  { key: 'payload', column: 'payload', type: 'text' },
  { key: 'wrapperClass', column: 'wrapper_class', type: 'text' },
  { key: 'rawArguments', column: 'raw_arguments', type: 'text' },
  { key: 'activeJobId', column: 'active_job_id', type: 'text' },
  { key: 'enqueuedAt', column: 'enqueued_at', type: 'timestamptz' },
  { key: 'createdAt', column: 'created_at', type: 'timestamptz' },
  { key: 'scheduledAt', column: 'scheduled_at', type: 'timestamptz' },
  { key: 'hostname', column: 'hostname', type: 'text' },
  { key: 'pid', column: 'pid', type: 'int' },
  { key: 'tid', column: 'tid', type: 'text' },
  { key: 'errorClass', column: 'error_class', type: 'text' },
  { key: 'errorMessage', column: 'error_message', type: 'text' },
  { key: 'errorBacktrace', column: 'error_backtrace', type: 'jsonb' },
  { key: 'willRetry', column: 'will_retry', type: 'boolean' },
  { key: 'durationMs', column: 'duration_ms', type: 'float8' },
  { key: 'restartedAs', column: 'restarted_as', type: 'text' },
  { key: 'restartedFrom', column: 'restarted_from', type: 'text' },
];

/** A folded job row as the writer sends it (times as microsecond ISO strings). */
export interface JobRowValues {
  instance: string;
  jid: string;
  jobClass: string | null;
  queue: string | null;
  arguments: string | null;
  wrapperClass: string | null;
  rawArguments: string | null;
  activeJobId: string | null;
  /** dedupe key of the stored event whose payload the row copies */
  payloadFrom: string | null;
  status: string;
  attempt: number;
  createdAt: string | null;
  enqueuedAt: string | null;
  scheduledAt: string | null;
  startedAt: string | null;
  completedAt: string | null;
  failedAt: string | null;
  hostname: string | null;
  pid: number | null;
  tid: string | null;
  errorClass: string | null;
  errorMessage: string | null;
  /** JSON text */
  errorBacktrace: string | null;
  willRetry: boolean | null;
  durationMs: number | null;
  restartedAs: string | null;
  restartedFrom: string | null;
  eventCount: number;
  firstEventAt: string;
  lastEventAt: string;
  /** the payload itself, for COPY_JOBS_SQL: set by the writer for a new job (null otherwise) */
  payload: string | null;
}

// payloadFrom is not a column: the statement copies the payload from job_events by it
export const JOB_COLUMNS: readonly Column<JobRowValues>[] = [
  { key: 'instance', column: 'instance', type: 'text' },
  { key: 'jid', column: 'jid', type: 'text' },
  { key: 'jobClass', column: 'job_class', type: 'text' },
  { key: 'queue', column: 'queue', type: 'text' },
  { key: 'arguments', column: 'arguments', type: 'text' },
  { key: 'status', column: 'status', type: 'text' },
  { key: 'attempt', column: 'attempt', type: 'int' },
  { key: 'createdAt', column: 'created_at', type: 'timestamptz' },
  { key: 'enqueuedAt', column: 'enqueued_at', type: 'timestamptz' },
  { key: 'scheduledAt', column: 'scheduled_at', type: 'timestamptz' },
  { key: 'startedAt', column: 'started_at', type: 'timestamptz' },
  { key: 'completedAt', column: 'completed_at', type: 'timestamptz' },
  { key: 'failedAt', column: 'failed_at', type: 'timestamptz' },
  { key: 'hostname', column: 'hostname', type: 'text' },
  { key: 'pid', column: 'pid', type: 'int' },
  { key: 'tid', column: 'tid', type: 'text' },
  { key: 'errorClass', column: 'error_class', type: 'text' },
  { key: 'errorMessage', column: 'error_message', type: 'text' },
  { key: 'errorBacktrace', column: 'error_backtrace', type: 'jsonb' },
  { key: 'willRetry', column: 'will_retry', type: 'boolean' },
  { key: 'durationMs', column: 'duration_ms', type: 'float8' },
  { key: 'restartedAs', column: 'restarted_as', type: 'text' },
  { key: 'restartedFrom', column: 'restarted_from', type: 'text' },
  { key: 'eventCount', column: 'event_count', type: 'int' },
  { key: 'firstEventAt', column: 'first_event_at', type: 'timestamptz' },
  { key: 'lastEventAt', column: 'last_event_at', type: 'timestamptz' },
  { key: 'wrapperClass', column: 'wrapper_class', type: 'text' },
  { key: 'rawArguments', column: 'raw_arguments', type: 'text' },
  { key: 'activeJobId', column: 'active_job_id', type: 'text' },
  { key: 'payloadFrom', column: 'payload', type: 'text' },
];

// New events, and rows of jobs that have none yet, by COPY (copyText). The defaults fill id,
// received_at and updated_at. A new job's row carries its payload itself (its events are all in
// the batch); a job that may have a row goes through UPSERT_JOBS_SQL.
export const COPY_EVENTS_SQL = copySql('job_events', EVENT_COLUMNS);
export const COPY_JOB_COLUMNS: readonly Column<JobRowValues>[] = [
  ...JOB_COLUMNS.filter((c) => c.key !== 'payloadFrom'),
  { key: 'payload', column: 'payload', type: 'text' },
];
export const COPY_JOBS_SQL = copySql('jobs', COPY_JOB_COLUMNS);

// The events stored so far for the given jobs, with times as integer microseconds (a JS Date
// would drop the microseconds). The payload stays in Postgres: the row copies it by dedupe key.
// Each job is one probe of job_events_dedupe_idx (a brand-new job costs one probe that finds
// nothing), whatever the planner believes about the table's size: `offset 0` keeps the lateral
// subquery from being pulled up into a plain join. Without it the connection's cached generic plan,
// made while the table was small, hash-joined a sequential scan of all of job_events into every
// group, so each batch cost more than the one before.
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
