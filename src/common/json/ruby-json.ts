// JSON as Ruby reads and writes it, without losing what JavaScript's numbers cannot hold.
//
// Ruby's JSON reads a number with `.` or an exponent as a Float and any other as an Integer
// (unbounded), and writes a Float with Float#to_s (3.0, 1.0e+20, 1.0e-05). JSON.parse in Node 20
// rounds integers beyond 2^53 and turns 3.0 into 3, and it gives no access to the source text
// (that is Node 21+'s reviver context), so this module reads JSON itself: a number whose Ruby
// form differs from what JavaScript would write for it becomes a RubyNumber holding that form.
// JSON.stringify cannot write raw text either (no JSON.rawJSON in Node 20): stringifyExact
// writes a placeholder string for each RubyNumber and splices the text in afterwards.
import { randomBytes } from 'node:crypto';

/** A JSON number kept in the form Ruby's API shows it (the integer's digits, or Float#to_s). */
export class RubyNumber {
  constructor(readonly text: string) {}

  /** Nearest double, for arithmetic and for writers that know nothing of RubyNumber. */
  toJSON(): number {
    return Number(this.text);
  }

  valueOf(): number {
    return Number(this.text);
  }

  toString(): string {
    return this.text;
  }
}

export type ExactJson =
  null | boolean | number | string | RubyNumber | ExactJson[] | { [key: string]: ExactJson };

/** Float#to_s: shortest round-trip digits, fixed between 1e-4 and 1e16, else d.ddde±XX. */
export function rubyFloat(value: number): string {
  if (Number.isNaN(value)) {
    return 'NaN';
  }
  if (!Number.isFinite(value)) {
    return value > 0 ? 'Infinity' : '-Infinity';
  }
  if (value === 0) {
    return Object.is(value, -0) ? '-0.0' : '0.0';
  }
  const sign = value < 0 ? '-' : '';
  const [mantissa = '', exponent = '0'] = Math.abs(value).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const decpt = Number(exponent) + 1; // position of the decimal point after the first digit
  if (decpt > 0 && decpt <= 15) {
    return digits.length <= decpt
      ? `${sign}${digits}${'0'.repeat(decpt - digits.length)}.0`
      : `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
  }
  if (decpt <= 0 && decpt > -4) {
    return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  }
  const e = decpt - 1;
  const abs = String(Math.abs(e)).padStart(2, '0');
  return `${sign}${digits[0]}.${digits.slice(1) || '0'}e${e < 0 ? '-' : '+'}${abs}`;
}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

/** A number token as Ruby holds it: a plain number when JavaScript writes it the same way. */
function numberValue(token: string, isFloat: boolean): number | RubyNumber {
  const n = Number(token);
  if (isFloat) {
    // Ruby's Float overflows to Infinity, which its own JSON refuses to write: keep the source
    const ruby = Number.isFinite(n) ? rubyFloat(n) : token;
    return ruby === JSON.stringify(n) ? n : new RubyNumber(ruby);
  }
  const digits = BigInt(token).toString();
  return digits === JSON.stringify(n) ? n : new RubyNumber(digits);
}

class Reader {
  private i = 0;

  constructor(private readonly s: string) {}

  read(): ExactJson {
    const value = this.value();
    this.space();
    if (this.i !== this.s.length) {
      this.fail();
    }
    return value;
  }

  private fail(): never {
    throw new SyntaxError(`Unexpected token in JSON at position ${this.i}`);
  }

  private space(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c !== 32 && c !== 10 && c !== 13 && c !== 9) {
        return;
      }
      this.i++;
    }
  }

  private value(): ExactJson {
    this.space();
    const c = this.s[this.i];
    switch (c) {
      case '{':
        return this.object();
      case '[':
        return this.array();
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      default:
        return this.number();
    }
  }

  private literal<T>(word: string, value: T): T {
    if (!this.s.startsWith(word, this.i)) {
      this.fail();
    }
    this.i += word.length;
    return value;
  }

  private number(): number | RubyNumber {
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.s);
    if (m === null) {
      this.fail();
    }
    this.i = NUMBER.lastIndex;
    return numberValue(m[0], m[1] !== undefined || m[2] !== undefined);
  }

  private string(): string {
    const s = this.s;
    const start = this.i;
    let plain = true;
    for (let j = start + 1; j < s.length; j++) {
      const c = s.charCodeAt(j);
      if (c === 34) {
        this.i = j + 1;
        // escapes and control characters: the native reader decodes (or refuses) them
        return plain ? s.slice(start + 1, j) : (JSON.parse(s.slice(start, j + 1)) as string);
      }
      if (c === 92) {
        plain = false;
        j++;
      } else if (c < 32) {
        plain = false;
      }
    }
    this.i = s.length;
    return this.fail();
  }

  private array(): ExactJson[] {
    this.i++;
    const out: ExactJson[] = [];
    this.space();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.space();
      const c = this.s[this.i++];
      if (c === ']') {
        return out;
      }
      if (c !== ',') {
        this.i--;
        this.fail();
      }
    }
  }

  private object(): { [key: string]: ExactJson } {
    this.i++;
    const out: { [key: string]: ExactJson } = {};
    this.space();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.space();
      if (this.s[this.i] !== '"') {
        this.fail();
      }
      const key = this.string();
      this.space();
      if (this.s[this.i++] !== ':') {
        this.i--;
        this.fail();
      }
      const value = this.value();
      // an own property, as JSON.parse makes it (plain assignment of __proto__ would not be)
      Object.defineProperty(out, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.space();
      const c = this.s[this.i++];
      if (c === '}') {
        return out;
      }
      if (c !== ',') {
        this.i--;
        this.fail();
      }
    }
  }
}

/**
 * JSON.parse, except that a number JavaScript would write differently from Ruby (an integer
 * beyond 2^53, a whole or exponent Float) is a RubyNumber. Throws SyntaxError like JSON.parse.
 * Known limit: as with JSON.parse, an object's integer-like keys come first (JavaScript orders
 * them so); Ruby keeps the written order.
 */
export function parseExact(text: string): ExactJson {
  return new Reader(text).read();
}

// The placeholder starts with U+0000, which JSON.stringify always writes escaped (\u0000), and
// carries a per-process random tag: no string value can produce it by accident or on purpose.
const TAG = `\u0000${randomBytes(9).toString('base64url')}:`;
const PLACEHOLDER = new RegExp(
  `"${JSON.stringify(TAG).slice(1, -1).replace(/\\/g, '\\\\')}(\\d+)"`,
  'g',
);

/** JSON.stringify that writes each RubyNumber's text as a JSON number, verbatim. */
export function stringifyExact(value: unknown): string | undefined {
  const texts: string[] = [];
  const text = JSON.stringify(value, function (this: Record<string, unknown>, key, v: unknown) {
    const original = this[key];
    if (original instanceof RubyNumber) {
      return `${TAG}${texts.push(original.text) - 1}`;
    }
    return v;
  });
  if (text === undefined || texts.length === 0) {
    return text;
  }
  return text.replace(PLACEHOLDER, (_, index: string) => texts[Number(index)]!);
}
