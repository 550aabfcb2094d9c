// The writer's row mappings, compiled from the column tables (columns.ts): an event to what the
// fold reads of it, a stored event (SELECT_EVENTS_SQL) likewise, a folded job to its row, and rows
// to the jsonb parameter of the upsert and the careful insert.

import type { FoldedJob, FoldEvent } from '../fold/job-fold.js';
import {
  type Column,
  EVENT_COLUMNS,
  type EventColumn,
  type IngestEvent,
  JOB_COLUMNS,
  type JobRowValues,
} from './columns.js';
import { compile, compiledFor } from './compiled.js';
import { foldSelect } from './statements.js';
import { isoToUs, usToIso } from './timestamps.js';

/** A row of SELECT_JOBS_SQL: a stored job and the span its events were received in. */
export interface StoredJobRow {
  instance: string;
  jid: string;
  job_id: string;
  event_count: number;
  /** int8 as text */
  first_received_us: string;
  /** int8 as text */
  updated_us: string;
}

/** A row of SELECT_EVENTS_SQL: a stored event of a job, as foldSelect reads it. */
export interface StoredEventRow {
  job_id: string;
  dedupe_key: string;
  /** the run's start this event stands for too (int8 as text), or null */
  started_us: string | null;
}

const accessors = new WeakMap<object, (row: never) => unknown[]>();

/** `(row) => [row.a, row.b, ...]` for `columns`, made once per column list. */
function valuesOf<Row>(columns: readonly Column[]): (row: Row) => unknown[] {
  return compiledFor(
    accessors,
    columns,
    ['row'],
    (keys) => `return [${keys.map((k) => `row.${k}`).join(', ')}];`,
  ) as (row: Row) => unknown[];
}

/** JSON text of `rows` as arrays in `columns` order: the parameter the statements read. */
export function rowsParam<Row>(columns: readonly Column[], rows: readonly Row[]): string {
  return JSON.stringify(rows.map(valuesOf<Row>(columns)));
}

const FOLD_COLUMNS = EVENT_COLUMNS.filter(
  (c): c is Extract<(typeof EVENT_COLUMNS)[number], { fold: string }> => 'fold' in c,
);

/** A FoldEvent literal (one shape for every event) whose values `read` gives, column by column. */
function foldMapper<In>(names: string[], read: (c: EventColumn) => string): (row: In) => FoldEvent {
  const fields = FOLD_COLUMNS.map((c) => `${c.fold}: ${read(c)}`).join(',\n');
  const identifiers = [...FOLD_COLUMNS.flatMap((c) => [c.fold, c.key]), ...names];
  return compile<(isoToUs: (iso: string) => number) => (row: In) => FoldEvent>(
    identifiers,
    ['isoToUs'],
    `return (row) => ({\n${fields}\n});`,
  )(isoToUs);
}

const orNull = (c: Column, value: string, convert: string) =>
  c.nullable ? `${value} === null ? null : ${convert}` : convert;

/** What the fold reads of an event about to be stored: the same values Postgres would return. */
export const ingestToFold: (e: IngestEvent) => FoldEvent = foldMapper([], (c) => {
  const value = `row.${c.key}`;
  if (c.foldPresence) {
    return `${value} !== null`;
  }
  return c.type === 'timestamptz' ? orNull(c, value, `isoToUs(${value})`) : value;
});

/** What the fold reads of a stored event (a row of SELECT_EVENTS_SQL). */
export const storedToFold: (row: StoredEventRow) => FoldEvent = foldMapper(
  FOLD_COLUMNS.map((c) => foldSelect(c).alias),
  (c) => {
    const value = `row.${foldSelect(c).alias}`;
    // int8 arrives as text
    return c.type === 'timestamptz' && !c.foldPresence
      ? orNull(c, value, `Number(${value})`)
      : value;
  },
);

// A job's times are often equal (a new job's first, last and enqueued time): format each once.
let lastUs = -1;
let lastIso = '';
function isoOf(us: number): string {
  if (us !== lastUs) {
    lastUs = us;
    lastIso = usToIso(us);
  }
  return lastIso;
}

const time = (us: number | null) => (us === null ? null : isoOf(us));

// the job's key comes with it, not from the fold
const JOB_KEY = new Set(['instance', 'jid']);

function jobMapper(): (instance: string, jid: string, job: FoldedJob) => JobRowValues {
  const fields = JOB_COLUMNS.map((c) => {
    if (!('from' in c)) {
      if ('writer' in c) {
        return `${c.key}: null`;
      }
      if (!JOB_KEY.has(c.key)) {
        throw new Error(`job column ${c.key} names no FoldedJob property it is written from`);
      }
      return `${c.key}: ${c.key}`;
    }
    const value = `job.${c.from}`;
    if (c.type !== 'timestamptz') {
      return `${c.key}: ${value}`;
    }
    return `${c.key}: ${'nullable' in c ? 'time' : 'isoOf'}(${value})`;
  });
  const names = JOB_COLUMNS.flatMap((c) => ('from' in c ? [c.key, c.from] : [c.key]));
  return compile<
    (
      time: (us: number | null) => string | null,
      isoOf: (us: number) => string,
    ) => (instance: string, jid: string, job: FoldedJob) => JobRowValues
  >(
    names,
    ['time', 'isoOf'],
    `return (instance, jid, job) => ({\n${fields.join(',\n')}\n});`,
  )(time, isoOf);
}

/**
 * The row COPY_JOBS_SQL / updateJobsSql write: times as microsecond ISO strings, the writer's
 * columns (id, the payload's parts) null until the writer sets them.
 */
export const toRow = jobMapper();
