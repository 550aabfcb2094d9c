import { foldJob } from '../fold/job-fold.js';
import { JobEventType, JobStatus } from '../job-lifecycle.enum.js';
import { EVENT_COLUMNS, type IngestEvent, JOB_COLUMNS } from './columns.js';
import { ingestToFold, rowsParam, type StoredEventRow, storedToFold, toRow } from './rows.js';
import { isoToUs } from './timestamps.js';

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

const full: IngestEvent = {
  jobId: null,
  startedAt: null,
  instance: 'default',
  jid: 'abc',
  type: JobEventType.Failed,
  dedupeKey: 'failed|1|x',
  occurredAt: '2026-11-23T10:00:00.123456Z',
  clientTime: true,
  attempt: 1,
  retryCount: 0,
  jobClass: 'ReportJob',
  queue: 'reports',
  arguments: '[1]',
  payload: '{"jid":"abc"}',
  wrapperClass: 'Sidekiq::ActiveJob::Wrapper',
  rawArguments: '[{"job_class":"ReportJob"}]',
  activeJobId: 'aj-1',
  enqueuedAt: '2026-11-23T09:59:00.000001Z',
  createdAt: '2026-11-23T09:58:00.000002Z',
  scheduledAt: null,
  hostname: 'w1',
  pid: 42,
  tid: 't1',
  errorClass: 'Timeout',
  errorMessage: 'took too long',
  errorBacktrace: '["a.rb:1"]',
  willRetry: true,
  durationMs: 1.5,
  restartedAs: null,
  restartedFrom: 'old',
};

describe('ingestToFold and storedToFold', () => {
  it('read an event about to be stored as the fold reads it once stored', () => {
    // what SELECT_EVENTS_SQL returns for `full`: int8 microseconds arrive as text
    const stored = {
      ...Object.fromEntries(EVENT_COLUMNS.map((c) => [c.column, full[c.key]])),
      occurred_us: String(isoToUs(full.occurredAt)),
      created_us: String(isoToUs(full.createdAt!)),
      scheduled_us: null,
      has_payload: true,
    } as unknown as StoredEventRow;
    const folded = ingestToFold(full);
    expect(storedToFold(stored)).toEqual(folded);
    expect(folded).toMatchObject({
      type: JobEventType.Failed,
      occurredUs: Date.UTC(2026, 10, 23, 10) * 1000 + 123_456,
      createdUs: isoToUs('2026-11-23T09:58:00.000002Z'),
      scheduledUs: null,
      hasPayload: true,
      errorBacktrace: '["a.rb:1"]',
      restartedFrom: 'old',
    });
    expect(Object.keys(folded)).not.toContain('payload');
  });
});

describe('toRow', () => {
  it('writes each folded property to its column, times as microsecond ISO text', () => {
    const job = foldJob([ingestToFold(full)]);
    const row = toRow('default', 'abc', job);
    expect(Object.keys(row).sort()).toEqual(JOB_COLUMNS.map((c) => c.key as string).sort());
    expect(row).toMatchObject({
      instance: 'default',
      jid: 'abc',
      status: JobStatus.Retrying,
      createdAt: '2026-11-23T09:58:00.000002Z',
      failedAt: full.occurredAt,
      firstEventAt: full.occurredAt,
      lastEventAt: full.occurredAt,
      enqueuedAt: null,
      identityAt: full.occurredAt,
      id: null,
      payloadRest: null,
      payloadArgsAt: null,
      errorBacktrace: '["a.rb:1"]',
      wrapperClass: 'Sidekiq::ActiveJob::Wrapper',
      eventCount: 1,
    });
  });
});
