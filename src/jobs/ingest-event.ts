import { unstorable, UNSTORABLE_MESSAGE, withinBytes } from '../common/validation/text-rules.js';
import { DEFAULT_INSTANCE } from '../config/app-config.js';
import { unwrapActiveJob } from './active-job.js';
import { usToIso } from './job-fold.js';
import { CLIENT_EVENT_TYPES, JobEventType } from './job-status.js';

/** A validated lifecycle event, normalised for the writer. */
export interface IngestEvent {
  instance: string;
  jid: string;
  type: JobEventType;
  /** microsecond ISO 8601 in UTC */
  occurredAt: string;
  clientTime: boolean;
  attempt: number;
  retryCount: number | null;
  /** for an Active Job, the real class (display_class); else as reported */
  jobClass: string | null;
  queue: string | null;
  /** JSON text; for an Active Job, its own arguments (display_args) */
  arguments: string | null;
  payload: string | null;
  /** Active Job's Sidekiq wrapper class, when the job came wrapped */
  wrapperClass: string | null;
  /** the wrapper's arguments as reported (only when wrapped) */
  rawArguments: string | null;
  /** Active Job's own job_id (only when wrapped) */
  activeJobId: string | null;
  enqueuedAt: string | null;
  createdAt: string | null;
  scheduledAt: string | null;
  hostname: string | null;
  pid: number | null;
  tid: string | null;
  errorClass: string | null;
  errorMessage: string | null;
  errorBacktrace: string | null;
  willRetry: boolean | null;
  durationMs: number | null;
  /** restarted events only: the new job's jid */
  restartedAs: string | null;
  /** the jid this job was restarted from (its queued event, written by JobManager) */
  restartedFrom: string | null;
  dedupeKey: string;
}

export interface FieldError {
  field: string;
  message: string;
}

export interface ParseContext {
  /** prefix for field names in errors, e.g. `events[3].` */
  path: string;
  /** the jid from the URL; a body job_id must then match it */
  jid?: string;
  /** the event type fixed by the route; a body `type` must then match it */
  type?: JobEventType;
  /** the type when the body names none */
  defaultType?: JobEventType;
  /** event types the route accepts in `type` (default: all) */
  allowedTypes?: readonly JobEventType[];
  /** form-encoded bodies carry every value as a string */
  form: boolean;
  now: Date;
}

export const JID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_INT = 2_147_483_647;
// job_class and queue share btree index rows (at most 2,704 bytes each) with other columns
export const MAX_NAME_BYTES = 1024;
// ISO 8601 date-time with a mandatory offset; fraction up to 9 digits
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))? ?(Z|[+-]\d{2}:?\d{2})$/i;
// what JavaScript's toISOString and Ruby's iso8601(3 or 6) print: read without the general regex
const CANONICAL_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(?:\d{3})?Z$/;
const MIN_EPOCH_MS = Date.UTC(1970, 0, 1);
// the last millisecond of year 9999
const MAX_EPOCH_MS = Date.UTC(10_000, 0, 1) - 1;
const MAX_EPOCH_US = MAX_EPOCH_MS * 1000;

/** Field names an event may carry (snake_case, as the Ruby client sends them). */
export const EVENT_FIELDS = [
  'type',
  'job_id',
  'instance',
  'occurred_at',
  'job_class',
  'queue',
  'arguments',
  'payload',
  'enqueued_at',
  'created_at',
  'scheduled_at',
  'hostname',
  'pid',
  'tid',
  'retry_count',
  'error_class',
  'error_message',
  'error_backtrace',
  'will_retry',
  'duration_ms',
  // integer epoch microseconds / a duration in microseconds: what busy clients send (no float or
  // date formatting on their side); each one instead of its ISO (or ms) twin, never both
  'occurred_at_us',
  'enqueued_at_us',
  'created_at_us',
  'scheduled_at_us',
  'duration_us',
  // on the event that ends a run (succeeded, failed, interrupted): when the run started; the
  // service then also records that run's started event (a busy client's one event per job)
  'started_at',
  'started_at_us',
] as const;
const KNOWN = new Set<string>(EVENT_FIELDS);
type TimeField = 'occurred_at' | 'enqueued_at' | 'created_at' | 'scheduled_at' | 'started_at';
const US_FIELD: Record<TimeField, string> = {
  occurred_at: 'occurred_at_us',
  enqueued_at: 'enqueued_at_us',
  created_at: 'created_at_us',
  scheduled_at: 'scheduled_at_us',
  started_at: 'started_at_us',
};

