// Redaction of secrets in what Sidekiq apps report (issue #24): applied before storage to a job's
// arguments, payload, error message and backtrace and its status data, and when the Sidekiq routes
// show Redis's payloads to a token without the `sensitive` scope. Values are read with the lossless
// JSON reader (ruby-json.ts) and written back only when something was redacted, so numbers keep
// their exact text and JSON stays valid.
import { deflateSync, inflateSync } from 'node:zlib';
import { type ExactJson, parseExact, RubyNumber, stringifyExact } from '../json/ruby-json.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../validation/json-depth.js';

export const REDACTED = '[REDACTED]';
/** What a class listed in REDACT_CLASSES keeps of its arguments. */
export const REDACTED_ARGS = `["${REDACTED}"]`;

/** A rule over string values: the parts it matches are replaced (see `replace`). */
export interface ValueRule {
  readonly name: string;
  /** global; linear-time by construction (defaults) or applied in windows (user patterns) */
  readonly re: RegExp;
  /** what replaces a match; the match itself when nothing is to be hidden (a failed Luhn check) */
  readonly replace: (match: string, ...groups: (string | undefined)[]) => string;
  /** a user's pattern: applied in windows of WINDOW characters (bounded backtracking) */
  readonly windowed: boolean;
}

export interface RedactionSettings {
  /** normalised key names (lower case, no separators): see keyWords */
  readonly keys: readonly string[];
  readonly emails: boolean;
  /** user patterns, already validated (config/redaction.ts) */
  readonly patterns: readonly RegExp[];
  /** job classes whose arguments are never stored */
  readonly classes: readonly string[];
}

// A user's pattern sees at most this many characters at a time (plus the overlap, so that a match
// of up to OVERLAP characters across a window's end is still found): whatever its backtracking,
// the work per string stays linear in the string's length.
const WINDOW = 512;
const OVERLAP = 128;
const KEY_CACHE_MAX = 10_000;
// a compressed backtrace is inflated up to this size (Sidekiq keeps `backtrace: n` lines)
const MAX_BACKTRACE_BYTES = 1 << 20;

/** The words of a key, lower case: `stripeSecretKey`, `stripe_secret-key` → stripe, secret, key. */
function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/** A key as REDACT_KEYS lists it, compared without case and separators (`API-Key` = `api_key`). */
export function normalizeKey(key: string): string {
  return keyWords(key).join('');
}

function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) {
        d -= 9;
      }
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * Whether `digits` start like a payment card's number (ISO/IEC 7812: 3 for American Express, JCB
 * and Diners, 4 and 5 for Visa, Mastercard and Maestro, 6 for Discover, UnionPay and Maestro, and
 * Mastercard's 2221-2720). Timestamps and ids of 13-19 digits mostly start with 1 or 20 (a
 * Capistrano release directory 20261203170000 passes Luhn one time in ten): they are left alone.
 */
function issuer(digits: string): boolean {
  const first = digits.charCodeAt(0) - 48;
  if (first >= 3 && first <= 6) {
    return true;
  }
  const four = Number(digits.slice(0, 4));
  return first === 2 && four >= 2221 && four <= 2720;
}

/**
 * A run of 13 to 19 digits (spaces or dashes between them allowed) is a card number when it, or
 * a part of it cut at a separator, starts like a card's number and passes the Luhn check: only that
 * part is replaced.
 */
function redactCardRun(match: string): string {
  // the digit groups between separators: [start, end) in `match`, and their digits
  const groups: { start: number; end: number; digits: string; before: number }[] = [];
  let before = 0;
  for (const m of match.matchAll(/\d+/g)) {
    groups.push({ start: m.index, end: m.index + m[0].length, digits: m[0], before });
    before += m[0].length;
  }
  // longest spans of whole groups first, only those of 13 to 19 digits
  for (let size = groups.length; size >= 1; size--) {
    for (let a = 0; a + size <= groups.length; a++) {
      const first = groups[a]!;
      const last = groups[a + size - 1]!;
      const count = last.before + last.digits.length - first.before;
      if (count < 13 || count > 19) {
        continue;
      }
      let digits = '';
      for (let g = a; g < a + size; g++) {
        digits += groups[g]!.digits;
      }
      if (issuer(digits) && luhn(digits)) {
        return match.slice(0, first.start) + REDACTED + match.slice(last.end);
      }
    }
  }
  return match;
}

