import { parseExact, RubyNumber, rubyFloat, stringifyExact } from './ruby-json.js';

// Expected texts are what Ruby 3.1 (json 2.6.1) prints: ruby -rjson -e 'puts JSON.generate(JSON.parse(ARGV[0]))'
describe('rubyFloat (Float#to_s)', () => {
  it.each([
    [3, '3.0'],
    [1e20, '1.0e+20'],
    [1e-5, '1.0e-05'],
    [1e-4, '0.0001'],
    [0.00012, '0.00012'],
    [1e14, '100000000000000.0'],
    [1e15, '1.0e+15'],
    [1.234567890123456e15, '1.234567890123456e+15'],
    [123456789012345, '123456789012345.0'],
    [-0, '-0.0'],
    [0, '0.0'],
    [-1.5e20, '-1.5e+20'],
    [2 ** 60, '1.152921504606847e+18'],
    [1795394268.2519736, '1795394268.2519736'],
    [1924992000, '1924992000.0'],
    [5e-324, '5.0e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [0.5, '0.5'],
  ])('%s → %s', (value, ruby) => {
    expect(rubyFloat(value)).toBe(ruby);
  });
});

describe('parseExact + stringifyExact', () => {
  it('keeps what Ruby keeps: big integers, whole and exponent floats', () => {
    const text =
      '[1E2,-0,-0.0,12345678901234567890,3.0,1.0e+20,1e-5,1e-4,0.0001234,1e16,1e15,123456789.123456789,5e-324]';
    const sut = parseExact(text) as unknown[];
    expect(stringifyExact(sut)).toBe(
      '[100.0,0,-0.0,12345678901234567890,3.0,1.0e+20,1.0e-05,0.0001,0.0001234,1.0e+16,1.0e+15,123456789.12345679,5.0e-324]',
    );
    expect(sut[3]).toBeInstanceOf(RubyNumber);
    expect(sut[8]).toBe(0.0001234); // written alike by both: a plain number
  });

  it('reads the rest exactly as JSON.parse does', () => {
    const text =
      '{"a":[1,2.5,"x\\u00e9\\n",true,false,null,{}],"__proto__":{"b":[]},"s":"caf\u00e9","n":-12}';
    const sut = parseExact(text);
    expect(sut).toEqual(JSON.parse(text));
    expect(Object.keys(sut as object)).toEqual(['a', '__proto__', 's', 'n']);
    expect(Object.getPrototypeOf(sut)).toBe(Object.prototype);
    expect(stringifyExact(sut)).toBe(JSON.stringify(JSON.parse(text)));
  });

  it('refuses what JSON.parse refuses', () => {
    for (const bad of [
      '',
      '[1,]',
      '{"a" 1}',
      '[01]',
      '"\u0001"',
      '[1] x',
      'tru',
      '{"a":1,}',
      '[.5]',
    ]) {
      expect(() => JSON.parse(bad), bad).toThrow(SyntaxError);
      expect(() => parseExact(bad), bad).toThrow(SyntaxError);
    }
  });

  it('splices every number in place, nested, and leaves strings that look like placeholders', () => {
    const value = {
      big: new RubyNumber('18446744073709551617'),
      list: [new RubyNumber('3.0'), { deep: new RubyNumber('1.0e+20') }],
      text: '\u0000abc:0',
      plain: 1,
    };
    expect(stringifyExact(value)).toBe(
      '{"big":18446744073709551617,"list":[3.0,{"deep":1.0e+20}],"text":"\\u0000abc:0","plain":1}',
    );
    expect(JSON.stringify(value)).toContain('"big":18446744073709552000'); // the lossy fallback
  });

  it('writes like JSON.stringify when there is nothing to splice', () => {
    const value = { a: [1, 'b', null], d: new Date(0), u: undefined };
    expect(stringifyExact(value)).toBe(JSON.stringify(value));
    expect(stringifyExact(undefined)).toBeUndefined();
  });
});