class Reader {
  readonly errors: FieldError[] = [];
  constructor(
    private readonly body: Record<string, unknown>,
    private readonly ctx: ParseContext,
  ) {}

  fail(field: string, message: string): null {
    this.errors.push({ field: this.ctx.path + field, message });
    return null;
  }

  /** whether the body carries a value for `field` */
  sent(field: string): boolean {
    return this.raw(field) !== undefined;
  }

  private raw(field: string): unknown {
    const value = this.body[field];
    return value === undefined || value === null || (this.ctx.form && value === '')
      ? undefined
      : value;
  }

  /** `max` counts bytes of UTF-8: Postgres limits index rows in bytes. */
  text(field: string, max: number, pattern?: RegExp, patternMessage?: string): string | null {
    const value = this.raw(field);
    if (value === undefined) {
      return null;
    }
    if (typeof value !== 'string') {
      return this.fail(field, 'must be a string');
    }
    if (value.length === 0 || !withinBytes(value, max)) {
      return this.fail(field, `must be 1 to ${max} bytes of UTF-8`);
    }
    if (unstorable(value)) {
      return this.fail(field, UNSTORABLE_MESSAGE);
    }
    if (pattern && !pattern.test(value)) {
      return this.fail(field, patternMessage ?? `must match ${pattern.source}`);
    }
    return value;
  }

  /** JSON text kept exactly as sent; a JSON body may send the value itself (re-serialised). */
  jsonText(field: string, shape: 'array' | 'object' | 'any'): string | null {
    let value = this.raw(field);
    if (value === undefined) {
      return null;
    }
    if (typeof value !== 'string') {
      if (this.ctx.form) {
        return this.fail(field, 'must be JSON text');
      }
      value = JSON.stringify(value);
    }
    const text = value as string;
    if (unstorable(text)) {
      return this.fail(field, UNSTORABLE_MESSAGE);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return this.fail(field, 'must be valid JSON text');
    }
    if (shape === 'array' && !Array.isArray(parsed)) {
      return this.fail(field, 'must be a JSON array');
    }
    if (
      shape === 'object' &&
      (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    ) {
      return this.fail(field, 'must be a JSON object');
    }
    return text;
  }

  int(field: string, min: number, max: number): number | null {
    const value = this.raw(field);
    if (value === undefined) {
      return null;
    }
    const n = typeof value === 'string' && /^-?\d{1,16}$/.test(value) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
      return this.fail(field, 'must be an integer');
    }
    if (n < min || n > max) {
      return this.fail(field, `must be between ${min} and ${max}`);
    }
    return n;
  }

  number(field: string, min: number, max: number): number | null {
    const value = this.raw(field);
    if (value === undefined) {
      return null;
    }
    const n =
      typeof value === 'string' && /^\d+(\.\d+)?$/.test(value) ? Number(value) : (value as unknown);
    if (typeof n !== 'number' || !Number.isFinite(n)) {
      return this.fail(field, 'must be a number');
    }
    if (n < min || n > max) {
      return this.fail(field, `must be between ${min} and ${max}`);
    }
    return n;
  }

  bool(field: string): boolean | null {
    const value = this.raw(field);
    if (value === undefined) {
      return null;
    }
    if (value === true || value === 'true') {
      return true;
    }
    if (value === false || value === 'false') {
      return false;
    }
    return this.fail(field, 'must be true or false');
  }

  time(field: string): string | null {
    const value = this.raw(field);
    if (value === undefined) {
      return null;
    }
    const parsed = parseTimestamp(value);
    if (parsed === null) {
      return this.fail(
        field,
        'must be an ISO 8601 date-time with a time zone (2026-11-23T10:00:00.123Z) or epoch seconds',
      );
    }
    return parsed;
  }

  /** `field` (ISO or epoch seconds) or `field_us` (integer epoch microseconds), not both. */
  timeOrUs(field: TimeField): string | null {
    const usField = US_FIELD[field];
    const us = this.int(usField, 0, MAX_EPOCH_US);
    if (us !== null || this.raw(usField) !== undefined) {
      return this.raw(field) !== undefined
        ? this.fail(usField, `give ${field} or ${usField}, not both`)
        : us === null
          ? null
          : usToIso(us);
    }
    return this.time(field);
  }

