import { isoToUs, usToIso } from '../ingest/timestamps.js';
import { JobEventType as T, JobStatus } from '../job-lifecycle.enum.js';
import { type FoldEvent, foldEvents, foldJob } from './job-fold.js';

const S = 1_000_000; // microseconds per second
const T0 = 1_795_000_000 * S;

function event(type: T, seconds: number, overrides: Partial<FoldEvent> = {}): FoldEvent {
  const attempt = overrides.attempt ?? 0;
  return {
    type,
    dedupeKey: `${type}|${attempt}|${seconds}`,
    occurredUs: T0 + seconds * S,
    attempt,
    jobClass: null,
    queue: null,
    arguments: null,
    wrapperClass: null,
    rawArguments: null,
    activeJobId: null,
    hasPayload: false,
    createdUs: null,
    scheduledUs: null,
    hostname: null,
    pid: null,
    tid: null,
    errorClass: null,
    errorMessage: null,
    errorBacktrace: null,
    willRetry: null,
    durationMs: null,
    restartedAs: null,
    restartedFrom: null,
    ...overrides,
  };
}

function* permutations<X>(items: X[]): Generator<X[]> {
  if (items.length <= 1) {
    yield items;
    return;
  }
  for (let i = 0; i < items.length; i++) {
    for (const rest of permutations([...items.slice(0, i), ...items.slice(i + 1)])) {
      yield [items[i], ...rest];
    }
  }
}

const identity = { jobClass: 'ReportJob', queue: 'reports', arguments: '[42]' };
// scheduled → queued → started → failed (retry) → retrying → queued → started → succeeded
const RETRIED_JOB: FoldEvent[] = [
  event(T.Scheduled, 0, { ...identity, scheduledUs: T0 + 60 * S, hasPayload: true }),
  event(T.Queued, 60, identity),
  event(T.Started, 61, { hostname: 'w1', pid: 1, tid: 'a' }),
  event(T.Failed, 62, {
    hostname: 'w1',
    pid: 1,
    tid: 'a',
    errorClass: 'Timeout',
    errorMessage: 'slow',
    willRetry: true,
    durationMs: 1000,
  }),
  event(T.Retrying, 62.5, { errorClass: 'Timeout', errorMessage: 'slow' }),
  event(T.Queued, 90, { ...identity, attempt: 1 }),
  event(T.Started, 91, { attempt: 1, hostname: 'w2', pid: 2, tid: 'b' }),
  event(T.Succeeded, 92, { attempt: 1, hostname: 'w2', pid: 2, tid: 'b', durationMs: 900 }),
];

