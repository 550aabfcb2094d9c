// Pure decoding and byte-safe editing of Sidekiq job payloads (no I/O).
// Decoding follows Sidekiq::JobRecord (lib/sidekiq/api.rb, 6.4.1 … 8.1.7); editing follows the
// rules in shared/reference/sidekiq-redis-model.md §12: a payload is never re-serialised, only its
// top-level pairs are replaced or appended, so nested values (floats such as 1.0, big integers,
// key order) stay byte-identical.
import { randomBytes } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import {
  type ExactJson,
  parseExact,
  RubyNumber,
  rubyFloat,
  stringifyExact,
} from '../common/json/ruby-json.js';

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
/** A value above this is epoch milliseconds (1e11 s is year 5138; 1e11 ms is 1973). */
const MILLIS_THRESHOLD = 1e11;

/**
 * A value of a payload as Ruby holds it: numbers JavaScript would round or reformat (2**64+1,
 * 3.0, 1.0e+20) are RubyNumbers, written back verbatim by stringifyExact.
 */
export type JsonValue = ExactJson;
type JsonObject = { [key: string]: JsonValue };

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
 * A page member too large to carry whole (see SidekiqRepository's page reads): its size in bytes
 * and its first and last bytes, as Redis cut them.
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

function isObject(value: unknown): value is JsonObject {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof RubyNumber)
  );
}

/** A number of the payload's metadata (timestamps, counts), whatever form it was written in. */
function num(value: unknown): number | null {
  if (value instanceof RubyNumber) {
    return Number(value.text);
  }
  return typeof value === 'number' ? value : null;
}

function str(value: JsonValue | undefined): string | null {
  return typeof value === 'string' ? value : null;
}

/** Epoch seconds from a stored timestamp: float seconds (6/7), integer ms (8), or null. */
export function toEpochSeconds(value: unknown): number | null {
  const n = num(value);
  if (n === null || !Number.isFinite(n)) {
    return null;
  }
  return Math.abs(n) > MILLIS_THRESHOLD ? n / 1000 : n;
}

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

/** The payload as Ruby reads it; JSON.parse's verdict (and message) when it is not JSON. */
function parsePayload(raw: string): unknown {
  try {
    return parseExact(raw);
  } catch {
    // not JSON (JSON.parse throws its own message), or nested beyond the reader's stack (lossy)
    return JSON.parse(raw);
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

// ---------------------------------------------------------------- byte-safe editing

/** One top-level pair: the key's JSON text, its decoded name and the value's JSON text, all verbatim. */
export interface RawPair {
  readonly name: string;
  readonly keyText: string;
  readonly valueText: string;
}

function skipWs(s: string, i: number): number {
  while (i < s.length && (s[i] === ' ' || s[i] === '\n' || s[i] === '\r' || s[i] === '\t')) {
    i++;
  }
  return i;
}

/** Index just after the string starting at s[i] === '"'; -1 if unterminated. */
function scanString(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    const c = s[j];
    if (c === '\\') {
      j++;
    } else if (c === '"') {
      return j + 1;
    }
  }
  return -1;
}

function scanValue(s: string, i: number): number {
  const c = s[i];
  if (c === '"') {
    return scanString(s, i);
  }
  if (c === '{' || c === '[') {
    let depth = 0;
    for (let j = i; j < s.length; j++) {
      const d = s[j];
      if (d === '"') {
        j = scanString(s, j);
        if (j < 0) {
          return -1;
        }
        j--;
      } else if (d === '{' || d === '[') {
        depth++;
      } else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) {
          return j + 1;
        }
      }
    }
    return -1;
  }
  let j = i;
  while (j < s.length && !',}] \n\r\t'.includes(s[j] ?? '')) {
    j++;
  }
  return j > i ? j : -1;
}