  backtrace(field: string): string | null {
    const value = this.raw(field);
    if (value === undefined) {
      return null;
    }
    const lines = typeof value === 'string' ? value.split('\n') : value;
    if (
      !Array.isArray(lines) ||
      lines.length > 1000 ||
      !lines.every((l) => typeof l === 'string' && !unstorable(l))
    ) {
      return this.fail(field, 'must be an array of at most 1000 strings');
    }
    return JSON.stringify(lines);
  }
}

/**
 * ISO 8601 with an offset, or a number: epoch seconds (Sidekiq 6/7 floats) or, above 1e11,
 * epoch milliseconds (Sidekiq 8 integers). Returns a microsecond-precision UTC ISO string.
 */
export function parseTimestamp(value: unknown): string | null {
  if (typeof value === 'string' && CANONICAL_TIME.test(value)) {
    const head = value.slice(0, 23);
    const ms = Date.parse(head + 'Z');
    // Date.parse rolls 02-30 over to March: the round trip proves every field was in range
    if (ms >= MIN_EPOCH_MS && ms <= MAX_EPOCH_MS && new Date(ms).toISOString().startsWith(head)) {
      return value.length === 27 ? value : head + '000Z';
    }
  }
  let epochMs: number;
  let micros: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      return null;
    }
    const ms = value > 1e11 ? value : value * 1000;
    epochMs = Math.floor(ms);
    micros = Math.round((ms - epochMs) * 1000);
    if (micros === 1000) {
      epochMs += 1;
      micros = 0;
    }
  } else if (typeof value === 'string') {
    const m = ISO_TIME.exec(value.trim());
    if (!m) {
      return null;
    }
    const [, y, mo, d, h, mi, s, frac = '', zone] = m;
    const fraction = (frac + '000000').slice(0, 6);
    const offset =
      zone.toUpperCase() === 'Z'
        ? 0
        : (zone.startsWith('-') ? -1 : 1) *
          (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2)));
    const base = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
    const check = new Date(base);
    if (
      check.getUTCFullYear() !== Number(y) ||
      check.getUTCMonth() !== Number(mo) - 1 ||
      check.getUTCDate() !== Number(d) ||
      Number(h) > 23 ||
      Number(mi) > 59 ||
      Number(s) > 59 ||
      Math.abs(offset) > 18 * 60
    ) {
      return null;
    }
    epochMs = base - offset * 60_000 + Number(fraction.slice(0, 3));
    micros = Number(fraction.slice(3));
  } else {
    return null;
  }
  if (epochMs < MIN_EPOCH_MS || epochMs > MAX_EPOCH_MS) {
    return null;
  }
  return new Date(epochMs).toISOString().replace('Z', String(micros).padStart(3, '0') + 'Z');
}

export function toMicroIso(date: Date): string {
  return date.toISOString().replace('Z', '000Z');
}

/** Validates one event; returns the event or every field at fault. */
/** Event types that end a run: they may carry `started_at` (see EVENT_FIELDS). */
const ENDS_RUN: readonly JobEventType[] = [
  JobEventType.Succeeded,
  JobEventType.Failed,
  JobEventType.Interrupted,
];

