// Values inside a Sidekiq payload as Ruby reads them: exact numbers, and timestamps in either of
// the forms Sidekiq has written (float seconds in 6.x/7.x, integer milliseconds in 8.x).
import { type ExactJson, parseExact, RubyNumber } from '../../common/json/ruby-json.js';

/** A value above this is epoch milliseconds (1e11 s is year 5138; 1e11 ms is 1973). */
export const MILLIS_THRESHOLD = 1e11;

/**
 * A value of a payload as Ruby holds it: numbers JavaScript would round or reformat (2**64+1,
 * 3.0, 1.0e+20) are RubyNumbers, written back verbatim by stringifyExact.
 */
export type JsonValue = ExactJson;
export type JsonObject = { [key: string]: JsonValue };

export function isObject(value: unknown): value is JsonObject {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof RubyNumber)
  );
}

/** A number of the payload's metadata (timestamps, counts), whatever form it was written in. */
export function num(value: unknown): number | null {
  if (value instanceof RubyNumber) {
    return Number(value.text);
  }
  return typeof value === 'number' ? value : null;
}

export function str(value: JsonValue | undefined): string | null {
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

/** The payload as Ruby reads it; JSON.parse's verdict (and message) when it is not JSON. */
export function parsePayload(raw: string): unknown {
  try {
    return parseExact(raw);
  } catch {
    // not JSON (JSON.parse throws its own message), or nested beyond the reader's stack (lossy)
    return JSON.parse(raw);
  }
}
