import { EVENT_COLUMNS, type EventColumn } from './columns.js';
import { DEDUPE_KEY_SQL, foldSelect, SELECT_EVENTS_SQL } from './statements.js';

/** The select list of SELECT_EVENTS_SQL, one expression per item. */
function selectList(sql: string): string[] {
  const list = /^\s*select ([\s\S]*?)\nfrom job_events e/.exec(sql)![1];
  return list.split(/,\n\s*/).map((item) => item.trim());
}

describe('SELECT_EVENTS_SQL', () => {
  it('reads every event field the fold reads, each as foldSelect reads it', () => {
    const folded = EVENT_COLUMNS.filter((c: EventColumn) => c.fold !== undefined).map(
      (c) => foldSelect(c).sql,
    );
    // with the job it belongs to, and the start a run's end may stand for (EventStore expands it)
    expect(selectList(SELECT_EVENTS_SQL)).toEqual([
      'e.job_id::text as job_id',
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

  it("reads only the partitions received in the jobs' span", () => {
    expect(SELECT_EVENTS_SQL).toMatch(
      /e\.job_id = any\(\$1::int8\[\]\)\s+and e\.received_at >= [^\n]*\$2/,
    );
    expect(SELECT_EVENTS_SQL).toMatch(/and e\.received_at <= [^\n]*\$3/);
  });
});