/** Splits a JSON object's text into its top-level pairs without touching the values. Null if not an object. */
export function splitTopLevel(raw: string): RawPair[] | null {
  let i = skipWs(raw, 0);
  if (raw[i] !== '{') {
    return null;
  }
  i = skipWs(raw, i + 1);
  const pairs: RawPair[] = [];
  if (raw[i] === '}') {
    return skipWs(raw, i + 1) === raw.length ? pairs : null;
  }
  for (;;) {
    if (raw[i] !== '"') {
      return null;
    }
    const keyEnd = scanString(raw, i);
    if (keyEnd < 0) {
      return null;
    }
    const keyText = raw.slice(i, keyEnd);
    i = skipWs(raw, keyEnd);
    if (raw[i] !== ':') {
      return null;
    }
    i = skipWs(raw, i + 1);
    const valueEnd = scanValue(raw, i);
    if (valueEnd < 0) {
      return null;
    }
    let name: string;
    try {
      name = JSON.parse(keyText) as string;
    } catch {
      return null;
    }
    pairs.push({ name, keyText, valueText: raw.slice(i, valueEnd) });
    i = skipWs(raw, valueEnd);
    if (raw[i] === ',') {
      i = skipWs(raw, i + 1);
      continue;
    }
    if (raw[i] === '}') {
      return skipWs(raw, i + 1) === raw.length ? pairs : null;
    }
    return null;
  }
}

/** Joins pairs the way Ruby's JSON.generate writes them: no spaces. */
export function joinPairs(pairs: readonly RawPair[]): string {
  return `{${pairs.map((p) => `${p.keyText}:${p.valueText}`).join(',')}}`;
}

function pair(name: string, valueText: string): RawPair {
  return { name, keyText: JSON.stringify(name), valueText };
}

/** Ruby Hash#[]=: replace in place, or append at the end. */
export function setPair(pairs: readonly RawPair[], name: string, valueText: string): RawPair[] {
  const index = pairs.findIndex((p) => p.name === name);
  if (index < 0) {
    return [...pairs, pair(name, valueText)];
  }
  return pairs.map((p, i) => (i === index ? { ...p, valueText } : p));
}

/**
 * A timestamp as the running Sidekiq writes it: 6.x/7.x a Float (always with a `.`, so that 8.x
 * never takes it for milliseconds), 8.x integer milliseconds.
 */
export function formatTimestamp(epochMs: number, format: TimestampFormat): string {
  if (format === TimestampFormat.Millis) {
    return String(Math.floor(epochMs));
  }
  const text = String(epochMs / 1000);
  return /[.eE]/.test(text) ? text : `${text}.0`;
}

export interface RepushOptions {
  /** SortedEntry#retry: `retry_count − 1` when present (add_to_queue leaves it). */
  readonly decrementRetryCount: boolean;
  /** Wall clock in epoch milliseconds (fractional allowed). */
  readonly nowMs: number;
  /** A fresh jid for a payload that has none, as normalize_item makes one (default: 24 hex). */
  readonly newJid?: () => string;
}

export interface Repush {
  readonly queue: string;
  readonly payload: string;
}

/**
 * The payload Sidekiq::Client.push writes when the API re-pushes a parsed entry (retry now, add to
 * queue): defaults `{"retry":true,"queue":"default"}` merged under it (retry and queue move to the
 * front), `retry_count` decremented in place for retry, then as normalize_item and atomic_push
 * do: `jid` and `created_at` appended when missing, `enqueued_at` replaced in place or appended.
 * Null when the raw text is not an editable JSON object or has no class.
 */
export function buildRepush(raw: string, options: RepushOptions): Repush | null {
  const pairs = splitTopLevel(raw);
  const job = decodeJob(raw);
  if (pairs === null || !job.decodable || job.klass === null) {
    return null;
  }
  const queue = job.queue !== null && job.queue !== '' ? job.queue : 'default';
  const retry = pairs.find((p) => p.name === 'retry') ?? pair('retry', 'true');
  const queuePair = pairs.find((p) => p.name === 'queue') ?? pair('queue', JSON.stringify(queue));
  let rest = pairs.filter((p) => p.name !== 'retry' && p.name !== 'queue');
  if (options.decrementRetryCount) {
    const count = rest.find((p) => p.name === 'retry_count');
    if (count && /^-?\d+$/.test(count.valueText)) {
      rest = setPair(rest, 'retry_count', String(Number(count.valueText) - 1));
    }
  }
  const now = formatTimestamp(options.nowMs, job.timestampFormat);
  // Ruby's `||=`: set when missing, null or false
  for (const [name, value] of [
    ['jid', () => JSON.stringify(options.newJid?.() ?? randomBytes(12).toString('hex'))],
    ['created_at', () => now],
  ] as const) {
    const present = rest.find((p) => p.name === name);
    if (present === undefined || present.valueText === 'null' || present.valueText === 'false') {
      rest = setPair(rest, name, value());
    }
  }
  rest = setPair(rest, 'enqueued_at', now);
  return { queue, payload: joinPairs([retry, queuePair, ...rest]) };
}

