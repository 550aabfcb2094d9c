import { EVENT_COLUMNS, type EventColumn } from './columns.js';
import { DEDUPE_KEY_SQL, foldSelect, SELECT_JOBS_SQL } from './statements.js';

/** The select list of the lateral events read of SELECT_JOBS_SQL, one expression per item. */
function eventSelectList(sql: string): string[] {
  const list = /left join lateral \(\s*select ([\s\S]*?)\n\s*from job_events e/.exec(sql)![1];
  return list.split(/,\n\s*/).map((item) => item.trim());
}

describe('SELECT_JOBS_SQL', () => {
  it('reads every event field the fold reads, each as foldSelect reads it', () => {
    const folded = EVENT_COLUMNS.filter((c: EventColumn) => c.fold !== undefined).map(
      (c) => foldSelect(c).sql,
    );
    // and the start a run's end may stand for (EventStore expands it into its started event)
    expect(eventSelectList(SELECT_JOBS_SQL)).toEqual([
      ...folded,
      '(extract(epoch from e.started_at) * 1000000)::int8 as started_us',
    ]);
  });

  it('names a time by its microseconds; what the job row keeps reads as absent', () => {
    const by = (key: string) => foldSelect(EVENT_COLUMNS.find((c) => c.key === key)!);
    expect(by('occurredAt')).toEqual({
      alias: 'occurred_us',
      sql: '(extract(epoch from e.occurred_at) * 1000000)::int8 as occurred_us',
    });
    expect(by('payload')).toEqual({ alias: 'has_payload', sql: 'false as has_payload' });
    expect(by('jobClass')).toEqual({ alias: 'job_class', sql: 'null::text as job_class' });
    expect(by('errorBacktrace').sql).toBe('e.error_backtrace::text as error_backtrace');
    expect(by('dedupeKey')).toEqual({
      alias: 'dedupe_key',
      sql: `${DEDUPE_KEY_SQL} as dedupe_key`,
    });
  });

  it("bounds a job's events to the partitions received between its first and last write", () => {
    expect(SELECT_JOBS_SQL).toMatch(
      /e\.job_id = j\.id and e\.received_at >= j\.first_received_at and e\.received_at <= j\.updated_at/,
    );
  });
});
