import fc from 'fast-check';
import { nestsDeeperThan } from './json-depth.js';
import { findUnstorable, unstorable, withinBytes } from './text-rules.js';
import { parseDateTime } from './validators.js';

// Property-based: fixed seeds, bounded runs, so a failure reproduces.
const params = { seed: 19, numRuns: 500 };

function depthOf(value: unknown): number {
  if (Array.isArray(value)) {
    return 1 + Math.max(0, ...value.map(depthOf));
  }
  if (value !== null && typeof value === 'object') {
    return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  }
  return 0;
}

/** A JSON value nested `levels` deep, with strings that carry brackets, quotes and escapes. */
const nested = (levels: number) =>
  fc
    .array(fc.constantFrom('arr', 'obj'), { minLength: levels, maxLength: levels })
    .chain((kinds) =>
      fc
        .string({ unit: 'grapheme', maxLength: 8 })
        .map((leaf) =>
          kinds.reduce<unknown>(
            (inner, kind) => (kind === 'arr' ? [inner, '[{"\\'] : { '}]\\"': inner }),
            `${leaf}[[{"\\`,
          ),
        ),
    );

describe('nestsDeeperThan', () => {
  it('agrees with the depth of the parsed value, whatever the strings hold', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 10 }), (value, max) => {
        const text = JSON.stringify(value);
        expect(nestsDeeperThan(Buffer.from(text), max)).toBe(depthOf(value) > max);
      }),
      params,
    );
  });

  it('counts exactly at the limit', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 300 })
          .chain((levels) => fc.tuple(fc.constant(levels), nested(levels))),
        ([levels, value]) => {
          const buf = Buffer.from(JSON.stringify(value));
          expect(nestsDeeperThan(buf, levels)).toBe(false);
          expect(nestsDeeperThan(buf, levels - 1)).toBe(true);
        },
      ),
      { ...params, numRuns: 200 },
    );
  });
});

describe('unstorable and findUnstorable', () => {
  it('find exactly the strings with NUL or an unpaired surrogate, with their path', () => {
    const reference = (s: string) =>
      s.includes('\u0000') || !(s as unknown as { isWellFormed(): boolean }).isWellFormed();
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 20 }), (s) => {
        expect(unstorable(s)).toBe(reference(s));
        expect(findUnstorable({ a: [1, { b: s }] }, 'data')).toBe(
          reference(s) ? 'data.a[1].b' : null,
        );
      }),
      params,
    );
  });

  it('withinBytes counts UTF-8 bytes', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 60 }),
        fc.integer({ min: 0, max: 200 }),
        (s, max) => {
          expect(withinBytes(s, max)).toBe(Buffer.byteLength(s, 'utf8') <= max);
        },
      ),
      params,
    );
  });
});

describe('parseDateTime', () => {
  it('reads back every instant from 1970 to 9999 that toISOString prints, and its date', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date(0),
          max: new Date('9999-12-31T23:59:59.999Z'),
          noInvalidDate: true,
        }),
        (date) => {
          const iso = date.toISOString();
          expect(parseDateTime(iso)?.getTime()).toBe(date.getTime());
          expect(parseDateTime(iso.slice(0, 10))?.toISOString().slice(0, 10)).toBe(
            iso.slice(0, 10),
          );
        },
      ),
      params,
    );
  });

  it('never throws and answers null or a valid date for any text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 40 }),
          fc
            .tuple(
              fc.integer({ min: 0, max: 12_000 }),
              fc.integer({ min: 0, max: 60 }),
              fc.integer({ min: 0, max: 40 }),
              fc.integer({ min: 0, max: 99 }),
            )
            .map(
              ([y, m, d, h]) =>
                `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}T${String(h).padStart(2, '0')}:00:00Z`,
            ),
        ),
        (text) => {
          const date = parseDateTime(text);
          if (date !== null) {
            expect(Number.isFinite(date.getTime())).toBe(true);
            expect(date.getUTCFullYear()).toBeGreaterThanOrEqual(1970);
            // no roll-over: the calendar date written is the one read (up to the offset)
            if (text.endsWith('Z')) {
              expect(date.toISOString().slice(0, 10)).toBe(text.slice(0, 10));
            }
          }
        },
      ),
      params,
    );
  });

  it.each([
    '2020-W01',
    '2020-W01-1',
    '2020-001',
    '2021-02-30',
    '2026-11-23T24:00:00Z',
    '1969-12-31',
  ])('refuses %s', (text) => {
    expect(parseDateTime(text)).toBeNull();
  });
});