export interface NewJobSpec {
  readonly jobClass: string;
  readonly queue: string;
  /** The JSON text of the argument array, kept verbatim. */
  readonly argsJson: string;
  readonly jid: string;
  readonly nowMs: number;
  readonly timestampFormat?: TimestampFormat;
  /** `retry` option text (JSON), default `true`. */
  readonly retryJson?: string;
  /** jid of the job this one restarts: written as `restarted_from` right after `jid`. */
  readonly restartedFrom?: string;
}

/**
 * A fresh payload in the key order Sidekiq::Client.push writes (retry, queue, class, args, jid,
 * created_at, enqueued_at), with `restarted_from` after `jid` when given.
 */
export function buildNewPayload(spec: NewJobSpec): string {
  const parsedArgs: unknown = JSON.parse(spec.argsJson);
  if (!Array.isArray(parsedArgs)) {
    throw new TypeError('argsJson must be a JSON array');
  }
  const now = formatTimestamp(spec.nowMs, spec.timestampFormat ?? TimestampFormat.Seconds);
  return joinPairs([
    pair('retry', spec.retryJson ?? 'true'),
    pair('queue', JSON.stringify(spec.queue)),
    pair('class', JSON.stringify(spec.jobClass)),
    pair('args', spec.argsJson),
    pair('jid', JSON.stringify(spec.jid)),
    ...(spec.restartedFrom === undefined
      ? []
      : [pair('restarted_from', JSON.stringify(spec.restartedFrom))]),
    pair('created_at', now),
    pair('enqueued_at', now),
  ]);
}

// ---------------------------------------------------------------- processes and work

export interface ProcessInfo {
  readonly identity: string | null;
  readonly hostname: string | null;
  readonly pid: number | null;
  readonly tag: string | null;
  readonly labels: string[];
  readonly queues: string[];
  /** 7.0.2+: one `{queue: weight}` object per capsule. */
  readonly weights: Record<string, number>[];
  readonly concurrency: number | null;
  readonly startedAt: number | null;
  readonly version: string | null;
  readonly embedded: boolean;
  readonly capsules: Record<string, JsonValue> | null;
}

/** The `info` JSON of a process hash; null if it is not a JSON object. */
export function decodeProcessInfo(raw: string): ProcessInfo | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!isObject(parsed)) {
    return null;
  }
  const weights = Array.isArray(parsed.weights)
    ? parsed.weights
        .filter(isObject)
        .map((w) =>
          Object.fromEntries(
            Object.entries(w).filter((e): e is [string, number] => typeof e[1] === 'number'),
          ),
        )
    : [];
  return {
    identity: str(parsed.identity),
    hostname: str(parsed.hostname),
    pid: typeof parsed.pid === 'number' ? parsed.pid : null,
    tag: str(parsed.tag),
    labels: Array.isArray(parsed.labels) ? parsed.labels.map(String) : [],
    queues: Array.isArray(parsed.queues) ? parsed.queues.map(String) : [],
    weights,
    concurrency: typeof parsed.concurrency === 'number' ? parsed.concurrency : null,
    startedAt: toEpochSeconds(parsed.started_at),
    version: str(parsed.version),
    embedded: parsed.embedded === true,
    capsules: isObject(parsed.capsules) ? parsed.capsules : null,
  };
}

/** `major.minor[.patch]` as numbers; null when the text is not a version. */
function versionParts(version: string): [number, number, number] | null {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null;
}

/** Whether `version` is at least `major.minor.patch`. */
function atLeast(version: string, major: number, minor: number, patch = 0): boolean {
  const parts = versionParts(version);
  if (parts === null) {
    return false;
  }
  const [a, b, c] = parts;
  return a !== major ? a > major : b !== minor ? b > minor : c >= patch;
}

/** Whether a text reads as a Sidekiq version (`6.4.1`, `7.3`). */
export function isSidekiqVersion(version: string): boolean {
  return versionParts(version) !== null;
}

/** Display rules from a process's Sidekiq version (`info.version`, 7.0.2+; absent → 6.x or 7.0.0–7.0.1). */
export function displayRulesForVersion(version: string | null): DisplayRules {
  return version !== null && atLeast(version, 7, 1) ? DisplayRules.Modern : DisplayRules.Legacy;
}

