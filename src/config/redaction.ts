import { normalizeKey, type RedactionSettings } from '../common/redaction/redactor.js';

/**
 * Hash keys whose values are never stored (README "Redaction"). A key matches when it, or its
 * last words (snake_case, kebab-case, camelCase), spell one of these, case and separators aside:
 * `db_password`, `X-Api-Key` and `stripeSecretKey` match password, api_key and secret_key.
 */
export const DEFAULT_REDACT_KEYS = [
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'secret',
  'secret_key',
  'client_secret',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'auth_token',
  'api_key',
  'api_secret',
  'private_key',
  'authorization',
  'auth',
  'cookie',
  'session',
  'session_id',
  'credentials',
  'card_number',
  'cc_number',
  'credit_card',
  'cvv',
  'cvv2',
  'cvc',
  'cvc2',
  'security_code',
  'ssn',
  'otp',
] as const;

const MAX_PATTERNS = 50;
const MAX_PATTERN_LENGTH = 500;
const MAX_CLASSES = 1000;
const MAX_KEYS = 1000;

/** Why a user's pattern may backtrack without bound, or null when it may be used. */
export function unsafePattern(source: string): string | null {
  if (/\\[1-9]|\\k</.test(source)) {
    return 'uses a backreference';
  }
  // a group followed by a quantifier must hold no quantifier and no alternation: (a+)+, (a|aa)*
  const stack: { quantified: boolean; alternation: boolean }[] = [];
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      inClass = c !== ']';
      continue;
    }
    if (c === '[') {
      inClass = true;
    } else if (c === '(') {
      stack.push({ quantified: false, alternation: false });
    } else if (c === '|') {
      const top = stack.at(-1);
      if (top) {
        top.alternation = true;
      }
    } else if (c === ')') {
      const group = stack.pop();
      const next = source[i + 1];
      const quantifiedGroup = next === '*' || next === '+' || next === '{' || next === '?';
      if (group && quantifiedGroup && next !== '?' && (group.quantified || group.alternation)) {
        return 'repeats a group that holds a quantifier or an alternation (nested quantifiers)';
      }
      const outer = stack.at(-1);
      if (outer && group && (group.quantified || quantifiedGroup)) {
        outer.quantified = true;
      }
    } else if (c === '*' || c === '+' || c === '{' || (c === '?' && source[i - 1] !== '(')) {
      const top = stack.at(-1);
      if (top) {
        top.quantified = true;
      }
    }
  }
  return null;
}

/** Compiles one REDACT_PATTERNS entry: `source`, or `/source/flags` with flags among i, m, s. */
export function compilePattern(entry: string): RegExp | string {
  const slashed = /^\/(.+)\/([ims]*)$/s.exec(entry);
  const source = slashed ? slashed[1]! : entry;
  const flags = `g${slashed ? slashed[2] : ''}`;
  if (source.length === 0 || source.length > MAX_PATTERN_LENGTH) {
    return `must be 1 to ${MAX_PATTERN_LENGTH} characters`;
  }
  const unsafe = unsafePattern(source);
  if (unsafe !== null) {
    return unsafe;
  }
  let re: RegExp;
  try {
    re = new RegExp(source, flags);
  } catch {
    return 'is not a valid regular expression';
  }
  if (re.test('')) {
    return 'matches the empty string';
  }
  return re;
}

const list = (raw: string | undefined) =>
  (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

/**
 * Reads REDACT_KEYS, REDACT_PATTERNS, REDACT_EMAILS and REDACT_CLASSES. Problems name the variable
 * and the entry's position, never its text.
 */
export function parseRedaction(env: {
  REDACT_KEYS?: string;
  REDACT_PATTERNS?: string;
  REDACT_EMAILS?: string;
  REDACT_CLASSES?: string;
}): { settings: RedactionSettings; problems: string[] } {
  const problems: string[] = [];
  const keyEntries = list(env.REDACT_KEYS);
  let keys: string[];
  if (keyEntries.length === 0) {
    keys = DEFAULT_REDACT_KEYS.map(normalizeKey);
  } else if (keyEntries.length === 1 && keyEntries[0] === 'none') {
    keys = [];
  } else {
    keys = [];
    for (const entry of keyEntries) {
      if (entry === 'defaults') {
        keys.push(...DEFAULT_REDACT_KEYS.map(normalizeKey));
      } else if (normalizeKey(entry).length === 0 || entry === 'none') {
        problems.push(
          'REDACT_KEYS entries must hold a letter or digit ("none" alone turns key rules off)',
        );
      } else {
        keys.push(normalizeKey(entry));
      }
    }
    if (keys.length > MAX_KEYS) {
      problems.push(`REDACT_KEYS lists at most ${MAX_KEYS} keys`);
    }
  }
  const patterns: RegExp[] = [];
  if (env.REDACT_PATTERNS !== undefined && env.REDACT_PATTERNS.trim() !== '') {
    let entries: unknown;
    try {
      entries = JSON.parse(env.REDACT_PATTERNS);
    } catch {
      entries = null;
    }
    if (
      !Array.isArray(entries) ||
      entries.length > MAX_PATTERNS ||
      !entries.every((e) => typeof e === 'string')
    ) {
      problems.push(`REDACT_PATTERNS must be a JSON array of at most ${MAX_PATTERNS} strings`);
    } else {
      (entries as string[]).forEach((entry, i) => {
        const compiled = compilePattern(entry);
        if (typeof compiled === 'string') {
          problems.push(`REDACT_PATTERNS[${i}] ${compiled}`);
        } else {
          patterns.push(compiled);
        }
      });
    }
  }
  const classes = list(env.REDACT_CLASSES);
  if (classes.length > MAX_CLASSES) {
    problems.push(`REDACT_CLASSES lists at most ${MAX_CLASSES} classes`);
  }
  return {
    settings: {
      keys: [...new Set(keys)],
      emails: env.REDACT_EMAILS === 'true',
      patterns,
      classes,
    },
    problems,
  };
}
