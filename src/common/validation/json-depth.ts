/** Deepest nesting a JSON body may have: far above any real payload, far below a stack overflow. */
export const MAX_JSON_DEPTH = 128;

const OPEN_OBJECT = 0x7b; // {
const OPEN_ARRAY = 0x5b; // [
const CLOSE_OBJECT = 0x7d; // }
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/**
 * Whether the JSON text in `buf` nests deeper than `max`, read before JSON.parse so that no later
 * recursive walk (class-transformer, class-validator, JSON.stringify) can overflow the stack. One
 * pass over the bytes; strings are skipped with indexOf, so a body of long values costs little.
 */
export function nestsDeeperThan(buf: Uint8Array, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  const n = buf.length;
  for (let i = 0; i < n; i++) {
    const c = buf[i];
    if (c === QUOTE) {
      // skip to the closing quote, past escaped ones
      for (;;) {
        const end = buf.indexOf(QUOTE, i + 1);
        if (end < 0) {
          return false; // unterminated: JSON.parse reports it
        }
        let slashes = 0;
        for (let j = end - 1; buf[j] === BACKSLASH; j--) {
          slashes++;
        }
        i = end;
        if (slashes % 2 === 0) {
          break;
        }
      }
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > max) {
        return true;
      }
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
    }
  }
  return false;
}
