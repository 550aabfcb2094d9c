import fc from 'fast-check';
import { MASKED_MESSAGE_MAX, maskMessage } from './mask.js';

const params = { seed: 23, numRuns: 300 };

describe('maskMessage', () => {
  it.each([
    ["Couldn't find User with 'id'=42", "Couldn't find User with 'id'=<n>"],
    ["undefined method `email' for nil:NilClass", "undefined method `email' for nil:NilClass"],
    [
      "undefined method 'email' for an instance of User",
      "undefined method 'email' for an instance of User",
    ],
    [
      'PG::UniqueViolation: ERROR: duplicate key value violates unique constraint "index_users_on_email" DETAIL: Key (email)=(bob@example.com) already exists.',
      'PG::UniqueViolation: ERROR: duplicate key value violates unique constraint "?" DETAIL: Key (email)=(<email>) already exists.',
    ],
    ['#<User:0x000055d5c1a2b3c8> is invalid', '#<User:<hex>> is invalid'],
    ['job 9a2b3c4d5e6f7a8b9c0d1e2f lost', 'job <hex> lost'],
    ['order 3f2504e0-4f89-11d3-9a0c-0305e82c3301 not found', 'order <uuid> not found'],
    ['timed out at 2026-12-04T21:30:00.123Z after 30.5 s', 'timed out at <time> after <n> s'],
    ['connect to 10.0.3.17:6379 refused', 'connect to <ip> refused'],
    ['Net::ReadTimeout with #<TCPSocket:(closed)>', 'Net::ReadTimeout with #<TCPSocket:(closed)>'],
    ['ids [1, 2, 3, 4] missing', 'ids [<n>, …] missing'],
    ['ids [7] missing', 'ids [<n>] missing'],
    ["value 'a b c' rejected", "value '?' rejected"],
    ['balance -12.50 below zero', 'balance <n> below zero'],
    ['user_42 and order-7', 'user_<n> and order-<n>'],
    ['{:id=>42, :name=>"Bob"}', '{:id=><n>, :name=>"?"}'],
    ['  many\n\tspaces  ', 'many spaces'],
  ])('masks %j', (message, masked) => {
    expect(maskMessage(message)).toBe(masked);
  });

  it('reads a missing message as empty', () => {
    expect(maskMessage(null)).toBe('');
  });

  it('keeps at most MASKED_MESSAGE_MAX characters of a long message', () => {
    expect([...maskMessage('word '.repeat(2000))]).toHaveLength(MASKED_MESSAGE_MAX);
  });

  // the values an error carries, in the shapes they come in
  const value = fc.oneof(
    fc.integer().map(String),
    fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((d) => d.toFixed(3)),
    fc.uuid(),
    fc.stringMatching(/^[0-9a-f]{24}$/).filter((h) => /\d/.test(h) && /[a-f]/.test(h)),
    fc.stringMatching(/^[a-z][a-z0-9.]{0,10}@[a-z]{1,8}\.(com|org|io)$/),
    fc
      .date({ min: new Date(0), max: new Date(Date.UTC(9999, 0)), noInvalidDate: true })
      .map((d) => d.toISOString()),
  );
  // the fixed words around them
  const word = fc.stringMatching(/^[A-Za-z]{1,10}$/);
  const template = fc.array(
    fc.record({
      before: word,
      wrap: fc.constantFrom('', '"', "'"),
    }),
    { minLength: 1, maxLength: 6 },
  );
  const fill = (parts: { before: string; wrap: string }[], values: string[]) =>
    parts.map((p, i) => `${p.before} ${p.wrap}${values[i]}${p.wrap}`).join(' ');

  it('gives messages that differ only in their values the same mask', () => {
    fc.assert(
      fc.property(
        template.chain((parts) =>
          fc.tuple(
            fc.constant(parts),
            fc.array(value, { minLength: parts.length, maxLength: parts.length }),
            fc.array(value, { minLength: parts.length, maxLength: parts.length }),
          ),
        ),
        ([parts, a, b]) => {
          // the same kind of value in each slot (an email is not a number)
          const kinds = (values: string[]) => values.map((v) => maskMessage(v));
          fc.pre(JSON.stringify(kinds(a)) === JSON.stringify(kinds(b)));
          expect(maskMessage(fill(parts, a))).toBe(maskMessage(fill(parts, b)));
        },
      ),
      params,
    );
  });

  it('never lets a digit through', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (message) => {
        expect(maskMessage(message)).not.toMatch(/\d/);
      }),
      params,
    );
  });
});