function basicCredential(scheme: string, credential: string): string {
  const decoded = Buffer.from(credential, 'base64').toString('latin1');
  return decoded.includes(':') ? `${scheme}${REDACTED}` : scheme + credential;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The built-in value rules. Each starts only where its token starts (a lookbehind forbids a start
 * inside a run of the same characters), so no rule scans a string more than a bounded number of
 * times: linear time on any input.
 */
export function defaultValueRules(keys: readonly string[], emails: boolean): ValueRule[] {
  const rule = (name: string, re: RegExp, replace: ValueRule['replace'] = () => REDACTED) => ({
    name,
    re,
    replace,
    windowed: false,
  });
  const rules: ValueRule[] = [
    rule('card', /(?<![0-9A-Za-z])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z])/g, redactCardRun),
    rule(
      'bearer',
      /(?<![A-Za-z0-9])(Bearer\s+)([A-Za-z0-9._~+/-]{8,}=*)/gi,
      (_m, scheme = '') => `${scheme}${REDACTED}`,
    ),
    rule(
      'basic',
      /(?<![A-Za-z0-9])(Basic\s+)([A-Za-z0-9+/]{4,}={0,2})(?![A-Za-z0-9+/=])/gi,
      (m, s, c) => basicCredential(s ?? '', c ?? m),
    ),
    // Stripe secret and restricted keys, webhook secrets
    rule(
      'stripe',
      /(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{10,}|whsec_[0-9A-Za-z]{16,}/g,
    ),
    // GitHub tokens (ghp_, gho_, ghu_, ghs_, ghr_, fine-grained github_pat_)
    rule('github', /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})/g),
    // AWS access key ids
    rule('aws', /(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])/g),
    rule('slack', /(?<![A-Za-z0-9-])xox[abposr]-[A-Za-z0-9-]{10,}/g),
    rule('google', /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g),
    // JWT (header.payload.signature, both JSON parts start with {" in base64url: eyJ)
    rule('jwt', /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g),
    rule(
      'private_key',
      /-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----[A-Za-z0-9+/=\s]{0,16384}?-----END [A-Z ]{0,40}PRIVATE KEY-----/g,
    ),
    // user:password@ in URLs
    rule(
      'url_password',
      /(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{0,31}:\/\/[^\s:/@]{1,256}:)([^\s/@]{1,256})@/g,
      (_m, prefix = '') => `${prefix}${REDACTED}@`,
    ),
  ];
  if (keys.length > 0) {
    // `password=…`, `password: …`, `"password"=>"…"`, `token: "…"` in text (messages, inspected
    // hashes, query strings): the value after a listed key is replaced, the key kept
    const words = [...keys]
      .sort((a, b) => b.length - a.length)
      .map((k) => [...k].map(escapeRe).join('[-_ ]?'))
      .join('|');
    rules.unshift(
      rule(
        'key_value',
        new RegExp(
          `(?<![A-Za-z0-9])((?:${words})["']?\\s{0,4}(?:=>|[=:])\\s{0,4})(\\[REDACTED\\]|"[^"]{0,1024}"|'[^']{0,1024}'|(?:(?:Bearer|Basic|Token|Digest)\\s{1,4})?[^\\s"',;&}\\])]{1,1024})`,
          'gi',
        ),
        (m, prefix = '', value = '') =>
          value === REDACTED
            ? m
            : value.startsWith('"') || value.startsWith("'")
              ? `${prefix}${value[0]}${REDACTED}${value[0]}`
              : `${prefix}${REDACTED}`,
      ),
    );
  }
  if (emails) {
    rules.push(
      rule(
        'email',
        /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z0-9-])/g,
      ),
    );
  }
  return rules;
}

function replaceWindowed(s: string, re: RegExp): string {
  if (s.length <= WINDOW + OVERLAP) {
    re.lastIndex = 0;
    return s.replace(re, REDACTED);
  }
  let out = '';
  let done = 0; // s[0, done) is settled
  for (let start = 0; start < s.length; start += WINDOW) {
    const from = Math.max(start, done);
    const windowEnd = Math.min(s.length, start + WINDOW + OVERLAP);
    if (from >= windowEnd) {
      continue;
    }
    const chunk = s.slice(from, windowEnd);
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(chunk)) !== null) {
      const at = from + m.index;
      if (at >= start + WINDOW) {
        break; // the next window finds it whole
      }
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      out += s.slice(done, at) + REDACTED;
      done = at + m[0].length;
      re.lastIndex = done - from;
    }
  }
  return out + s.slice(done);
}

