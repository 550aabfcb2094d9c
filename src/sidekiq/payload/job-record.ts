// Sidekiq::JobRecord (lib/sidekiq/api.rb, 6.4.1 … 8.1.7) as pure code: decoding a payload as the
// Web shows it, display rules, latency, and the jid tests the stores use to find a job.
import { inflateSync } from 'node:zlib';
import { rubyFloat, stringifyExact } from '../../common/json/ruby-json.js';
import {
  isObject,
  type JsonObject,
  type JsonValue,
  MILLIS_THRESHOLD,
  num,
  parsePayload,
  str,
  toEpochSeconds,
} from './payload-values.js';

/** Which Sidekiq generation's display rules apply (JobRecord#display_args changed in 7.1). */
export enum DisplayRules {
  /** 6.x – 7.0: Active Job arguments shown as stored (GlobalID hashes kept). */
  Legacy = 'legacy',
  /** 7.1+: GlobalID hashes shown as their gid string, `_aj_*` keys dropped. */
  Modern = 'modern',
}

/** How the timestamps inside a payload are written: float seconds (6.x/7.x) or integer ms (8.x). */
export enum TimestampFormat {
  Seconds = 'seconds',
  Millis = 'millis',
}

const ACTIVE_JOB_WRAPPERS = new Set([
  'ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper',
  'Sidekiq::ActiveJob::Wrapper',
]);
const MAILER_JOBS = new Set(['ActionMailer::DeliveryJob', 'ActionMailer::MailDeliveryJob']);
const GLOBALID_KEY = '_aj_globalid';

/** A job as Sidekiq::JobRecord shows it. Timestamps are epoch seconds (fractional), whatever the stored format. */
export interface DecodedJob {
  readonly decodable: true;
  readonly raw: string;
  readonly jid: string | null;
  readonly queue: string | null;
  readonly klass: string | null;
  readonly displayClass: string | null;
  readonly args: JsonValue[];
  readonly displayArgs: JsonValue[];
  /** displayArgs as JSON text, exact (for clients whose JSON reader rounds numbers) */
  readonly displayArgsJson: string;
  readonly enqueuedAt: number | null;
  readonly createdAt: number | null;
  readonly failedAt: number | null;
  readonly retriedAt: number | null;
  readonly errorClass: string | null;
  readonly errorMessage: string | null;
  readonly errorBacktrace: string[] | null;
  readonly retry: boolean | number | null;
  readonly retryCount: number | null;
  readonly tags: string[];
  readonly bid: string | null;
  readonly wrapped: string | null;
  readonly timestampFormat: TimestampFormat;
  readonly item: Readonly<Record<string, JsonValue>>;
}

/** A payload that is not a JSON object, or too large for a page: shown as is, never a 500. */
export interface UndecodableJob {
  readonly decodable: false;
  /** the payload, or its first bytes when it was clipped */
  readonly raw: string;
  /** read from a clipped payload's ends, else null */
  readonly jid: string | null;
  readonly decodeError: string;
  /** the whole payload's size, when only its ends were read (a page member over the limit) */
  readonly clippedBytes?: number;
}

/**
 * A page member too large to carry whole (see CLIPPED_READ_LUA in store/scripts.ts): its size in
 * bytes and its first and last bytes, as Redis cut them.
 */
export interface ClippedMember {
  readonly bytes: number;
  readonly head: string;
  readonly tail: string;
}

/** What a page read gives for one member: the payload, or its ends when it is too large. */
export type PageMember = string | ClippedMember;

const JID_IN_TEXT = /"jid":"([A-Za-z0-9_-]{1,64})"/;
const ENQUEUED_IN_TEXT = /"enqueued_at":(\d+(?:\.\d+)?)/;

/**
 * decodeJob for a page member. A clipped one keeps its jid (Sidekiq writes `jid` after `args`,
 * so it is in the tail when the arguments are what is large) and says how to get the whole job.
 */
export function decodeMember(
  member: PageMember,
  rules: DisplayRules = DisplayRules.Modern,
  queueName?: string,
): JobPayload {
  if (typeof member === 'string') {
    return decodeJob(member, rules, queueName);
  }
  const jid = (JID_IN_TEXT.exec(member.tail) ?? JID_IN_TEXT.exec(member.head))?.[1] ?? null;
  return {
    decodable: false,
    raw: member.head,
    jid,
    decodeError: `the payload is ${member.bytes} bytes, too large for a page: read it by its jid`,
    clippedBytes: member.bytes,
  };
}

