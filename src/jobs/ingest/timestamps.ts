// An event's times travel as microsecond ISO 8601 strings in UTC (`2026-11-23T10:00:00.123456Z`):
// what timestamptz reads without losing the microseconds a JS Date drops. The fold works in
// integer microseconds since the epoch.

import { calendarUtc } from '../../common/validation/calendar.js';

// ISO 8601 date-time with a mandatory offset; fraction up to 9 digits
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))? ?(Z|[+-]\d{2}:?\d{2})$/i;
// what JavaScript's toISOString and Ruby's iso8601(3 or 6) print: read without the general regex
const CANONICAL_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(?:\d{3})?Z$/;
const MICRO_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const MIN_EPOCH_MS = Date.UTC(1970, 0, 1);
// the last millisecond of year 9999
const MAX_EPOCH_MS = Date.UTC(10_000, 0, 1) - 1;
export const MAX_EPOCH_US = MAX_EPOCH_MS * 1000;

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
    const base = calendarUtc(y, mo, d, h, mi, s);
    if (base === null || Math.abs(offset) > 18 * 60) {
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

/** An IngestEvent time (`2026-11-23T10:00:00.123456Z`, or any form parseTimestamp reads) → µs. */
export function isoToUs(iso: string): number {
  const micro = MICRO_ISO.test(iso) ? iso : parseTimestamp(iso);
  if (micro === null) {
    throw new Error(`not a timestamp: ${iso}`);
  }
  return Date.parse(micro.slice(0, 23) + 'Z') * 1000 + Number(micro.slice(23, 26));
}

/** Microseconds since the epoch (an integer) → ISO 8601 with six fraction digits, for timestamptz. */
export function usToIso(us: number): string {
  const ms = Math.floor(us / 1000);
  return new Date(ms).toISOString().replace('Z', String(us - ms * 1000).padStart(3, '0') + 'Z');
}
