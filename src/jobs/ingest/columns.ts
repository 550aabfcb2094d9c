// The one declaration of what the writer stores: every column of job_events and jobs it writes,
// in statement (and COPY) order, with its SQL type and where its value comes from. The row types
// (IngestEvent, JobRowValues), the column lists of the statements, the COPY layout and the row
// mappings (rows.ts) are all derived from these two tables: a new field is one line here, plus
// what no table can say: the parser reading it from the wire, the fold deciding it, and the
// migration. The compiler checks the tables against the fold's types (below), columns.spec.ts
// against the entities, and statements.spec.ts against SELECT_EVENTS_SQL.

import type { FoldedJob, FoldEvent } from '../fold/job-fold.js';
import type { JobEventType } from '../job-lifecycle.enum.js';

/** What the writer holds for each SQL type: times as microsecond ISO strings, jsonb as JSON text. */
interface SqlValue {
  text: string;
  int: number;
  float8: number;
  boolean: boolean;
  timestamptz: string;
  jsonb: string;
}
export type SqlType = keyof SqlValue;

declare const VALUE: unique symbol;
/** A column's TypeScript type where it is narrower than its SQL type's (an enum in a text column). */
export interface Narrowed<T> {
  readonly [VALUE]?: T;
}
export const narrowed = <T>(): Narrowed<T> => ({});

export interface Column {
  /** the property of the JS row */
  readonly key: string;
  readonly column: string;
  readonly type: SqlType;
  readonly nullable?: true;
  readonly narrow?: Narrowed<unknown>;
}

/** A job_events column; `fold` names the FoldEvent property the fold reads it as. */
export interface EventColumn extends Column {
  /** times are read as integer microseconds; jsonb as its text */
  readonly fold?: keyof FoldEvent;
  /** the fold reads whether the value is there (the payload stays in Postgres), not the value */
  readonly foldPresence?: true;
}

/** A jobs column; `from` names the FoldedJob property it is written from (none: the job's key). */
export interface JobColumn extends Column {
  /** times are written from integer microseconds */
  readonly from?: keyof FoldedJob;
}

type ValueOf<C extends Column> =
  | (C extends { narrow: Narrowed<infer T> } ? T : SqlValue[C['type']])
  | (C extends { nullable: true } ? null : never);

/** The JS row of a column table: one property per column, typed by the column. */
export type RowOf<Columns extends readonly Column[]> = {
  [C in Columns[number] as C['key']]: ValueOf<C>;
};

