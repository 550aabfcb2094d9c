// Row mappings compiled once into plain functions of named property reads, which the JIT inlines:
// reading `row[key]` in a loop over 25 keys goes through V8's megamorphic keyed lookup, which cost
// about as much as the JSON text itself (0.7 µs of ~1.8 per row).

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * `new Function(...params, body)`. The names spliced into `body` are the column tables' own
 * identifiers (checked here), never input.
 */
export function compile<F>(names: readonly string[], params: string[], body: string): F {
  const bad = names.find((name) => !IDENTIFIER.test(name));
  if (bad !== undefined) {
    throw new Error(`column key ${bad} is not an identifier`);
  }
  return new Function(...params, body) as F;
}

/** compile() of `body(keys)` for the columns' keys, made once per column list and kept in `cache`. */
export function compiledFor<F>(
  cache: WeakMap<object, F>,
  columns: readonly { key: string }[],
  params: string[],
  body: (keys: string[]) => string,
): F {
  let fn = cache.get(columns);
  if (!fn) {
    const keys = columns.map((c) => c.key);
    fn = compile<F>(keys, params, body(keys));
    cache.set(columns, fn);
  }
  return fn;
}
