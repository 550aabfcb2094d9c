/**
 * Characters of an unbounded text value (a job's arguments, an error message) that a list row
 * carries. Postgres's left() counts characters, so a preview never splits a UTF-8 sequence and
 * holds at most 4 × PREVIEW_CHARS bytes; the whole value stays in Postgres.
 */
export const PREVIEW_CHARS = 2048;

/** SQL for the preview of `column` of `table` (whole when shorter than PREVIEW_CHARS). */
export function previewSql(table: string, column: string): string {
  return `left(${table}.${column}, ${PREVIEW_CHARS})`;
}

/** SQL for the size of the whole value in bytes; read from the TOAST header, never detoasted. */
export function bytesSql(table: string, column: string): string {
  return `octet_length(${table}.${column})`;
}

/** Whether a preview is shorter than the whole value it was cut from. */
export function isTruncated(preview: string | null, bytes: number | null): boolean {
  return preview !== null && bytes !== null && Buffer.byteLength(preview, 'utf8') < bytes;
}
