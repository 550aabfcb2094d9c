// Byte-safe editing of Sidekiq payloads, following shared/reference/sidekiq-redis-model.md §12: a
// payload is never re-serialised, only its top-level pairs are read, replaced or appended, so
// nested values (floats such as 1.0, big integers, key order) stay byte-identical.
import { randomBytes } from 'node:crypto';
import { decodeJob, TimestampFormat } from './job-record.js';

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
  /** the times' format when the payload has none to follow (default: the payload's, else seconds) */
  readonly timestampFormat?: TimestampFormat;
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
  const now = formatTimestamp(options.nowMs, options.timestampFormat ?? job.timestampFormat);
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

/**
 * The exact text of a top-level member of a JSON object (`args` of a payload, say), as written:
 * re-serialising would change it (Ruby writes 3.0 where JavaScript writes 3). Null when the text
 * is not an object or has no such member. A key written twice gives its last value, as Ruby's
 * JSON.parse (and decodeJob) read it.
 */
export function rawMember(raw: string, name: string): string | null {
  return splitTopLevel(raw)?.findLast((p) => p.name === name)?.valueText ?? null;
}