describe('foldJob (the job state machine)', () => {
  it('gives the same row for all 40,320 orders of a scheduled, retried, then successful job', () => {
    const expected = foldJob(RETRIED_JOB);
    let orders = 0;
    for (const order of permutations(RETRIED_JOB)) {
      expect(foldJob(order)).toEqual(expected);
      orders++;
    }
    expect(orders).toBe(40_320);
    expect(expected).toMatchObject({
      ...identity,
      payloadFrom: RETRIED_JOB[0].dedupeKey,
      status: JobStatus.Succeeded,
      attempt: 1,
      createdUs: T0,
      enqueuedUs: T0 + 60 * S,
      scheduledUs: T0 + 60 * S,
      startedUs: T0 + 91 * S,
      completedUs: T0 + 92 * S,
      failedUs: T0 + 62 * S,
      hostname: 'w2',
      pid: 2,
      tid: 'b',
      errorClass: 'Timeout',
      willRetry: true,
      durationMs: 900,
      eventCount: 8,
      firstUs: T0,
      lastUs: T0 + 92 * S,
    });
  });

  it('is unchanged by a repeated event', () => {
    expect(foldJob([...RETRIED_JOB, RETRIED_JOB[3]])).toEqual({
      ...foldJob(RETRIED_JOB),
      eventCount: 9,
    });
  });

  it.each([
    ['queued', [event(T.Queued, 0)], JobStatus.Queued],
    ['scheduled', [event(T.Scheduled, 0)], JobStatus.Scheduled],
    ['started before its queued arrived', [event(T.Started, 1)], JobStatus.Running],
    ['queued arriving after started', [event(T.Started, 1), event(T.Queued, 2)], JobStatus.Running],
    [
      'failed without retry',
      [event(T.Started, 0), event(T.Failed, 1, { willRetry: false })],
      JobStatus.Failed,
    ],
    ['failed with retry', [event(T.Failed, 1, { willRetry: true })], JobStatus.Retrying],
    [
      'dead after its last failure',
      [event(T.Failed, 1, { attempt: 3, willRetry: false }), event(T.Dead, 2, { attempt: 3 })],
      JobStatus.Dead,
    ],
    ['interrupted', [event(T.Started, 0), event(T.Interrupted, 1)], JobStatus.Interrupted],
    [
      'interrupted then started again',
      [event(T.Started, 0), event(T.Interrupted, 1), event(T.Started, 2)],
      JobStatus.Running,
    ],
    [
      'a retry run that beat the clock of the failure',
      [event(T.Failed, 50, { willRetry: true }), event(T.Started, 10, { attempt: 1 })],
      JobStatus.Running,
    ],
  ])('derives the status of a job %s', (_name, events, status) => {
    expect(foldJob(events).status).toBe(status);
  });

  it('takes the worker from the latest run and the error from the latest failure', () => {
    const job = foldJob([
      event(T.Started, 0, { hostname: 'old', pid: 1, tid: 'x' }),
      event(T.Failed, 1, { errorClass: 'A', errorMessage: 'first', willRetry: true }),
      event(T.Started, 5, { attempt: 1, hostname: 'new', pid: 2, tid: 'y' }),
      event(T.Failed, 6, { attempt: 1, errorClass: 'B', errorMessage: 'second', willRetry: false }),
    ]);
    expect(job).toMatchObject({
      hostname: 'new',
      pid: 2,
      tid: 'y',
      errorClass: 'B',
      errorMessage: 'second',
      willRetry: false,
      status: JobStatus.Failed,
    });
  });

  it('shows a cancelled scheduled job as cancelled, in every order of its events', () => {
    const events = [
      event(T.Scheduled, 0, { ...identity, scheduledUs: T0 + 3600 * S }),
      event(T.Queued, 1, identity),
      event(T.Cancelled, 5),
    ];
    for (const order of permutations(events)) {
      const job = foldJob(order);
      expect(job.status).toBe(JobStatus.Cancelled);
      expect(job.jobClass).toBe('ReportJob');
    }
  });

  it('lets what ran win over a cancel that came too late', () => {
    const events = [
      event(T.Scheduled, 0, identity),
      event(T.Cancelled, 5),
      event(T.Started, 4, { hostname: 'w1' }),
      event(T.Succeeded, 6, { hostname: 'w1' }),
    ];
    for (const order of permutations(events)) {
      expect(foldJob(order).status).toBe(JobStatus.Succeeded);
    }
    // still running, whether the start is stamped before or after the cancel
    for (const startedAt of [4, 7]) {
      const running = [
        event(T.Scheduled, 0, identity),
        event(T.Queued, 1),
        event(T.Cancelled, 5),
        event(T.Started, startedAt, { hostname: 'w1' }),
      ];
      for (const order of permutations(running)) {
        expect(foldJob(order)).toMatchObject({ status: JobStatus.Running, hostname: 'w1' });
      }
    }
  });

  it("folds a job's only event exactly as the general fold does, for every type and field mix", () => {
    const full: Partial<FoldEvent> = {
      ...identity,
      attempt: 2,
      hasPayload: true,
      createdUs: T0 - S,
      scheduledUs: T0 + 90 * S,
      hostname: 'w1',
      pid: 7,
      tid: 'abc',
      errorClass: 'Boom',
      errorMessage: 'it broke',
      errorBacktrace: '["a.rb:1"]',
      durationMs: 12.5,
      restartedAs: 'newjid',
      restartedFrom: 'oldjid',
    };
    const mixes: Partial<FoldEvent>[] = [
      {},
      full,
      { ...full, willRetry: true },
      { ...full, willRetry: false },
      { ...full, createdUs: T0 + 5 * S, hostname: null, pid: null },
      { tid: 'only-tid', errorClass: 'Boom', restartedAs: null },
    ];
    let compared = 0;
    for (const type of Object.values(T)) {
      for (const mix of mixes) {
        const only = [event(type, 3, mix)];
        expect(foldJob(only), `${type} ${JSON.stringify(mix)}`).toEqual(foldEvents(only));
        compared++;
      }
    }
    expect(compared).toBe(Object.values(T).length * mixes.length);
  });

  it('refuses an empty set', () => {
    expect(() => foldJob([])).toThrow();
  });
});

describe('usToIso', () => {
  it('keeps microseconds', () => {
    expect(usToIso(1_795_000_000_123_456)).toBe('2026-11-18T11:06:40.123456Z');
  });

  it('formats like toISOString plus three digits, in and across seconds, in any order', () => {
    const plain = (us: number) => {
      const ms = Math.floor(us / 1000);
      return new Date(ms).toISOString().replace('Z', String(us - ms * 1000).padStart(3, '0') + 'Z');
    };
    const values = [0, 1, 999_999, 1_000_000, 951_782_399_999_999, 951_782_400_000_000];
    let seed = 7;
    for (let i = 0; i < 2000; i++) {
      seed = (seed * 48271) % 2147483647;
      // runs of values within one second, then jumps to other seconds
      values.push(
        i % 5 === 0 ? T0 + seed * 1000 + (seed % 1000) : values[values.length - 1] + (seed % 3),
      );
    }
    values.push(Number.MAX_SAFE_INTEGER); // in 2255: the last exact microsecond
    for (const us of values) {
      expect(usToIso(us)).toBe(plain(us));
    }
  });
});

describe('isoToUs', () => {
  it('reads back what usToIso writes, in and across seconds', () => {
    let us = T0;
    for (let i = 0; i < 3000; i++) {
      us += i % 7 === 0 ? 1_234_567 : 13;
      expect(isoToUs(usToIso(us))).toBe(us);
    }
  });

  it('reads the other forms through parseTimestamp', () => {
    expect(isoToUs('2026-11-18T11:06:40.123Z')).toBe(1_795_000_000_123_000);
    expect(isoToUs('2026-11-18T12:06:40.5+01:00')).toBe(1_795_000_000_500_000);
    expect(() => isoToUs('yesterday')).toThrow();
  });
});