export function parseEvent(
  raw: unknown,
  ctx: ParseContext,
):
  | { event: IngestEvent; started: IngestEvent | null; errors?: undefined }
  | { event?: undefined; started?: undefined; errors: FieldError[] } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return {
      errors: [{ field: ctx.path.replace(/\.$/, '') || 'body', message: 'must be an object' }],
    };
  }
  const body = raw as Record<string, unknown>;
  const r = new Reader(body, ctx);
  for (const key of Object.keys(body)) {
    if (!KNOWN.has(key)) {
      r.fail(key, 'is not a known field');
    }
  }

  let type: JobEventType | null = null;
  const sentType = r.text('type', 32);
  const allowed = ctx.allowedTypes ?? CLIENT_EVENT_TYPES;
  if (sentType !== null && !allowed.includes(sentType as JobEventType)) {
    r.fail('type', `must be one of ${allowed.join(', ')}`);
  } else if (ctx.type && sentType !== null && sentType !== ctx.type) {
    r.fail('type', `must be ${ctx.type} on this route`);
  } else {
    type = ctx.type ?? (sentType as JobEventType | null) ?? ctx.defaultType ?? null;
    if (type === null) {
      r.fail('type', 'is required');
    }
  }

  const sentJid = r.text(
    'job_id',
    64,
    JID_PATTERN,
    'must be 1 to 64 characters of A-Z a-z 0-9 _ -',
  );
  let jid = ctx.jid ?? sentJid;
  if (ctx.jid !== undefined && !JID_PATTERN.test(ctx.jid)) {
    r.fail('job_id', 'must be 1 to 64 characters of A-Z a-z 0-9 _ -');
    jid = null;
  } else if (ctx.jid !== undefined && sentJid !== null && sentJid !== ctx.jid) {
    r.fail('job_id', 'does not match the job id in the URL');
  } else if (jid === null && !r.errors.some((e) => e.field === ctx.path + 'job_id')) {
    r.fail('job_id', 'is required');
  }

  const occurred = r.timeOrUs('occurred_at');
  const retryCount = r.int('retry_count', 0, 1_000_000);
  const instance =
    r.text('instance', 64, NAME_PATTERN, 'must be 1 to 64 characters of A-Z a-z 0-9 _ -') ??
    DEFAULT_INSTANCE;
  const jobClass = r.text('job_class', MAX_NAME_BYTES);
  const queue = r.text('queue', MAX_NAME_BYTES);
  const args = r.jsonText('arguments', 'any');
  const payload = r.jsonText('payload', 'object');
  const enqueuedAt = r.timeOrUs('enqueued_at');
  const createdAt = r.timeOrUs('created_at');
  const scheduledAt = r.timeOrUs('scheduled_at');
  const hostname = r.text('hostname', 1024);
  const pid = r.int('pid', 0, MAX_INT);
  const tid = r.text('tid', 128);
  const errorClass = r.text('error_class', MAX_NAME_BYTES);
  const errorMessage = r.text('error_message', 1_000_000);
  const errorBacktrace = r.backtrace('error_backtrace');
  const willRetry = r.bool('will_retry');
  let durationMs = r.number('duration_ms', 0, 1e12);
  const durationUs = r.int('duration_us', 0, Number.MAX_SAFE_INTEGER);
  if (durationUs !== null) {
    durationMs =
      durationMs === null
        ? durationUs / 1000
        : r.fail('duration_us', 'give duration_ms or duration_us, not both');
  }
  const startedAt = r.timeOrUs('started_at');
  if (startedAt !== null && type !== null && !ENDS_RUN.includes(type)) {
    r.fail(
      r.sent('started_at_us') ? 'started_at_us' : 'started_at',
      `is only allowed on ${ENDS_RUN.join(', ')} events`,
    );
  }
  if (r.errors.length > 0 || type === null || jid === null) {
    return { errors: r.errors };
  }
  const wrapped = unwrapActiveJob(jobClass, args, payload, MAX_NAME_BYTES);
  // attempt numbers runs: 0 for the first, retry_count + 1 for a retry run. A "retrying" or
  // "dead" event is sent after Sidekiq's retry handler has already counted the failed run
  // (retry_count 0 after the first failure), so it belongs to run retry_count.
  const closesRun = type === JobEventType.Retrying || type === JobEventType.Dead;
  const attempt = retryCount === null ? 0 : closesRun ? retryCount : retryCount + 1;
  // one object literal with every field (a single shape: the writer's hot loops stay fast)
  const event: IngestEvent = {
    instance,
    jid,
    type,
    occurredAt: occurred ?? toMicroIso(ctx.now),
    clientTime: occurred !== null,
    attempt,
    retryCount,
    jobClass: wrapped?.jobClass ?? jobClass,
    queue,
    arguments: wrapped?.arguments ?? args,
    payload,
    wrapperClass: wrapped?.wrapperClass ?? null,
    rawArguments: wrapped?.rawArguments ?? null,
    activeJobId: wrapped?.activeJobId ?? null,
    enqueuedAt,
    createdAt,
    scheduledAt,
    hostname,
    pid,
    tid,
    errorClass,
    errorMessage,
    errorBacktrace,
    willRetry,
    durationMs,
    restartedAs: null,
    restartedFrom: null,
    // Same jid + type + attempt + client time = the same event (an HTTP retry). Without a
    // client time there is nothing to tell two sends apart, so they are one event.
    dedupeKey: `${type}|${attempt}|${occurred ?? '-'}`,
  };
  // the run's started event, exactly as if the client had sent it on its own (same dedupe key)
  const started: IngestEvent | null =
    startedAt === null
      ? null
      : {
          ...event,
          type: JobEventType.Started,
          occurredAt: startedAt,
          clientTime: true,
          errorClass: null,
          errorMessage: null,
          errorBacktrace: null,
          willRetry: null,
          durationMs: null,
          dedupeKey: `${JobEventType.Started}|${attempt}|${startedAt}`,
        };
  return { event, started };
}

