import fc from 'fast-check';
import { unstorable, withinBytes } from '../../common/validation/text-rules.js';
import { batchItems } from './batch-body.js';
import { EVENT_FIELDS, MAX_NAME_BYTES, parseEvent } from './event-parser.js';
import { parseTimestamp } from './timestamps.js';

// Property-based tests of the event parser and its date and number readers: fixed seed, bounded
// runs. Whatever a client sends, the parser answers (never throws), and what it accepts is
// storable: in range, within its byte limits, free of NUL and unpaired surrogates.
const params = { seed: 19, numRuns: 400 };
const ctx = { path: '', form: false, now: new Date('2026-11-23T12:00:00.000Z') };
const MICRO_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

const oddText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom(
    '',
    '\u0000',
    '\ud800',
    'a\udc00',
    '1e21',
    '99999999999999999999',
    '-0',
    '2020-W01',
  ),
  fc.constantFrom('字'.repeat(400), 'x'.repeat(1_025)),
);
const anyValue = fc.oneof(
  oddText,
  fc.double(),
  fc.integer(),
  fc.bigInt().map((b) => Number(b)),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 3 }),
);
const field = fc.constantFrom(...EVENT_FIELDS, 'unknown_field');
const event = fc.dictionary(field, anyValue, { maxKeys: 10 });

describe('parseEvent on arbitrary input', () => {
  it('never throws, and either names fields at fault or returns a storable event', () => {
    fc.assert(
      fc.property(event, fc.boolean(), (raw, form) => {
        const result = parseEvent(raw, { ...ctx, form });
        if (result.errors) {
          expect(result.errors.length).toBeGreaterThan(0);
          for (const e of result.errors) {
            expect(typeof e.field).toBe('string');
            expect(typeof e.message).toBe('string');
          }
          return;
        }
        const e = result.event;
        expect(e.jid).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
        expect(e.occurredAt).toMatch(MICRO_ISO);
        for (const name of ['jobClass', 'queue', 'errorClass'] as const) {
          const value = e[name];
          if (value !== null) {
            expect(withinBytes(value, MAX_NAME_BYTES)).toBe(true);
          }
        }
        for (const value of Object.values(e)) {
          if (typeof value === 'string') {
            expect(unstorable(value)).toBe(false);
          }
          if (typeof value === 'number') {
            expect(Number.isFinite(value)).toBe(true);
          }
        }
        for (const json of [e.arguments, e.payload, e.errorBacktrace]) {
          if (json !== null) {
            expect(() => JSON.parse(json) as unknown).not.toThrow();
          }
        }
        expect(Number.isSafeInteger(e.attempt) && e.attempt >= 0).toBe(true);
        if (e.pid !== null) {
          expect(Number.isSafeInteger(e.pid) && e.pid >= 0 && e.pid <= 2_147_483_647).toBe(true);
        }
        if (e.retryCount !== null) {
          expect(Number.isSafeInteger(e.retryCount) && e.retryCount >= 0).toBe(true);
        }
      }),
      params,
    );
  });

  it('reads integers and numbers only when they are exact and in range', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer(), fc.double(), oddText, fc.bigInt().map(String)),
        fc.boolean(),
        (pid, form) => {
          const result = parseEvent(
            { type: 'started', job_id: 'a', pid: form ? String(pid) : pid },
            { ...ctx, form },
          );
          const text = String(pid);
          if (form && text === '') {
            expect(result.event?.pid).toBeNull(); // a blank form field is an absent one
            return;
          }
          const n = Number(pid);
          const exact =
            typeof pid === 'number' ? Number.isSafeInteger(pid) : /^-?\d{1,16}$/.test(text);
          if (exact && n >= 0 && n <= 2_147_483_647) {
            expect(result.event?.pid).toBe(n);
          } else {
            expect(result.errors?.map((e) => e.field)).toContain('pid');
          }
        },
      ),
      params,
    );
  });

  it('batchItems never throws on arbitrary bodies', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (body) => {
        const { items, errors } = batchItems(body);
        expect(Array.isArray(items)).toBe(true);
        expect(Array.isArray(errors)).toBe(true);
      }),
      params,
    );
  });
});

describe('parseTimestamp', () => {
  it('reads back every instant in range, as ISO text, epoch seconds and epoch milliseconds', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date(0),
          max: new Date('9999-12-31T23:59:59.999Z'),
          noInvalidDate: true,
        }),
        (date) => {
          const ms = date.getTime();
          const expected = `${date.toISOString().slice(0, 23)}000Z`;
          expect(parseTimestamp(date.toISOString())).toBe(expected);
          if (ms > 1e11) {
            expect(parseTimestamp(ms)).toBe(expected);
          }
          // epoch seconds as Sidekiq 6/7 write them: a float, exact to the microsecond
          const seconds = Math.floor(ms / 1000);
          if (seconds * 1000 <= 1e11) {
            expect(parseTimestamp(seconds)).toBe(
              `${new Date(seconds * 1000).toISOString().slice(0, 19)}.000000Z`,
            );
          }
        },
      ),
      params,
    );
  });

  it('answers null or a microsecond ISO instant from 1970 to 9999 for anything', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anyValue,
          fc.date().map((d) => d.toString()),
        ),
        (value) => {
          const parsed = parseTimestamp(value);
          if (parsed !== null) {
            expect(parsed).toMatch(MICRO_ISO);
            const year = Number(parsed.slice(0, 4));
            expect(year >= 1970 && year <= 9999).toBe(true);
          }
        },
      ),
      params,
    );
  });
});
