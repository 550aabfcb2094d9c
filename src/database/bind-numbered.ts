/** `$n` placeholders (each may repeat) → knex's positional `?` with one binding per use. */
export function bindNumbered(sql: string, values: unknown[]): [string, unknown[]] {
  const bindings: unknown[] = [];
  const text = sql.replace(/\$(\d+)/g, (_, n: string) => {
    bindings.push(values[Number(n) - 1]);
    return '?';
  });
  return [text, bindings];
}