/** The batch route's body: `events` (objects) and/or the compact `columns` + `rows` (+ `defaults`). */
export interface BatchItems {
  /** each event object with the path its errors are named under */
  items: { raw: unknown; path: string }[];
  errors: FieldError[];
}

const BATCH_KEYS = new Set(['events', 'columns', 'rows', 'defaults']);

/**
 * Reads a batch body. Compact form: `columns` names event fields once, each row is an array of
 * values in that order (null = absent), `defaults` holds fields shared by every row (hostname,
 * pid, instance); a row's own value wins. Both forms may be in one body.
 */
export function batchItems(raw: unknown): BatchItems {
  const items: BatchItems['items'] = [];
  const errors: FieldError[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { items, errors: [{ field: 'events', message: 'must be an array of events' }] };
  }
  const body = raw as Record<string, unknown>;
  for (const key of Object.keys(body)) {
    if (!BATCH_KEYS.has(key)) {
      errors.push({ field: key, message: 'is not a known field' });
    }
  }
  const { events, columns, rows, defaults } = body;
  if (events === undefined && rows === undefined) {
    errors.push({
      field: 'events',
      message: 'must be an array of events (or give columns and rows)',
    });
  }
  if (events !== undefined) {
    if (Array.isArray(events)) {
      events.forEach((item, i) => items.push({ raw: item, path: `events[${i}].` }));
    } else {
      errors.push({ field: 'events', message: 'must be an array of events' });
    }
  }
  if (rows === undefined) {
    for (const key of ['columns', 'defaults'] as const) {
      if (body[key] !== undefined) {
        errors.push({ field: key, message: 'is only allowed with rows' });
      }
    }
    return { items, errors };
  }
  const names = Array.isArray(columns) ? columns : [];
  if (
    !Array.isArray(columns) ||
    columns.length === 0 ||
    !columns.every((c) => typeof c === 'string')
  ) {
    errors.push({ field: 'columns', message: 'must be a non-empty array of event field names' });
  } else {
    columns.forEach((name: string, k) => {
      if (!KNOWN.has(name)) {
        errors.push({ field: `columns[${k}]`, message: 'is not a known field' });
      } else if (columns.indexOf(name) !== k) {
        errors.push({ field: `columns[${k}]`, message: 'is given twice' });
      }
    });
  }
  let shared: Record<string, unknown> = {};
  if (defaults !== undefined) {
    if (typeof defaults !== 'object' || defaults === null || Array.isArray(defaults)) {
      errors.push({ field: 'defaults', message: 'must be an object of event fields' });
    } else {
      shared = defaults as Record<string, unknown>;
      for (const key of Object.keys(shared)) {
        if (!KNOWN.has(key)) {
          errors.push({ field: `defaults.${key}`, message: 'is not a known field' });
        }
      }
    }
  }
  if (!Array.isArray(rows)) {
    errors.push({ field: 'rows', message: 'must be an array of arrays' });
    return { items, errors };
  }
  if (errors.length > 0) {
    return { items, errors };
  }
  rows.forEach((row: unknown, i) => {
    if (!Array.isArray(row) || row.length !== names.length) {
      errors.push({
        field: `rows[${i}]`,
        message: `must be an array of ${names.length} values (one per column)`,
      });
      return;
    }
    const event: Record<string, unknown> = { ...shared };
    for (let k = 0; k < names.length; k++) {
      const value: unknown = row[k];
      if (value !== null && value !== undefined) {
        event[names[k] as string] = value;
      }
    }
    items.push({ raw: event, path: `rows[${i}].` });
  });
  return { items, errors };
}