export const EVENT_COLUMNS = [
  { key: 'instance', column: 'instance', type: 'text' },
  { key: 'jid', column: 'jid', type: 'text' },
  { key: 'type', column: 'type', type: 'text', narrow: narrowed<JobEventType>(), fold: 'type' },
  { key: 'dedupeKey', column: 'dedupe_key', type: 'text', fold: 'dedupeKey' },
  { key: 'occurredAt', column: 'occurred_at', type: 'timestamptz', fold: 'occurredUs' },
  { key: 'clientTime', column: 'client_time', type: 'boolean' },
  // runs are numbered 0 for the first, retry_count + 1 for a retry (event-parser.ts)
  { key: 'attempt', column: 'attempt', type: 'int', fold: 'attempt' },
  { key: 'retryCount', column: 'retry_count', type: 'int', nullable: true },
  // for an Active Job, the real class (display_class); else as reported
  { key: 'jobClass', column: 'job_class', type: 'text', nullable: true, fold: 'jobClass' },
  { key: 'queue', column: 'queue', type: 'text', nullable: true, fold: 'queue' },
  // JSON text; for an Active Job, its own arguments (display_args)
  { key: 'arguments', column: 'arguments', type: 'text', nullable: true, fold: 'arguments' },
  {
    key: 'payload',
    column: 'payload',
    type: 'text',
    nullable: true,
    fold: 'hasPayload',
    foldPresence: true,
  },
  // Active Job's Sidekiq wrapper class, when the job came wrapped
  {
    key: 'wrapperClass',
    column: 'wrapper_class',
    type: 'text',
    nullable: true,
    fold: 'wrapperClass',
  },
  // the wrapper's arguments as reported (only when wrapped)
  {
    key: 'rawArguments',
    column: 'raw_arguments',
    type: 'text',
    nullable: true,
    fold: 'rawArguments',
  },
  // Active Job's own job_id (only when wrapped)
  {
    key: 'activeJobId',
    column: 'active_job_id',
    type: 'text',
    nullable: true,
    fold: 'activeJobId',
  },
  { key: 'enqueuedAt', column: 'enqueued_at', type: 'timestamptz', nullable: true },
  {
    key: 'createdAt',
    column: 'created_at',
    type: 'timestamptz',
    nullable: true,
    fold: 'createdUs',
  },
  {
    key: 'scheduledAt',
    column: 'scheduled_at',
    type: 'timestamptz',
    nullable: true,
    fold: 'scheduledUs',
  },
  { key: 'hostname', column: 'hostname', type: 'text', nullable: true, fold: 'hostname' },
  { key: 'pid', column: 'pid', type: 'int', nullable: true, fold: 'pid' },
  { key: 'tid', column: 'tid', type: 'text', nullable: true, fold: 'tid' },
  { key: 'errorClass', column: 'error_class', type: 'text', nullable: true, fold: 'errorClass' },
  {
    key: 'errorMessage',
    column: 'error_message',
    type: 'text',
    nullable: true,
    fold: 'errorMessage',
  },
  {
    key: 'errorBacktrace',
    column: 'error_backtrace',
    type: 'jsonb',
    nullable: true,
    fold: 'errorBacktrace',
  },
  { key: 'willRetry', column: 'will_retry', type: 'boolean', nullable: true, fold: 'willRetry' },
  { key: 'durationMs', column: 'duration_ms', type: 'float8', nullable: true, fold: 'durationMs' },
  // restarted events only: the new job's jid
  { key: 'restartedAs', column: 'restarted_as', type: 'text', nullable: true, fold: 'restartedAs' },
  // the jid this job was restarted from (its queued event, written by JobManager)
  {
    key: 'restartedFrom',
    column: 'restarted_from',
    type: 'text',
    nullable: true,
    fold: 'restartedFrom',
  },
] as const satisfies readonly EventColumn[];

/** A validated lifecycle event, normalised for the writer: one job_events row. */
export type IngestEvent = RowOf<typeof EVENT_COLUMNS>;

