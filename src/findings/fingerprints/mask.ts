// Masking turns an error message into the shape it shares with every other occurrence of the
// same error: the values that change from job to job (ids, numbers, quoted values, times,
// addresses) become placeholders, so "Couldn't find User with 'id'=42" and "…'id'=43" group.

/** Characters of a masked message that are kept: a longer one is cut (its shape is known by then). */
export const MASKED_MESSAGE_MAX = 500;
// the text read before masking: enough for the masked form to reach MASKED_MESSAGE_MAX
const READ_MAX = 4000;

// a method, constant, column or symbol name: what an error names, not a value it was given
const NAME = /^:?[A-Za-z_][\w:#.]{0,63}[?!=]?$/;

/** A quoted name stays ("undefined method `email' for nil"); a quoted value is masked. */
function quoted(open: string): (match: string, inner: string) => string {
  return (_match, inner) => (NAME.test(inner) ? `${open}${inner}'` : "'?'");
}

// Order matters: the specific shapes go first, so a UUID is not read as hex and digits, and the
// digits of a time are not masked one by one.
const RULES: [RegExp, string | ((match: string, inner: string) => string)][] = [
  // Ruby's inspect of an object: #<User:0x000055d5c1a2b3c8 ...>
  [/0x[0-9a-f]+/gi, '<hex>'],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>'],
  // the local part bounded (RFC 5321: 64): unbounded, "a.a.a.a…" costs quadratic time
  [/\b[\w.+-]{1,64}@[\w-]+(?:\.[\w-]+)+\b/g, '<email>'],
  [
    /\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s?(?:Z|UTC|[+-]\d{2}:?\d{2}))?)?/g,
    '<time>',
  ],
  [/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g, '<ip>'],
  // jids (SecureRandom.hex(12)), digests, tokens: 8+ hex characters with a digit and a letter
  [/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/gi, '<hex>'],
  // "…": Ruby's inspect of a string, JSON; '…' (not an apostrophe inside a word) and Ruby's `…'
  [/"(?:[^"\\]|\\.)*"/g, '"?"'],
  [/(?<![\p{L}\p{N}])'([^'\n]*)'(?![\p{L}\p{N}])/gu, quoted("'")],
  [/`([^`'\n]*)'/g, quoted('`')],
  // every remaining run of digits, with its sign and decimals: ids, counts, sizes, ports, versions
  [/(?:(?<![\w.])-)?\d+(?:\.\d+)*/g, '<n>'],
];

// a list of masked values of any length is one value: "[<n>, <n>, <n>]" and "[<n>]" group
const REPEATS = /(<\w+>|"\?"|'\?')(?:\s*[,;]\s*\1)+/g;

/** The message with its variable parts masked, whitespace collapsed, at most MASKED_MESSAGE_MAX characters. */
export function maskMessage(message: string | null): string {
  if (message === null) {
    return '';
  }
  let text = message.slice(0, READ_MAX);
  for (const [pattern, placeholder] of RULES) {
    text =
      typeof placeholder === 'string'
        ? text.replace(pattern, placeholder)
        : text.replace(pattern, placeholder);
  }
  text = text.replace(REPEATS, '$1, …').replace(/\s+/g, ' ').trim();
  return [...text].slice(0, MASKED_MESSAGE_MAX).join('');
}
