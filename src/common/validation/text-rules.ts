// NUL and unpaired UTF-16 surrogates cannot be stored in Postgres text, jsonb or sent as a query
// parameter: every boundary refuses them with 400 instead of letting Postgres fail.
// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// eslint-disable-next-line no-control-regex -- as above
const MAYBE_UNSTORABLE = /[\u0000\uD800-\uDFFF]/;

export const UNSTORABLE_MESSAGE = 'must not contain NUL characters or unpaired surrogates';

/** Whether Postgres would refuse `s`; the plain character class rules out almost every string first. */
export function unstorable(s: string): boolean {
  return MAYBE_UNSTORABLE.test(s) && UNSTORABLE.test(s);
}

/** UTF-8 length of `s`, computed only when the character count cannot settle `max` alone. */
export function withinBytes(s: string, max: number): boolean {
  if (s.length > max) {
    return false;
  }
  return s.length * 3 <= max || Buffer.byteLength(s, 'utf8') <= max;
}

/**
 * The first string (value or key) in `value` that Postgres cannot store, as a field path
 * (`data.items[2].name`), or null. `value` comes from a body whose depth the parser bounded.
 */
export function findUnstorable(value: unknown, path: string): string | null {
  if (typeof value === 'string') {
    return unstorable(value) ? path : null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorable(value[i], `${path}[${i}]`);
      if (found !== null) {
        return found;
      }
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const field = path ? `${path}.${key}` : key;
      if (unstorable(key)) {
        return field;
      }
      const found = findUnstorable(item, field);
      if (found !== null) {
        return found;
      }
    }
  }
  return null;
}
