import type { FailureEventRow } from '../../jobs/job-insights.service.js';
import { aggregateFailures } from './aggregate.js';
import { MAX_CLASSES } from './fingerprint.js';

const TRACE = ["/app/app/jobs/sync_job.rb:12:in `perform'"];
let seq = 0;
const failure = (overrides: Partial<FailureEventRow> = {}): FailureEventRow => ({
  id: String(++seq),
  instance: 'default',
  jid: `jid${seq}`,
  jobClass: 'SyncJob',
  occurredAt: new Date('2026-12-04T10:15:00Z'),
  errorClass: 'ActiveRecord::RecordNotFound',
  errorMessage: `Couldn't find User with 'id'=${seq}`,
  backtrace: TRACE,
  ...overrides,
});

describe('aggregateFailures', () => {
  it('groups by instance and fingerprint, with counts, first and last seen, and the latest sample', () => {
    const rows = [
      failure({ occurredAt: new Date('2026-12-04T10:15:00Z'), jid: 'a' }),
      failure({ occurredAt: new Date('2026-12-04T12:05:00Z'), jid: 'b', jobClass: 'OtherJob' }),
      failure({ occurredAt: new Date('2026-12-04T09:59:00Z'), jid: 'c' }),
      failure({ instance: 'eu', jid: 'd' }),
      failure({ errorClass: 'KeyError', errorMessage: 'key not found: :x', jid: 'e' }),
    ];
    const { fingerprints, hours } = aggregateFailures(rows);
    expect(fingerprints).toHaveLength(3);
    const main = fingerprints.find((f) => f.instance === 'default' && f.errorClass !== 'KeyError')!;
    expect(main).toMatchObject({
      count: 3,
      message: "Couldn't find User with 'id'=<n>",
      frame: '/app/app/jobs/sync_job.rb in perform',
      firstSeenAt: new Date('2026-12-04T09:59:00Z'),
      lastSeenAt: new Date('2026-12-04T12:05:00Z'),
      sampleJid: 'b',
      sampleMessage: rows[1].errorMessage,
      jobClasses: ['OtherJob', 'SyncJob'],
      jobClassesTruncated: false,
    });
    const eu = fingerprints.find((f) => f.instance === 'eu')!;
    expect(eu.fingerprint).toBe(main.fingerprint);
    expect(
      hours
        .filter((h) => h.instance === 'default' && h.fingerprint === main.fingerprint)
        .map((h) => [h.hour.toISOString(), h.count])
        .sort(),
    ).toEqual([
      ['2026-12-04T09:00:00.000Z', 1],
      ['2026-12-04T10:00:00.000Z', 1],
      ['2026-12-04T12:00:00.000Z', 1],
    ]);
  });

  it('keeps at most MAX_CLASSES classes and says when there were more', () => {
    const rows = Array.from({ length: MAX_CLASSES + 3 }, (_, i) =>
      failure({ jobClass: `Job${String(i).padStart(2, '0')}` }),
    );
    const [group] = aggregateFailures(rows).fingerprints;
    expect(group.jobClasses).toHaveLength(MAX_CLASSES);
    expect(group.jobClassesTruncated).toBe(true);
  });
});
