import { ERROR_STATUS, type ErrorCode } from '../common/errors/error-codes.js';

/** Who made a change: a stored token, the bootstrap PRIVATE_TOKEN, or the REPL's OS user. */
export type AuditActor =
  | { kind: 'token'; tokenId: string; tokenName: string }
  | { kind: 'bootstrap'; tokenName: string }
  | { kind: 'repl'; osUser: string };

/** One change about to be made: the audit record written before it, outcome 'pending'. */
export interface AuditEntry {
  actor: AuditActor;
  action: string;
  route: string | null;
  instance: string | null;
  clientAddress: string | null;
  userAgent: string | null;
  targets: Record<string, unknown>;
  options: Record<string, unknown>;
}

export type AuditOutcome =
  | { outcome: 'ok'; result: Record<string, unknown> }
  | { outcome: 'error'; error: Record<string, unknown> };

/** What @Audited() says about a route beyond its action name. */
export interface AuditSpec {
  action: string;
  /** route params renamed in targets (`name` → `queue`); others keep their names */
  params?: Record<string, string>;
  /**
   * The route is not about one Sidekiq instance (tokens), or without `instance` means every one
   * (a restart): its record's instance is the one asked for or null, not the default instance
   */
  noDefaultInstance?: boolean;
  /** identifiers the response names (a new token's id, the jids a restart pushed) */
  result?: (response: unknown) => Record<string, unknown>;
}

// Bounds on what a record carries, whatever the request held: every request does bounded work
// and a record stays small (the body itself is bounded by BODY_LIMIT, not this small)
export const MAX_JIDS = 1000;
const MAX_TEXT = 256;
const MAX_ITEMS = 100;
const MAX_KEYS = 50;
const MAX_DEPTH = 4;
export const MAX_USER_AGENT = 512;

// never stored, whatever a route takes: a secret in a body or query is not the audit log's
const SECRET_KEY = /^(token|secret|password|private[-_]?token|authorization|api[-_]?key)$/i;
// body fields that name what is changed rather than how
const TARGET_KEYS = new Set(['jid', 'jids', 'instance']);

// eslint-disable-next-line no-control-regex -- NUL is exactly what this replaces
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text as a record keeps it: at most MAX_TEXT characters, and what Postgres cannot store (NUL, a
 * lone surrogate, also one left by the cut) as U+FFFD. The record is written before the route's
 * validation refuses such input with 400: it must not fail the write (a 503) instead.
 */
export function text(value: string): string {
  const cut = value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT)}…` : value;
  return cut.replace(UNSTORABLE, '\uFFFD');
}

/** A JSON value cut to the record's bounds: long text, long lists, deep nesting, many keys. */
export function bounded(value: unknown, depth = 0): unknown {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') {
    return value;
  }
  if (typeof value === 'string') {
    return text(value);
  }
  if (depth >= MAX_DEPTH) {
    return '[…]';
  }
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((v) => bounded(v, depth + 1));
    return value.length > MAX_ITEMS ? [...items, `… ${value.length - MAX_ITEMS} more`] : items;
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value).slice(0, MAX_KEYS)) {
      if (!SECRET_KEY.test(key) && v !== undefined) {
        out[text(key)] = bounded(v, depth + 1);
      }
    }
    return out;
  }
  return text(String(value as bigint));
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** Jids named in a request or a response: strings only, each once, at most MAX_JIDS. */
export function jidsOf(...values: unknown[]): string[] {
  const jids = new Set<string>();
  for (const value of values) {
    for (const jid of Array.isArray(value) ? value : [value]) {
      if (typeof jid === 'string' && jid.length > 0 && jid.length <= MAX_TEXT) {
        jids.add(text(jid));
      }
      if (jids.size >= MAX_JIDS) {
        return [...jids];
      }
    }
  }
  return [...jids];
}

/**
 * What a request changes (targets: its path params, the instance, the jids it names) and how
 * (options: the rest of its query and body, e.g. dry_run, filter, counters), bounded, secrets
 * left out.
 */
export function captureRequest(
  spec: AuditSpec,
  params: unknown,
  query: unknown,
  body: unknown,
): { instance: string | null; targets: Record<string, unknown>; options: Record<string, unknown> } {
  const p = asRecord(params);
  const q = asRecord(query);
  const b = asRecord(body);
  const targets: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(p)) {
    if (key !== 'jid' && !SECRET_KEY.test(key)) {
      targets[spec.params?.[key] ?? key] = bounded(value);
    }
  }
  const jids = jidsOf(p.jid, b.jid, b.jids);
  if (jids.length > 0) {
    targets.jids = jids;
  }
  const rawInstance = q.instance ?? b.instance;
  const instance = typeof rawInstance === 'string' ? text(rawInstance) : null;
  const options: Record<string, unknown> = {};
  for (const [key, value] of [...Object.entries(q), ...Object.entries(b)]) {
    if (!TARGET_KEYS.has(key)) {
      options[key] = value;
    }
  }
  return { instance, targets, options: bounded(options) as Record<string, unknown> };
}

/**
 * A response's outcome in counts: its top-level numbers and booleans (a list: how many), and the
 * identifiers the route's spec picks out. Never the response itself (a new token's secret).
 */
export function summarizeResult(spec: AuditSpec, response: unknown): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  if (Array.isArray(response)) {
    result.count = response.length;
  } else {
    for (const [key, value] of Object.entries(asRecord(response))) {
      if (typeof value === 'number' || typeof value === 'boolean') {
        result[key] = value;
      }
    }
  }
  if (spec.result) {
    // the change is made by now: a response of an unexpected shape must not turn it into an error
    let picked: Record<string, unknown>;
    try {
      picked = spec.result(response);
    } catch {
      return { ...result, unreadable: true };
    }
    const { jids, ...named } = picked;
    Object.assign(result, bounded(named));
    if (jids !== undefined) {
      result.jids = jidsOf(jids);
    }
  }
  return result;
}

/** An error as recorded: its code, status and message (field names for a validation error). */
export function summarizeError(error: unknown): Record<string, unknown> {
  const e = error as {
    code?: ErrorCode;
    message?: unknown;
    details?: { errors?: { field?: unknown }[] };
    getStatus?: () => number;
  };
  const out: Record<string, unknown> = {};
  if (typeof e?.code === 'string') {
    out.code = e.code;
    if (e.code in ERROR_STATUS) {
      out.status = ERROR_STATUS[e.code];
    }
  }
  if (typeof e?.getStatus === 'function') {
    out.status = e.getStatus();
  }
  out.message = typeof e?.message === 'string' ? text(e.message) : 'unknown error';
  if (Array.isArray(e?.details?.errors)) {
    out.fields = e.details.errors.slice(0, MAX_ITEMS).map((f) => text(String(f.field)));
  }
  return out;
}
