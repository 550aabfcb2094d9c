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
  /** a bigint id, as its decimal text */
  int8: string;
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

/**
 * A field of an ingested event; `fold` names the FoldEvent property the fold reads it as. Most are
 * job_events columns; `onJob` ones are not stored on the event: the job's key (the event row has
 * the job's id instead), its identity (class, queue, arguments, payload, the Active Job wrapper:
 * stored once, on the job row) and the dedupe key (derived from type, attempt and client time).
 */
export interface EventColumn extends Column {
  /** times are read as integer microseconds; jsonb as its text */
  readonly fold?: keyof FoldEvent;
  /** the fold reads whether the value is there, not the value */
  readonly foldPresence?: true;
  /** not a job_events column: kept on the job row, or derived (see above) */
  readonly onJob?: true;
  /** set by the writer, not the parser (the parser leaves it null) */
  readonly writer?: true;
}

/**
 * A jobs column; `from` names the FoldedJob property it is written from (none: the job's key, or
 * `writer`: set by the writer).
 */
export interface JobColumn extends Column {
  /** times are written from integer microseconds */
  readonly from?: keyof FoldedJob;
  readonly writer?: true;
}

type ValueOf<C extends Column> =
  | (C extends { narrow: Narrowed<infer T> } ? T : SqlValue[C['type']])
  | (C extends { nullable: true } ? null : never);

/** The JS row of a column table: one property per column, typed by the column. */
export type RowOf<Columns extends readonly Column[]> = {
  [C in Columns[number] as C['key']]: ValueOf<C>;
};

export const EVENT_COLUMNS = [
  // the job row's id: the writer's, once it has found or made the job's row
  { key: 'jobId', column: 'job_id', type: 'int8', nullable: true, writer: true },
  { key: 'instance', column: 'instance', type: 'text', onJob: true },
  { key: 'jid', column: 'jid', type: 'text', onJob: true },
  { key: 'type', column: 'type', type: 'text', narrow: narrowed<JobEventType>(), fold: 'type' },
  { key: 'dedupeKey', column: 'dedupe_key', type: 'text', fold: 'dedupeKey', onJob: true },
  { key: 'occurredAt', column: 'occurred_at', type: 'timestamptz', fold: 'occurredUs' },
  { key: 'clientTime', column: 'client_time', type: 'boolean' },
  // runs are numbered 0 for the first, retry_count + 1 for a retry (event-parser.ts)
  { key: 'attempt', column: 'attempt', type: 'int', fold: 'attempt' },
  { key: 'retryCount', column: 'retry_count', type: 'int', nullable: true },
  // for an Active Job, the real class (display_class); else as reported
  {
    key: 'jobClass',
    column: 'job_class',
    type: 'text',
    nullable: true,
    fold: 'jobClass',
    onJob: true,
  },
  { key: 'queue', column: 'queue', type: 'text', nullable: true, fold: 'queue', onJob: true },
  // JSON text; for an Active Job, its own arguments (display_args)
  {
    key: 'arguments',
    column: 'arguments',
    type: 'text',
    nullable: true,
    fold: 'arguments',
    onJob: true,
  },
  {
    key: 'payload',
    column: 'payload',
    type: 'text',
    nullable: true,
    fold: 'hasPayload',
    foldPresence: true,
    onJob: true,
  },
  // Active Job's Sidekiq wrapper class, when the job came wrapped
  {
    key: 'wrapperClass',
    column: 'wrapper_class',
    type: 'text',
    nullable: true,
    fold: 'wrapperClass',
    onJob: true,
  },
  // the wrapper's arguments as reported (only when wrapped)
  {
    key: 'rawArguments',
    column: 'raw_arguments',
    type: 'text',
    nullable: true,
    fold: 'rawArguments',
    onJob: true,
  },
  // Active Job's own job_id (only when wrapped)
  {
    key: 'activeJobId',
    column: 'active_job_id',
    type: 'text',
    nullable: true,
    fold: 'activeJobId',
    onJob: true,
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
  // a run's end stored with its start: the time of the run's `started` event, which this row then
  // stands for too (same worker fields; see EventStore's mergeRuns)
  { key: 'startedAt', column: 'started_at', type: 'timestamptz', nullable: true, writer: true },
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

// The job row: its key, what the fold decides, and what the writer sets (its id, its payload).
export const JOB_COLUMNS = [
  // a new job's id is drawn from the sequence by the writer (its events carry it)
  { key: 'id', column: 'id', type: 'int8', writer: true },
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
  // when the event the identity (class, queue, arguments, payload) came from occurred: an
  // earlier event replaces it (the upsert), a later one leaves it
  {
    key: 'identityAt',
    column: 'identity_at',
    type: 'timestamptz',
    nullable: true,
    from: 'identityUs',
  },
  // the payload without its "args" (they are `arguments`, or `raw_arguments` for an Active Job),
  // and where they go back: set by the writer from the event the fold names (payloadFrom)
  { key: 'payloadRest', column: 'payload_rest', type: 'text', nullable: true, writer: true },
  { key: 'payloadArgsAt', column: 'payload_args_at', type: 'int', nullable: true, writer: true },
] as const satisfies readonly JobColumn[];

/** A folded job row as the writer sends it (times as microsecond ISO strings). */
export type JobRowValues = RowOf<typeof JOB_COLUMNS>;

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
// payloadFrom names an event of the batch: the writer writes that event's payload (payloadRest)
export const EVERY_FOLDED_FIELD_IS_WRITTEN: Exactly<
  Exclude<keyof FoldedJob, 'payloadFrom'>,
  FromKeyOf<(typeof JOB_COLUMNS)[number]>
> = true;

/** The job_events columns: the fields of an event stored on it. */
export const STORED_EVENT_COLUMNS: readonly EventColumn[] = EVENT_COLUMNS.filter(
  (c: EventColumn) => !c.onJob,
);
