import { JID_PATTERN, NAME_PATTERN, NAME_RULE } from '../../common/validation/identifiers.js';
import { DEFAULT_INSTANCE } from '../../config/app-config.js';
import { Redactor } from '../../common/redaction/redactor.js';
import { parseRedaction } from '../../config/redaction.js';
import { ACTIVE_JOB_WRAPPERS, MAX_ACTIVE_JOB_ID_BYTES } from '../active-job.js';
import { CLIENT_EVENT_TYPES, JobEventType } from '../job-lifecycle.enum.js';
import type { IngestEvent } from './columns.js';
import { type FieldError, FieldReader, type ReaderContext } from './field-reader.js';
import { MAX_NAME_BYTES } from './limits.js';
import { storedJob } from './redaction.js';
import { toMicroIso } from './timestamps.js';

export interface ParseContext extends ReaderContext {
  /** the jid from the URL; a body job_id must then match it */
  jid?: string;
  /** the event type fixed by the route; a body `type` must then match it */
  type?: JobEventType;
  /** the type when the body names none */
  defaultType?: JobEventType;
  /** event types the route accepts in `type` (default: all) */
  allowedTypes?: readonly JobEventType[];
  now: Date;
  /** the rules applied before storage (AppConfig.redactor); the built-in defaults when absent */
  redactor?: Redactor;
}

const DEFAULT_REDACTOR = new Redactor(parseRedaction({}).settings);

export { JID_PATTERN } from '../../common/validation/identifiers.js';
const MAX_INT = 2_147_483_647;
export { MAX_NAME_BYTES } from './limits.js';

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
  // an Active Job as the client already unwrapped it (job_class and arguments stay the wrapper's):
  // what Sidekiq's Web UI shows as display_class / display_args, and Active Job's job_id
  'display_class',
  'display_args',
  'active_job_id',
] as const;
export const KNOWN_FIELDS: ReadonlySet<string> = new Set<string>(EVENT_FIELDS);

/** Event types that end a run: they may carry `started_at` (see EVENT_FIELDS). */
const ENDS_RUN: readonly JobEventType[] = [
  JobEventType.Succeeded,
  JobEventType.Failed,
  JobEventType.Interrupted,
];

/** Validates one event; returns the event or every field at fault. */
/**
 * An event's dedupe key: the same jid + type + attempt + client time is the same event (an HTTP
 * retry); without a client time (`null`) there is nothing to tell two sends apart. DEDUPE_KEY_SQL
 * (statements.ts) derives the same text from a stored event.
 */
export function dedupeKey(type: JobEventType, attempt: number, occurred: string | null): string {
  return `${type}|${attempt}|${occurred ?? '-'}`;
}

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
  const r = new FieldReader(body, ctx);
  for (const key of Object.keys(body)) {
    if (!KNOWN_FIELDS.has(key)) {
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
  const instance = r.text('instance', 64, NAME_PATTERN, `must be ${NAME_RULE}`) ?? DEFAULT_INSTANCE;
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
  const displayClass = r.text('display_class', MAX_NAME_BYTES);
  const displayArgs = r.jsonText('display_args', 'array');
  const activeJobId = r.text('active_job_id', MAX_ACTIVE_JOB_ID_BYTES);
  if (displayClass !== null && (jobClass === null || !ACTIVE_JOB_WRAPPERS.has(jobClass))) {
    r.fail('display_class', 'is only allowed with an Active Job wrapper in job_class');
  }
  for (const [field, value] of [
    ['display_args', displayArgs],
    ['active_job_id', activeJobId],
  ] as const) {
    if (value !== null && displayClass === null) {
      r.fail(field, 'is only allowed with display_class');
    }
  }
  if (r.errors.length > 0 || type === null || jid === null) {
    return { errors: r.errors };
  }
  const red = ctx.redactor ?? DEFAULT_REDACTOR;
  const stored = storedJob(red, {
    jobClass,
    arguments: args,
    payload,
    unwrapped:
      displayClass !== null && jobClass !== null
        ? {
            jobClass: displayClass,
            arguments: displayArgs ?? '[]',
            wrapperClass: jobClass,
            activeJobId,
          }
        : null,
  });
  // attempt numbers runs: 0 for the first, retry_count + 1 for a retry run. A "retrying" or
  // "dead" event is sent after Sidekiq's retry handler has already counted the failed run
  // (retry_count 0 after the first failure), so it belongs to run retry_count.
  const closesRun = type === JobEventType.Retrying || type === JobEventType.Dead;
  const attempt = retryCount === null ? 0 : closesRun ? retryCount : retryCount + 1;
  // one object literal with every field (a single shape: the writer's hot loops stay fast)
  const event: IngestEvent = {
    jobId: null,
    startedAt: null,
    instance,
    jid,
    type,
    occurredAt: occurred ?? toMicroIso(ctx.now),
    clientTime: occurred !== null,
    attempt,
    retryCount,
    jobClass: stored.jobClass,
    queue,
    arguments: stored.arguments,
    payload: stored.payload,
    wrapperClass: stored.wrapperClass,
    rawArguments: stored.rawArguments,
    activeJobId: stored.activeJobId,
    enqueuedAt,
    createdAt,
    scheduledAt,
    hostname,
    pid,
    tid,
    errorClass,
    errorMessage: errorMessage === null ? null : red.redactString(errorMessage),
    errorBacktrace: errorBacktrace === null ? null : red.redactJsonText(errorBacktrace),
    willRetry,
    durationMs,
    restartedAs: null,
    restartedFrom: null,
    dedupeKey: dedupeKey(type, attempt, occurred),
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
          dedupeKey: dedupeKey(JobEventType.Started, attempt, startedAt),
        };
  return { event, started };
}
