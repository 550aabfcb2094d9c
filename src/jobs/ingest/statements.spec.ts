import { EVENT_COLUMNS } from './columns.js';
import { foldSelect, SELECT_EVENTS_SQL } from './statements.js';

/** The select list of SELECT_EVENTS_SQL, one expression per item. */
function selectList(sql: string): string[] {
  const list = /^\s*select ([\s\S]*?)\nfrom /.exec(sql)![1];
  return list.split(/,\s*/).map((item) => item.trim());
}

describe('SELECT_EVENTS_SQL', () => {
  it('reads the job key and every column the fold reads, each as foldSelect reads it', () => {
    const folded = EVENT_COLUMNS.filter((c) => 'fold' in c).map((c) => foldSelect(c).sql);
    expect(selectList(SELECT_EVENTS_SQL).sort()).toEqual(['e.instance', 'e.jid', ...folded].sort());
  });

  it('names a time by its microseconds, the payload by whether it is there', () => {
    const by = (key: string) => foldSelect(EVENT_COLUMNS.find((c) => c.key === key)!);
    expect(by('occurredAt')).toEqual({
      alias: 'occurred_us',
      sql: '(extract(epoch from e.occurred_at) * 1000000)::int8 as occurred_us',
    });
    expect(by('payload')).toEqual({
      alias: 'has_payload',
      sql: 'e.payload is not null as has_payload',
    });
    expect(by('errorBacktrace').sql).toBe('e.error_backtrace::text as error_backtrace');
    expect(by('jobClass')).toEqual({ alias: 'job_class', sql: 'e.job_class' });
  });
});