// payloadFrom is not the payload: the upsert copies the payload from job_events by this dedupe
// key (COPY_JOB_COLUMNS send a new job's payload itself instead)
export const JOB_COLUMNS = [
  { key: 'instance', column: 'instance', type: 'text' },
  { key: 'jid', column: 'jid', type: 'text' },
  { key: 'jobClass', column: 'job_class', type: 'text', nullable: true, from: 'jobClass' },
  { key: 'queue', column: 'queue', type: 'text', nullable: true, from: 'queue' },
  { key: 'arguments', column: 'arguments', type: 'text', nullable: true, from: 'arguments' },
  { key: 'status', column: 'status', type: 'text', from: 'status' },
  { key: 'attempt', column: 'attempt', type: 'int', from: 'attempt' },
  {
    key: 'createdAt',
    column: 'created_at',
    type: 'timestamptz',
    nullable: true,
    from: 'createdUs',
  },
  {
    key: 'enqueuedAt',
    column: 'enqueued_at',
    type: 'timestamptz',
    nullable: true,
    from: 'enqueuedUs',
  },
  {
    key: 'scheduledAt',
    column: 'scheduled_at',
    type: 'timestamptz',
    nullable: true,
    from: 'scheduledUs',
  },
  {
    key: 'startedAt',
    column: 'started_at',
    type: 'timestamptz',
    nullable: true,
    from: 'startedUs',
  },
  {
    key: 'completedAt',
    column: 'completed_at',
    type: 'timestamptz',
    nullable: true,
    from: 'completedUs',
  },
  { key: 'failedAt', column: 'failed_at', type: 'timestamptz', nullable: true, from: 'failedUs' },
  { key: 'hostname', column: 'hostname', type: 'text', nullable: true, from: 'hostname' },
  { key: 'pid', column: 'pid', type: 'int', nullable: true, from: 'pid' },
  { key: 'tid', column: 'tid', type: 'text', nullable: true, from: 'tid' },
  { key: 'errorClass', column: 'error_class', type: 'text', nullable: true, from: 'errorClass' },
  {
    key: 'errorMessage',
    column: 'error_message',
    type: 'text',
    nullable: true,
    from: 'errorMessage',
  },
  // JSON text: both the stored events (error_backtrace::text) and new ones carry text
  {
    key: 'errorBacktrace',
    column: 'error_backtrace',
    type: 'jsonb',
    nullable: true,
    from: 'errorBacktrace',
  },
  { key: 'willRetry', column: 'will_retry', type: 'boolean', nullable: true, from: 'willRetry' },
  { key: 'durationMs', column: 'duration_ms', type: 'float8', nullable: true, from: 'durationMs' },
  { key: 'restartedAs', column: 'restarted_as', type: 'text', nullable: true, from: 'restartedAs' },
  {
    key: 'restartedFrom',
    column: 'restarted_from',
    type: 'text',
    nullable: true,
    from: 'restartedFrom',
  },
  { key: 'eventCount', column: 'event_count', type: 'int', from: 'eventCount' },
  { key: 'firstEventAt', column: 'first_event_at', type: 'timestamptz', from: 'firstUs' },
  { key: 'lastEventAt', column: 'last_event_at', type: 'timestamptz', from: 'lastUs' },
  {
    key: 'wrapperClass',
    column: 'wrapper_class',
    type: 'text',
    nullable: true,
    from: 'wrapperClass',
  },
  {
    key: 'rawArguments',
    column: 'raw_arguments',
    type: 'text',
    nullable: true,
    from: 'rawArguments',
  },
  {
    key: 'activeJobId',
    column: 'active_job_id',
    type: 'text',
    nullable: true,
    from: 'activeJobId',
  },
  { key: 'payloadFrom', column: 'payload', type: 'text', nullable: true, from: 'payloadFrom' },
] as const satisfies readonly JobColumn[];

/** A new job's payload itself, for COPY_JOBS_SQL: set by the writer (null until then). */
export const PAYLOAD_COLUMN = {
  key: 'payload',
  column: 'payload',
  type: 'text',
  nullable: true,
} as const satisfies JobColumn;

/** The columns COPY_JOBS_SQL writes: JOB_COLUMNS with the payload itself for its source's key. */
export const COPY_JOB_COLUMNS: readonly JobColumn[] = [
  ...JOB_COLUMNS.filter((c) => c.key !== 'payloadFrom'),
  PAYLOAD_COLUMN,
];

/** A folded job row as the writer sends it (times as microsecond ISO strings). */
export type JobRowValues = RowOf<readonly [...typeof JOB_COLUMNS, typeof PAYLOAD_COLUMN]>;

// Compile-time checks that the tables and the fold agree: every property the fold reads of an
// event comes from one column, and every property of a folded job is written to one.
type FoldKeyOf<C> = C extends { fold: infer K } ? K : never;
type FromKeyOf<C> = C extends { from: infer K } ? K : never;
type Exactly<Want, Got> = [Exclude<Want, Got>, Exclude<Got, Want>] extends [never, never]
  ? true
  : { missing: Exclude<Want, Got>; extra: Exclude<Got, Want> };
export const FOLD_READS_EVERY_EVENT_FIELD: Exactly<
  keyof FoldEvent,
  FoldKeyOf<(typeof EVENT_COLUMNS)[number]>
> = true;
export const EVERY_FOLDED_FIELD_IS_WRITTEN: Exactly<
  keyof FoldedJob,
  FromKeyOf<(typeof JOB_COLUMNS)[number]>
> = true;
