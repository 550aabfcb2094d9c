import type { WaitingJobRow } from '../../jobs/job-signals.service.js';
import type { Holding, HoldingsReport } from '../../sidekiq/sidekiq-jobs.service.js';
import { neverStartedVerdict } from './never-started.detector.js';

const T = {
  stuckFloorSeconds: 60,
  stuckMinSamples: 20,
  stuckDefaultSeconds: 3600,
  neverStartedSeconds: 600,
};
const NOW = new Date('2026-12-04T12:00:00Z');
const JID = 'bbbbbbbbbbbbbbbbbbbbbbbb';

function makeWaiting(overrides: Partial<WaitingJobRow> = {}): WaitingJobRow {
  return {
    instance: 'default',
    jid: JID,
    jobClass: 'MailJob',
    queue: 'mailers',
    status: 'queued',
    waitingSince: new Date(NOW.getTime() - 20 * 60_000),
    ...overrides,
  };
}

function makeReport(
  holding: Holding | null,
  queue = { size: 3, latency: 5 },
  unread: string[] = [],
): HoldingsReport {
  return {
    held: new Map(holding ? [[JID, holding]] : []),
    queues: new Map([['mailers', queue]]),
    unread,
  };
}

describe('never started verdict', () => {
  it('calls a job Sidekiq holds nowhere lost between push and fetch', () => {
    expect(neverStartedVerdict(makeWaiting(), makeReport(null), T, NOW)).toMatchObject({
      identity: `never_started:default:${JID}`,
      severity: 'critical',
      summary:
        'queued 20m 00s ago and not started; Sidekiq holds it in no queue, set or worker: lost between push and fetch',
      evidence: { held: 'nowhere', queue: 'mailers', limit_ms: 600_000 },
    });
  });

  it('says which queue holds it and for how long that queue has not moved', () => {
    const verdict = neverStartedVerdict(
      makeWaiting(),
      makeReport({ where: 'queue', queue: 'mailers' }, { size: 4200, latency: 1500 }),
      T,
      NOW,
    );
    expect(verdict).toMatchObject({
      severity: 'warning',
      summary:
        'queued 20m 00s ago and not started; still in queue mailers, which has not moved for 25m 00s (4200 jobs waiting)',
      evidence: { held: 'queue', confirmed: true, queue_latency_s: 1500 },
    });
  });

  it('leaves a job alone that waits in a moving queue, runs, or waits for its retry', () => {
    const inQueue = makeReport({ where: 'queue', queue: 'mailers' }, { size: 4200, latency: 30 });
    expect(neverStartedVerdict(makeWaiting(), inQueue, T, NOW)).toBeNull();
    const working = makeReport({ where: 'working', process: 'host:1:abc' });
    expect(neverStartedVerdict(makeWaiting(), working, T, NOW)).toBeNull();
    const retry = makeReport({ where: 'retry', score: NOW.getTime() / 1000 + 60 });
    expect(neverStartedVerdict(makeWaiting(), retry, T, NOW)).toBeNull();
  });

  it('waits for the threshold, the class override included', () => {
    const young = makeWaiting({ waitingSince: new Date(NOW.getTime() - 9 * 60_000) });
    expect(neverStartedVerdict(young, makeReport(null), T, NOW)).toBeNull();
    const patient = { ...T, neverStartedSeconds: 3600 };
    expect(neverStartedVerdict(makeWaiting(), makeReport(null), patient, NOW)).toBeNull();
  });

  it('counts a job in a queue too long to read whole as waiting there, unconfirmed', () => {
    const verdict = neverStartedVerdict(
      makeWaiting(),
      makeReport(null, { size: 2_000_000, latency: 7200 }, ['queue:mailers']),
      T,
      NOW,
    );
    expect(verdict).toMatchObject({
      severity: 'warning',
      evidence: { held: 'queue', confirmed: false },
    });
  });

  it('reports a scheduled job past its time still in the scheduled set', () => {
    const job = makeWaiting({ status: 'scheduled' });
    const dueAt = job.waitingSince.getTime() / 1000;
    const verdict = neverStartedVerdict(
      job,
      makeReport({ where: 'scheduled', score: dueAt }),
      T,
      NOW,
    );
    expect(verdict?.summary).toBe(
      "due 20m 00s ago (scheduled for 2026-12-04T11:40:00Z) and not started; still in Sidekiq's scheduled set 20m 00s after its time: nothing moves due jobs to their queue (is any Sidekiq process running its scheduler?)",
    );
  });
});
