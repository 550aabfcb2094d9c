// A job's raw payload is stored without its "args": they are the job's `arguments` (for an Active
// Job, `raw_arguments`), byte for byte, and reading the payload puts them back in SQL
// (PAYLOAD_SQL): overlay(payload_rest placing args from payload_args_at + 1 for 0). A payload whose
// args are written otherwise (spaces, another number form) is stored whole.

const ARGS_KEY = '"args":';

/** `payload` without `args` after its `"args":` key, and where they go back (in code points, as
 * Postgres counts characters); the whole payload (argsAt null) when they are not there as such. */
export function splitPayload(
  payload: string,
  args: string | null,
): { rest: string; argsAt: number | null } {
  if (args === null || args.length === 0) {
    return { rest: payload, argsAt: null };
  }
  const at = payload.indexOf(ARGS_KEY + args);
  if (at < 0) {
    return { rest: payload, argsAt: null };
  }
  const cut = at + ARGS_KEY.length;
  return {
    rest: payload.slice(0, cut) + payload.slice(cut + args.length),
    argsAt: codePoints(payload, cut),
  };
}

/** The payload whole again (what PAYLOAD_SQL computes): for tests and callers holding the parts. */
export function joinPayload(rest: string, argsAt: number | null, args: string | null): string {
  if (argsAt === null || args === null) {
    return rest;
  }
  const cut = unitsOf(rest, argsAt);
  return rest.slice(0, cut) + args + rest.slice(cut);
}

/** The stored payload made whole, as an SQL expression over the jobs row `t`. */
export const payloadSql = (t: string) =>
  `case when ${t}.payload_args_at is null then ${t}.payload_rest else overlay(${t}.payload_rest
    placing coalesce(${t}.raw_arguments, ${t}.arguments) from ${t}.payload_args_at + 1 for 0) end`;

/** Code points in the first `units` UTF-16 units of `s`. */
function codePoints(s: string, units: number): number {
  let n = units;
  for (let i = 0; i < units; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < units) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** UTF-16 units of the first `points` code points of `s`. */
function unitsOf(s: string, points: number): number {
  let i = 0;
  for (let p = 0; p < points && i < s.length; p++) {
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
  }
  return i;
}