/** The order in which retry_all and kill_all take the entries of a set. */
export enum BulkOrder {
  /** ≤ 7.3.4: `each(&:retry) while size > 0`, pages of 50 from the highest score down. */
  HighestFirst = 'highest-first',
  /** 7.3.5+: ZPOPMIN one entry at a time. */
  LowestFirst = 'lowest-first',
}

/** retry_all / kill_all order for a Sidekiq version (null: older than 7.0.2, no `info.version`). */
export function bulkOrderForVersion(version: string | null): BulkOrder {
  return version !== null && atLeast(version, 7, 3, 5)
    ? BulkOrder.LowestFirst
    : BulkOrder.HighestFirst;
}

/** The Web's key of a sorted-set entry, `"#{score}-#{jid}"`: the score is a Ruby Float. */
export function sortedEntryKey(score: number, jid: string | null): string {
  return `${rubyFloat(score)}-${jid ?? ''}`;
}

export interface DecodedWork {
  readonly queue: string | null;
  readonly runAt: number | null;
  /** The job JSON exactly as popped from the queue. */
  readonly payload: string | null;
  readonly decodable: boolean;
}

/** A work-hash value `{"queue","payload"(JSON string; an object in 6.0.0–6.0.1),"run_at"}`. */
export function decodeWork(raw: string): DecodedWork {
  let parsed: unknown;
  try {
    parsed = parsePayload(raw);
  } catch {
    return { queue: null, runAt: null, payload: null, decodable: false };
  }
  if (!isObject(parsed)) {
    return { queue: null, runAt: null, payload: null, decodable: false };
  }
  const payload = parsed.payload;
  return {
    queue: str(parsed.queue),
    runAt: toEpochSeconds(parsed.run_at),
    payload:
      typeof payload === 'string'
        ? payload
        : isObject(payload)
          ? (stringifyExact(payload) ?? null)
          : null,
    decodable: true,
  };
}

/** `host:pid:nonce`, parsed from the right (a hostname may contain `:`). */
export function parseIdentity(
  identity: string,
): { hostname: string; pid: number | null; nonce: string } | null {
  const last = identity.lastIndexOf(':');
  const mid = last > 0 ? identity.lastIndexOf(':', last - 1) : -1;
  if (mid <= 0) {
    return null;
  }
  const pid = Number(identity.slice(mid + 1, last));
  return {
    hostname: identity.slice(0, mid),
    pid: Number.isInteger(pid) ? pid : null,
    nonce: identity.slice(last + 1),
  };
}

/**
 * The exact text of a top-level member of a JSON object (`args` of a payload, say), as written:
 * re-serialising would change it (Ruby writes 3.0 where JavaScript writes 3). Null when the text
 * is not an object or has no such member.
 */
export function rawMember(raw: string, name: string): string | null {
  let i = 0;
  const space = () => {
    while (i < raw.length && ' \t\n\r'.includes(raw[i])) {
      i++;
    }
  };
  const skipString = () => {
    i++; // opening quote
    while (i < raw.length && raw[i] !== '"') {
      i += raw[i] === '\\' ? 2 : 1;
    }
    i++; // closing quote
  };
  const skipValue = () => {
    if (raw[i] === '"') {
      skipString();
      return;
    }
    let depth = 0;
    while (i < raw.length) {
      const c = raw[i];
      if (c === '"') {
        skipString();
        continue;
      }
      if (c === '{' || c === '[') {
        depth++;
      } else if (c === '}' || c === ']') {
        if (depth === 0) {
          return;
        }
        depth--;
      } else if (c === ',' && depth === 0) {
        return;
      }
      i++;
      if (depth === 0 && (c === '}' || c === ']')) {
        return;
      }
    }
  };
  space();
  if (raw[i] !== '{') {
    return null;
  }
  i++;
  for (;;) {
    space();
    if (raw[i] !== '"') {
      return null;
    }
    const keyStart = i;
    skipString();
    let key: unknown;
    try {
      key = JSON.parse(raw.slice(keyStart, i));
    } catch {
      return null;
    }
    space();
    if (raw[i] !== ':') {
      return null;
    }
    i++;
    space();
    const valueStart = i;
    skipValue();
    if (key === name) {
      return raw.slice(valueStart, i).trimEnd();
    }
    space();
    if (raw[i] !== ',') {
      return null;
    }
    i++;
  }
}
