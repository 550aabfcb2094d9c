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
 * recursive walk (class-transformer, class-validator, JSON.stringify) can overflow the stack, and so
 * that a body of brackets is refused before V8 spends ~0.5 µs a byte parsing it. One pass over the
 * bytes (~1 µs per ingested event of the Ruby client's shape; JSON.parse itself costs ~2 µs).
 */
export function nestsDeeperThan(buf: Uint8Array, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  const n = buf.length;
  for (let i = 0; i < n; i++) {
    let c = buf[i];
    if (c === QUOTE) {
      for (i++; i < n; i++) {
        c = buf[i];
        if (c === QUOTE) {
          break;
        }
        if (c === BACKSLASH) {
          i++;
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
