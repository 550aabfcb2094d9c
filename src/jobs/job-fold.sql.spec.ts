import { EVENT_COLUMNS, JOB_COLUMNS, rowsParam } from './job-fold.sql.js';

/** A row whose every column holds a value of its own, so a misplaced column shows. */
function distinctRow(keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(
    keys.map((k, i) => [k, i % 3 === 0 ? `${k} "quoted"\n` : i % 3 === 1 ? i : i % 2 === 0]),
  );
}

describe('rowsParam', () => {
  it.each([
    ['job_events', EVENT_COLUMNS],
    ['jobs', JOB_COLUMNS],
  ] as const)('sends each %s row as the array of its columns in statement order', (_, columns) => {
    const keys = columns.map((c) => c.key as string);
    const rows = [distinctRow(keys), { ...distinctRow(keys), [keys[1]]: null }];
    const sent = JSON.parse(rowsParam(columns as never, rows as never)) as unknown[][];
    expect(sent).toEqual(rows.map((row) => keys.map((k) => row[k])));
    expect(sent[1][1]).toBeNull();
  });

  it('sends an empty list as an empty array', () => {
    expect(rowsParam(EVENT_COLUMNS, [])).toBe('[]');
  });
});
