import { unstorable, UNSTORABLE_MESSAGE, withinBytes } from '../../common/validation/text-rules.js';
import type { FieldError } from '../../common/validation/invalid.js';
import { MAX_EPOCH_US, parseTimestamp, usToIso } from './timestamps.js';

export type { FieldError } from '../../common/validation/invalid.js';

export interface ReaderContext {
  /** prefix for field names in errors, e.g. `events[3].` */
  path: string;
  /** form-encoded bodies carry every value as a string */
  form: boolean;
}

export type TimeField =
  'occurred_at' | 'enqueued_at' | 'created_at' | 'scheduled_at' | 'started_at';
const US_FIELD: Record<TimeField, string> = {
  occurred_at: 'occurred_at_us',
  enqueued_at: 'enqueued_at_us',
  created_at: 'created_at_us',
  scheduled_at: 'scheduled_at_us',
  started_at: 'started_at_us',
};

/** Reads typed values out of one event body, collecting every field at fault. */
export class FieldReader {
  readonly errors: FieldError[] = [];
  constructor(
    private readonly body: Record<string, unknown>,
    private readonly ctx: ReaderContext,
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
