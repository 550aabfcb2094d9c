import { buildMessage, ValidateBy, type ValidationOptions } from 'class-validator';
import { calendarUtc } from './calendar.js';
import { withinBytes } from './text-rules.js';

// What the service reads with `new Date(text)`: a calendar date, or a date and time with an
// optional fraction and offset. ISO 8601's other forms (weeks 2020-W01, ordinal days 2020-001,
// reduced precision 2020-01) pass class-validator's IsISO8601 but JavaScript cannot read them.
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/** The Date `text` names, or null when it is not a real calendar date-time in years 1970-9999. */
export function parseDateTime(text: unknown): Date | null {
  if (typeof text !== 'string' || text.length > 40) {
    return null;
  }
  const m = DATE_TIME.exec(text);
  if (!m) {
    return null;
  }
  const [, y, mo, d, h, mi, s] = m;
  if (calendarUtc(y, mo, d, h, mi, s) === null) {
    return null;
  }
  const date = new Date(text);
  const ms = date.getTime();
  return Number.isFinite(ms) && ms >= 0 && ms < Date.UTC(10_000, 0, 1) ? date : null;
}

/** A date-time the service can read (see parseDateTime); replaces IsISO8601 on every input. */
export function IsDateTime(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isDateTime',
      validator: {
        validate: (value) => parseDateTime(value) !== null,
        defaultMessage: buildMessage(
          (each) =>
            `${each}$property must be a date (2026-11-23) or date-time (2026-11-23T10:00:00Z) from 1970 to 9999`,
          options,
        ),
      },
    },
    options,
  );
}

/** At most `max` bytes of UTF-8, where Postgres limits bytes (index rows, identifiers). */
export function MaxBytes(max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'maxBytes',
      constraints: [max],
      validator: {
        validate: (value) => typeof value !== 'string' || withinBytes(value, max),
        defaultMessage: buildMessage(
          (each) => `${each}$property must be at most ${max} bytes of UTF-8`,
          options,
        ),
      },
    },
    options,
  );
}