// Sidekiq's own fields of a payload: identifiers, times and counters, never the app's data; the
// value rules skip them (a jid or a millisecond time could look like a card number)
const PAYLOAD_META = new Set([
  'jid',
  'class',
  'wrapped',
  'queue',
  'created_at',
  'enqueued_at',
  'failed_at',
  'retried_at',
  'retry',
  'retry_count',
  'at',
  'bid',
  'ssv',
  'restarted_from',
  'error_class',
]);

// a key in JSON text without escapes (redactJsonText looks for backslashes first)
const KEY_IN_TEXT = /"([^"]*)"\s*:/g;

interface Walk {
  changed: boolean;
}

/** One rule set, built once from the configuration; pure and safe to share. */
export class Redactor {
  readonly rules: readonly ValueRule[];
  private readonly keys: ReadonlySet<string>;
  private readonly classes: ReadonlySet<string>;
  private readonly keyCache = new Map<string, boolean>();
  private readonly quick: readonly RegExp[];

  constructor(readonly settings: RedactionSettings) {
    this.keys = new Set(settings.keys);
    this.classes = new Set(settings.classes);
    const builtIn = defaultValueRules(settings.keys, settings.emails);
    // one pass each for the case-insensitive and case-sensitive rules tells that a string holds
    // nothing to hide, the common case, without running every rule on it
    const quick = (ignoreCase: boolean) => {
      const sources = builtIn
        .filter((r) => r.re.ignoreCase === ignoreCase)
        .map((r) => `(?:${r.re.source})`);
      return sources.length === 0 ? null : new RegExp(sources.join('|'), ignoreCase ? 'i' : '');
    };
    this.quick = [quick(true), quick(false)].filter((re): re is RegExp => re !== null);
    this.rules = [
      ...builtIn,
      ...settings.patterns.map((re) => ({
        name: 'pattern',
        re,
        replace: () => REDACTED,
        windowed: true,
      })),
    ];
  }

  /** Whether a hash key names a secret: it, or its last words, spell a listed key. */
  isSensitiveKey(key: string): boolean {
    const known = this.keyCache.get(key);
    if (known !== undefined) {
      return known;
    }
    const words = keyWords(key);
    let sensitive = false;
    let suffix = '';
    for (let i = words.length - 1; i >= 0 && !sensitive; i--) {
      suffix = words[i] + suffix;
      sensitive = this.keys.has(suffix);
    }
    if (this.keyCache.size >= KEY_CACHE_MAX) {
      this.keyCache.clear();
    }
    this.keyCache.set(key, sensitive);
    return sensitive;
  }

  /** Whether a class's arguments are never stored (REDACT_CLASSES). */
  hidesClass(jobClass: string | null | undefined): boolean {
    return jobClass !== null && jobClass !== undefined && this.classes.has(jobClass);
  }

  /** A text with every value rule applied. */
  redactString(s: string): string {
    if (!this.mayMatch(s)) {
      return s;
    }
    let out = s;
    for (const rule of this.rules) {
      out = this.applyRule(rule, out);
    }
    return out;
  }

  private applyRule(rule: ValueRule, s: string): string {
    if (rule.windowed) {
      return replaceWindowed(s, rule.re);
    }
    rule.re.lastIndex = 0;
    return s.replace(rule.re, rule.replace as (m: string, ...rest: unknown[]) => string);
  }

  /** A JSON value with its sensitive keys' values and the value rules' matches replaced. */
  redactValue(value: ExactJson): ExactJson {
    return this.walk(value, 0, { changed: false }, false);
  }

