import { NAME_PATTERN, NAME_RULE } from '../../common/validation/identifiers.js';
import { unstorable, withinBytes } from '../../common/validation/text-rules.js';
import { DEFAULT_INSTANCE } from '../../config/app-config.js';
import { type FieldError, FieldReader, type ReaderContext } from '../ingest/field-reader.js';
import { toMicroIso } from '../ingest/timestamps.js';

/** What a Sidekiq process reports of its own life (event `type: "process"`). */
export enum ProcessState {
  Startup = 'startup',
  Heartbeat = 'heartbeat',
  Quiet = 'quiet',
  Shutdown = 'shutdown',
  /** Sidekiq 8's :exit, after every job has finished: stopped, as shutdown */
  Exit = 'exit',
}
export const PROCESS_STATES = Object.values(ProcessState);
export const PROCESS_EVENT_TYPE = 'process';

export const PROCESS_EVENT_FIELDS = [
  'type',
  'state',
  'identity',
  'instance',
  'occurred_at',
  'occurred_at_us',
  'hostname',
  'pid',
  'tag',
  'sidekiq_version',
  'client_version',
  'concurrency',
  'queues',
  'started_at',
  'started_at_us',
] as const;
const KNOWN: ReadonlySet<string> = new Set<string>(PROCESS_EVENT_FIELDS);
// Sidekiq's identity is "hostname:pid:nonce" (6.x util.rb, 7+ component.rb); a hostname is at most
// 253 bytes, so this leaves room for a DYNO-style name and still fits an index row
const MAX_IDENTITY_BYTES = 512;
const MAX_QUEUES = 1000;

/**
 * One process event, merged with others of the same life by ProcessLifeRepository.record (each
 * time field keeps the earliest or latest value, so any order of the same events gives one row).
 */
export interface ProcessEvent {
  instance: string;
  identity: string;
  state: ProcessState;
  occurredAt: string;
  hostname: string | null;
  pid: number | null;
  tag: string | null;
  sidekiqVersion: string | null;
  clientVersion: string | null;
  concurrency: number | null;
  /** JSON text of an array of queue names */
  queues: string | null;
  startedAt: string | null;
}

export function isProcessEvent(raw: unknown): boolean {
  return (
    typeof raw === 'object' &&
    raw !== null &&
    (raw as Record<string, unknown>).type === PROCESS_EVENT_TYPE
  );
}

/** Validates one process event; returns it or every field at fault. */
export function parseProcessEvent(
  body: Record<string, unknown>,
  ctx: ReaderContext & { now: Date },
): { event: ProcessEvent; errors?: undefined } | { event?: undefined; errors: FieldError[] } {
  const r = new FieldReader(body, ctx);
  for (const key of Object.keys(body)) {
    if (!KNOWN.has(key)) {
      r.fail(key, 'is not a known field of a process event');
    }
  }
  const state = r.text('state', 16);
  if (state === null && !r.sent('state')) {
    r.fail('state', `is required (${PROCESS_STATES.join(', ')})`);
  } else if (state !== null && !PROCESS_STATES.includes(state as ProcessState)) {
    r.fail('state', `must be one of ${PROCESS_STATES.join(', ')}`);
  }
  const identity = r.text('identity', MAX_IDENTITY_BYTES);
  if (identity === null && !r.sent('identity')) {
    r.fail('identity', "is required (Sidekiq's process identity, hostname:pid:nonce)");
  }
  const instance = r.text('instance', 64, NAME_PATTERN, `must be ${NAME_RULE}`) ?? DEFAULT_INSTANCE;
  const occurred = r.timeOrUs('occurred_at');
  const hostname = r.text('hostname', 1024);
  const pid = r.int('pid', 0, 2_147_483_647);
  const tag = r.text('tag', 1024);
  const sidekiqVersion = r.text('sidekiq_version', 64);
  const clientVersion = r.text('client_version', 64);
  const concurrency = r.int('concurrency', 0, 1_000_000);
  const queues = queueList(r, body.queues);
  const startedAt = r.timeOrUs('started_at');
  if (r.errors.length > 0 || state === null || identity === null) {
    return { errors: r.errors };
  }
  return {
    event: {
      instance,
      identity,
      state: state as ProcessState,
      occurredAt: occurred ?? toMicroIso(ctx.now),
      hostname,
      pid,
      tag,
      sidekiqVersion,
      clientVersion,
      concurrency,
      queues,
      startedAt,
    },
  };
}

function queueList(r: FieldReader, value: unknown): string | null {
  if (value === undefined || value === null) {
    return null;
  }
  if (
    !Array.isArray(value) ||
    value.length > MAX_QUEUES ||
    !value.every(
      (q) => typeof q === 'string' && q.length > 0 && withinBytes(q, 1024) && !unstorable(q),
    )
  ) {
    return r.fail('queues', `must be an array of at most ${MAX_QUEUES} queue names`);
  }
  return JSON.stringify(value);
}
