// Sidekiq::Process and Sidekiq::Work as pure code: a process's `info` JSON, its identity, and the
// values of its work hash.
import { stringifyExact } from '../../common/json/ruby-json.js';
import { isObject, type JsonValue, parsePayload, str, toEpochSeconds } from './payload-values.js';

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