export type JobPayload = DecodedJob | UndecodableJob;

function formatOf(item: JsonObject): TimestampFormat {
  for (const key of ['created_at', 'enqueued_at', 'failed_at']) {
    const value = item[key];
    // 8.x writes an Integer; a Float (a RubyNumber when whole, e.g. 1924992000.0) is seconds
    if (typeof value === 'number' && Number.isInteger(value) && value > MILLIS_THRESHOLD) {
      return TimestampFormat.Millis;
    }
  }
  return TimestampFormat.Seconds;
}

/** GlobalID unwrapping of JobRecord#deserialize_argument (7.1+). */
function deserializeArgument(argument: JsonValue): JsonValue {
  if (Array.isArray(argument)) {
    return argument.map(deserializeArgument);
  }
  if (isObject(argument)) {
    const keys = Object.keys(argument);
    if (keys.length === 1 && keys[0] === GLOBALID_KEY) {
      return argument[GLOBALID_KEY] ?? null;
    }
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(argument)) {
      if (!key.startsWith('_aj_')) {
        out[key] = deserializeArgument(value);
      }
    }
    return out;
  }
  return argument;
}

function displayClassOf(item: JsonObject, klass: string | null, args: JsonValue[]): string | null {
  const override = str(item.display_class);
  if (override !== null) {
    return override;
  }
  if (klass !== null && ACTIVE_JOB_WRAPPERS.has(klass)) {
    const jobClass = item.wrapped ?? args[0] ?? null;
    if (typeof jobClass === 'string' && MAILER_JOBS.has(jobClass)) {
      const first = args[0];
      const aj = isObject(first) ? first.arguments : undefined;
      return Array.isArray(aj)
        ? aj
            .slice(0, 2)
            .map((v) => (typeof v === 'string' ? v : stringifyExact(v)))
            .join('#')
        : jobClass;
    }
    return typeof jobClass === 'string' ? jobClass : (stringifyExact(jobClass) ?? null);
  }
  return klass;
}

function displayArgsOf(
  item: JsonObject,
  klass: string | null,
  args: JsonValue[],
  rules: DisplayRules,
): JsonValue[] {
  if (klass !== null && ACTIVE_JOB_WRAPPERS.has(klass)) {
    const first = args[0];
    let jobArgs: JsonValue[] = [];
    if (item.wrapped !== undefined && isObject(first) && Array.isArray(first.arguments)) {
      jobArgs =
        rules === DisplayRules.Modern
          ? (first.arguments.map(deserializeArgument) as JsonValue[])
          : first.arguments;
    }
    const jobClass = item.wrapped ?? first;
    if (jobClass === 'ActionMailer::DeliveryJob') {
      return jobArgs.slice(3);
    }
    if (jobClass === 'ActionMailer::MailDeliveryJob') {
      const delivery = jobArgs[3];
      if (!isObject(delivery)) {
        return [];
      }
      if (rules === DisplayRules.Modern) {
        return [delivery.params ?? null, delivery.args ?? null];
      }
      return Array.isArray(delivery.args) ? delivery.args : [];
    }
    return jobArgs;
  }
  if (
    item.encrypt !== undefined &&
    item.encrypt !== null &&
    item.encrypt !== false &&
    args.length > 0
  ) {
    return [...args.slice(0, -1), '[encrypted data]'];
  }
  return args;
}

/**
 * JobRecord#display_class and #display_args of a parsed job hash, for callers that hold the hash
 * rather than its Redis text (the job history unwraps Active Job jobs at ingest with these rules).
 */
export function displayOf(
  item: Readonly<Record<string, JsonValue>>,
  rules: DisplayRules,
): { displayClass: string | null; displayArgs: JsonValue[] } {
  const klass = str(item.class);
  const args = Array.isArray(item.args) ? item.args : [];
  return {
    displayClass: displayClassOf(item, klass, args),
    displayArgs: displayArgsOf(item, klass, args, rules),
  };
}

/** Base64(zlib(JSON array)), both the ≤7.2.0 (with newlines) and the strict Base64 form; old jobs: a raw array. */
export function decodeBacktrace(value: JsonValue | undefined): string[] | null {
  if (value === undefined || value === null) {
    return null;
  }
  if (Array.isArray(value)) {
    return value.map((line) => String(line));
  }
  if (typeof value !== 'string') {
    return null;
  }
  try {
    const parsed: unknown = JSON.parse(inflateSync(Buffer.from(value, 'base64')).toString('utf8'));
    return Array.isArray(parsed) ? parsed.map((line) => String(line)) : null;
  } catch {
    return null; // e.g. 6.x Marshal-encoded backtraces: not readable outside Ruby
  }
}