  /**
   * JSON text with secrets replaced: the same text when nothing was found (the common case
   * decides on the text alone, without parsing), else the redacted value written exactly.
   * `payload`: Sidekiq's own fields at the top are left as they are. Text that is not JSON, or
   * nests deeper than MAX_JSON_DEPTH, gets the value rules as text.
   */
  redactJsonText(text: string, options: { payload?: boolean } = {}): string {
    // a compressed backtrace (Sidekiq 7+) cannot be judged on the text
    const compressed = options.payload === true && text.includes('"error_backtrace":"');
    if (!compressed && !text.includes('\\') && !this.mayHold(text)) {
      return text;
    }
    let value: ExactJson;
    try {
      if (nestsDeeperThan(Buffer.from(text, 'utf8'), MAX_JSON_DEPTH)) {
        return this.redactString(text);
      }
      value = parseExact(text);
    } catch {
      return this.redactString(text);
    }
    const walk: Walk = { changed: false };
    const out = this.walk(value, 0, walk, options.payload === true);
    return walk.changed ? (stringifyExact(out) ?? text) : text;
  }

  /**
   * Sidekiq 7+'s `error_backtrace`, Base64(zlib(JSON array)): each line redacted, compressed again
   * when one changed. Unreadable (6.x Marshal, or inflating past MAX_BACKTRACE_BYTES): kept.
   */
  private redactCompressedBacktrace(value: string, state: Walk): string {
    let lines: unknown;
    try {
      lines = JSON.parse(
        inflateSync(Buffer.from(value, 'base64'), {
          maxOutputLength: MAX_BACKTRACE_BYTES,
        }).toString('utf8'),
      );
    } catch {
      return value;
    }
    if (!Array.isArray(lines)) {
      return value;
    }
    let changed = false;
    const out = lines.map((line: unknown) => {
      if (typeof line !== 'string') {
        return line;
      }
      const redacted = this.redactString(line);
      changed ||= redacted !== line;
      return redacted;
    });
    if (!changed) {
      return value;
    }
    state.changed = true;
    return deflateSync(JSON.stringify(out)).toString('base64');
  }

  /** A payload with its `args` replaced by the marker (REDACT_CLASSES); null when unreadable. */
  payloadWithoutArgs(payload: string): string | null {
    try {
      if (nestsDeeperThan(Buffer.from(payload, 'utf8'), MAX_JSON_DEPTH)) {
        return null;
      }
      const value = parseExact(payload);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return null;
      }
      if ('args' in value) {
        value.args = [REDACTED];
      }
      return stringifyExact(value) ?? null;
    } catch {
      return null;
    }
  }

  /** Whether JSON text (without escapes) may hold anything to redact: a listed key or a match. */
  private mayHold(text: string): boolean {
    KEY_IN_TEXT.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = KEY_IN_TEXT.exec(text)) !== null) {
      if (this.isSensitiveKey(m[1]!)) {
        return true;
      }
    }
    return this.mayMatch(text) && this.rules.some((rule) => this.applyRule(rule, text) !== text);
  }

  /** False when no value rule can match `s` (a user's pattern always may). */
  private mayMatch(s: string): boolean {
    return this.settings.patterns.length > 0 || this.quick.some((re) => re.test(s));
  }

  private walk(value: ExactJson, depth: number, state: Walk, payloadTop: boolean): ExactJson {
    if (typeof value === 'string') {
      const out = this.redactString(value);
      if (out !== value) {
        state.changed = true;
      }
      return out;
    }
    if (value === null || typeof value !== 'object' || value instanceof RubyNumber) {
      return value;
    }
    if (depth >= MAX_JSON_DEPTH) {
      // deeper than any body may nest (unreachable through redactJsonText): hide it whole
      state.changed = true;
      return REDACTED;
    }
    if (Array.isArray(value)) {
      return value.map((v) => this.walk(v, depth + 1, state, false));
    }
    const out: { [key: string]: ExactJson } = {};
    for (const [key, v] of Object.entries(value)) {
      let next: ExactJson;
      if (payloadTop && PAYLOAD_META.has(key)) {
        next = v;
      } else if (payloadTop && key === 'error_backtrace' && typeof v === 'string') {
        next = this.redactCompressedBacktrace(v, state);
      } else if (this.isSensitiveKey(key) && v !== null && v !== REDACTED) {
        state.changed = true;
        next = REDACTED;
      } else {
        next = this.walk(v, depth + 1, state, false);
      }
      // an own property, as JSON.parse makes it (plain assignment of __proto__ would not be)
      Object.defineProperty(out, key, {
        value: next,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
}
