import fc from 'fast-check';
import { joinPayload, splitPayload } from './payload-args.js';

describe('splitPayload', () => {
  const payload = '{"retry":true,"queue":"q","class":"C","args":[1,"a"],"jid":"abc"}';

  it('cuts the args out after "args": and says where they go back', () => {
    const { rest, argsAt } = splitPayload(payload, '[1,"a"]');
    expect(rest).toBe('{"retry":true,"queue":"q","class":"C","args":,"jid":"abc"}');
    expect(argsAt).toBe(payload.indexOf('[1,"a"]'));
    expect(joinPayload(rest, argsAt, '[1,"a"]')).toBe(payload);
  });

  it('keeps the payload whole when its args are written otherwise, or there are none', () => {
    expect(splitPayload(payload, '[1, "a"]')).toEqual({ rest: payload, argsAt: null });
    expect(splitPayload(payload, null)).toEqual({ rest: payload, argsAt: null });
    expect(splitPayload(payload, '')).toEqual({ rest: payload, argsAt: null });
  });

  it('counts the position in code points, as Postgres does (astral characters before the args)', () => {
    const astral = '{"note":"😀😀","args":["x"]}';
    const { rest, argsAt } = splitPayload(astral, '["x"]');
    expect(argsAt).toBe([...astral.slice(0, astral.indexOf('["x"]'))].length);
    expect(joinPayload(rest, argsAt, '["x"]')).toBe(astral);
  });

  it('round-trips any payload and args (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme' }),
        fc.string({ unit: 'grapheme' }),
        fc.string({ unit: 'grapheme' }),
        (a, args, b) => {
          const whole = `${a}"args":${args}${b}`;
          const { rest, argsAt } = splitPayload(whole, args);
          expect(joinPayload(rest, argsAt, args)).toBe(whole);
        },
      ),
      { seed: 20, numRuns: 300 },
    );
  });
});
