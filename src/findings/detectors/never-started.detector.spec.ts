import type { WaitingJobRow } from '../../jobs/job-signals.service.js';
import type { Holding, HoldingsReport } from '../../sidekiq/sidekiq-jobs.service.js';
import { neverStartedVerdict } from './never-started.detector.js';

const T = {
  stuckFloorSeconds: 60,
  stuckMinSamples: 20,
  stuckDefaultSeconds: 3600,
  neverStartedSeconds: 600,
  overdueIntervals: 3,
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
    attempt: 0,
    scheduled: false,
    failedAt: null,
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
      "due from the scheduled set 20m 00s ago (scheduled for 2026-12-04T11:40:00Z) and not started; still in Sidekiq's scheduled set 20m 00s after its time (due at 2026-12-04T11:40:00Z): nothing moves due jobs to their queue (is any Sidekiq process running its scheduler?)",
    );
  });

  describe('a retry due from the retry set', () => {
    const failedAt = new Date(NOW.getTime() - 30 * 60_000);
    // retry_count 2: due at most 2^4 + 15 + 27 = 58 s after the failure by the default backoff
    const retrying = makeWaiting({
      status: 'retrying',
      attempt: 2,
      failedAt,
      waitingSince: new Date(failedAt.getTime() + 58_000),
    });

    it('calls a retry Sidekiq holds nowhere lost between the retry set and its queue', () => {
      expect(neverStartedVerdict(retrying, makeReport(null), T, NOW)).toMatchObject({
        severity: 'critical',
        summary:
          "retry 3 (after the failure at 2026-12-04T11:30:00Z) due from the retry set by 2026-12-04T11:30:58Z, 29m 02s ago, and not started; Sidekiq holds it in no queue, set or worker: it left the retry set but reached no queue: lost between Sidekiq's retry poller and its queue",
        evidence: { held: 'nowhere', due_from: 'retry', attempt: 2, status: 'retrying' },
      });
    });

    it('says the retry set is not moving when its entry is long past its score', () => {
      const score = NOW.getTime() / 1000 - 14 * 60;
      const verdict = neverStartedVerdict(retrying, makeReport({ where: 'retry', score }), T, NOW);
      expect(verdict).toMatchObject({
        severity: 'warning',
        evidence: { held: 'retry', retry_score: score, due_ms: 14 * 60_000 },
      });
      expect(verdict?.summary).toBe(
        "retry 3 (after the failure at 2026-12-04T11:30:00Z) due from the retry set 14m 00s ago and not started; still in Sidekiq's retry set 14m 00s after its time (due at 2026-12-04T11:46:00Z): nothing moves due jobs to their queue (is any Sidekiq process running its scheduler?)",
      );
    });

    it('leaves a retry alone whose entry is due later (its own sidekiq_retry_in) or just now', () => {
      for (const score of [NOW.getTime() / 1000 + 3600, NOW.getTime() / 1000 - 60]) {
        expect(
          neverStartedVerdict(retrying, makeReport({ where: 'retry', score }), T, NOW),
        ).toBeNull();
      }
    });

    it('says nothing of a retry not found in a retry set too large to read whole', () => {
      expect(
        neverStartedVerdict(retrying, makeReport(null, undefined, ['retry']), T, NOW),
      ).toBeNull();
    });

    it('names the queue a retry was moved to when that queue does not move', () => {
      const queued = makeWaiting({ attempt: 3 });
      const verdict = neverStartedVerdict(
        queued,
        makeReport({ where: 'queue', queue: 'mailers' }, { size: 12, latency: 12 * 60 }),
        T,
        NOW,
      );
      expect(verdict?.summary).toBe(
        'retry 3 queued from the retry set 20m 00s ago and not started; still in queue mailers, which has not moved for 12m 00s (12 jobs waiting)',
      );
      expect(verdict?.evidence).toMatchObject({ due_from: 'retry', held: 'queue' });
    });
  });
});