/**
 * Decodes a raw payload string as Sidekiq::JobRecord does. `queueName`: the list it was read
 * from, which JobRecord reports as its queue (`queue_name || item["queue"]`). Never throws.
 */
export function decodeJob(
  raw: string,
  rules: DisplayRules = DisplayRules.Modern,
  queueName?: string,
): JobPayload {
  let parsed: unknown;
  try {
    parsed = parsePayload(raw);
  } catch (error) {
    return { decodable: false, raw, jid: null, decodeError: (error as Error).message };
  }
  if (!isObject(parsed)) {
    return { decodable: false, raw, jid: null, decodeError: 'payload is not a JSON object' };
  }
  const item = parsed;
  const klass = str(item.class);
  const args = Array.isArray(item.args) ? item.args : [];
  const retry = item.retry;
  const displayArgs = displayArgsOf(item, klass, args, rules);
  return {
    decodable: true,
    raw,
    jid: str(item.jid),
    queue: queueName ?? str(item.queue),
    klass,
    displayClass: displayClassOf(item, klass, args),
    args,
    displayArgs,
    displayArgsJson: stringifyExact(displayArgs) ?? '[]',
    enqueuedAt: toEpochSeconds(item.enqueued_at),
    // JobRecord#created_at: Time.at(created_at || enqueued_at || 0)
    createdAt: toEpochSeconds(item.created_at) ?? toEpochSeconds(item.enqueued_at) ?? 0,
    failedAt: toEpochSeconds(item.failed_at),
    retriedAt: toEpochSeconds(item.retried_at),
    errorClass: str(item.error_class),
    errorMessage: str(item.error_message),
    errorBacktrace: decodeBacktrace(item.error_backtrace),
    retry: typeof retry === 'boolean' ? retry : num(retry),
    retryCount: num(item.retry_count),
    tags: Array.isArray(item.tags)
      ? item.tags.filter((t): t is string => typeof t === 'string')
      : [],
    bid: str(item.bid),
    wrapped: str(item.wrapped),
    timestampFormat: formatOf(item),
    item,
  };
}

/** JobRecord#latency: now − (enqueued_at ‖ created_at ‖ now), in seconds. */
export function jobLatency(job: JobPayload, nowSeconds: number): number {
  if (!job.decodable) {
    return 0;
  }
  const from = job.enqueuedAt ?? toEpochSeconds(job.item.created_at);
  return from === null ? 0 : nowSeconds - from;
}

/**
 * Queue#latency for the oldest entry (index −1): now − enqueued_at, 0 when missing, empty or
 * undecodable (6.x–8.0; 8.1.1+ would fall back to created_at).
 */
export function queueLatency(oldest: PageMember | null, nowSeconds: number): number {
  if (oldest === null) {
    return 0;
  }
  if (typeof oldest !== 'string') {
    const m = ENQUEUED_IN_TEXT.exec(oldest.tail) ?? ENQUEUED_IN_TEXT.exec(oldest.head);
    const enqueuedAt = m ? toEpochSeconds(Number(m[1])) : null;
    return enqueuedAt === null ? 0 : nowSeconds - enqueuedAt;
  }
  const job = decodeJob(oldest);
  if (!job.decodable || job.enqueuedAt === null) {
    return 0;
  }
  return nowSeconds - job.enqueuedAt;
}

/** The jid of a raw payload, null when it has none or is not a job. */
export function jidOf(raw: string): string | null {
  const job = decodeJob(raw);
  return job.decodable ? job.jid : null;
}

/** Cheap pre-filter before parsing: does this raw payload mention the jid as its `jid` value? */
export function mayHaveJid(raw: string, jid: string): boolean {
  return raw.includes(jid);
}

/** Whether a raw payload is the job `jid` (exact, parsed). */
export function hasJid(raw: string, jid: string): boolean {
  if (!mayHaveJid(raw, jid)) {
    return false;
  }
  const job = decodeJob(raw);
  return job.decodable && job.jid === jid;
}

/** The Web's key of a sorted-set entry, `"#{score}-#{jid}"`: the score is a Ruby Float. */
export function sortedEntryKey(score: number, jid: string | null): string {
  return `${rubyFloat(score)}-${jid ?? ''}`;
}
