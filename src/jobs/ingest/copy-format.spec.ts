import { type Column, JOB_COLUMNS, STORED_EVENT_COLUMNS } from './columns.js';
import { copyField, copyText } from './copy-format.js';
import { COPY_EVENTS_SQL, COPY_JOBS_SQL } from './statements.js';

/** A row whose every column holds a value of its own, so a misplaced column shows. */
function distinctRow(keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(
    keys.map((k, i) => [k, i % 3 === 0 ? `${k} "quoted"\n` : i % 3 === 1 ? i : i % 2 === 0]),
  );
}

/** COPY's text format read back: fields by tab, `\\N` as null, escapes undone. */
function readCopyLine(line: string): (string | null)[] {
  return line
    .split('\t')
    .map((f) =>
      f === '\\N'
        ? null
        : f.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c),
    );
}

describe('copyText', () => {
  it.each([
    ['job_events', STORED_EVENT_COLUMNS as readonly Column[], COPY_EVENTS_SQL],
    ['jobs', JOB_COLUMNS as readonly Column[], COPY_JOBS_SQL],
  ] as const)(
    'writes each %s row as one line of its columns in statement order',
    (_, columns, sql) => {
      const keys = columns.map((c) => c.key as string);
      const rows = [distinctRow(keys), { ...distinctRow(keys), [keys[1]]: null }];
      const lines = copyText(columns as never, rows as never).split('\n');
      expect(lines.pop()).toBe(''); // every line ends with a newline
      expect(lines.map(readCopyLine)).toEqual(
        rows.map((row) => keys.map((k) => (row[k] === null ? null : String(row[k])))),
      );
      expect(sql).toBe(`copy ${_} (${columns.map((c) => c.column).join(', ')}) from stdin`);
    },
  );

  it('escapes what the text format reserves and marks null', () => {
    expect(copyField(null)).toBe('\\N');
    expect(copyField('\\N')).toBe('\\\\N');
    expect(copyField('a\tb\nc\rd\\e "f" ü')).toBe('a\\tb\\nc\\rd\\\\e "f" ü');
    expect(copyField(1.5)).toBe('1.5');
    expect(copyField(false)).toBe('false');
  });

  it('stores on an event what it adds, not the job it belongs to', () => {
    const columns = STORED_EVENT_COLUMNS.map((c) => c.column);
    expect(columns[0]).toBe('job_id');
    for (const identity of [
      'instance',
      'jid',
      'dedupe_key',
      'job_class',
      'queue',
      'arguments',
      'payload',
    ]) {
      expect(columns).not.toContain(identity);
    }
    expect(columns).toEqual(expect.arrayContaining(['occurred_at', 'hostname', 'error_class']));
  });

  it('sends a job row its payload cut from its args, not the dedupe key it came from', () => {
    const keys = JOB_COLUMNS.map((c) => c.key as string);
    expect(keys).not.toContain('payloadFrom');
    expect(keys).toEqual(
      expect.arrayContaining(['id', 'payloadRest', 'payloadArgsAt', 'identityAt']),
    );
  });
});
