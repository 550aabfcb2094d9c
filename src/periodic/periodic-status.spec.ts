import {
  cronVerdict,
  formatSeconds,
  intervalVerdict,
  learnedMissed,
  learnInterval,
  PeriodicStatus,
} from './periodic-status.js';

const at = (iso: string) => new Date(iso);
const NOW = at('2026-12-04T12:30:00Z');
const hourly = { cron: '0 * * * *', enabled: true };

describe('cronVerdict', () => {
  it('is ok while fewer than the limit of scheduled times went by since the last success', () => {
    const outcome = {
      lastRunAt: at('2026-12-04T10:00:05Z'),
      lastSuccessAt: at('2026-12-04T10:00:05Z'),
      oldestAt: at('2026-12-01T00:00:00Z'),
    };
    // 11:00 and 12:00 went by
    expect(cronVerdict(hourly, outcome, NOW, 3)).toMatchObject({
      status: PeriodicStatus.Ok,
      missedRuns: 2,
      nextRun: at('2026-12-04T13:00:00Z'),
    });
  });

  it('is overdue at the limit, counting from the oldest run read when none succeeded', () => {
    const succeeded = {
      lastRunAt: at('2026-12-04T12:00:03Z'),
      lastSuccessAt: at('2026-12-04T09:00:05Z'),
      oldestAt: at('2026-12-01T00:00:00Z'),
    };
    expect(cronVerdict(hourly, succeeded, NOW, 3)).toMatchObject({
      status: PeriodicStatus.Overdue,
      missedRuns: 3,
    });
    const failing = {
      lastRunAt: at('2026-12-04T12:00:03Z'),
      lastSuccessAt: null,
      oldestAt: at('2026-12-04T06:00:03Z'),
    };
    expect(cronVerdict(hourly, failing, NOW, 3)).toMatchObject({
      status: PeriodicStatus.Overdue,
      missedRuns: 6,
      since: at('2026-12-04T06:00:03Z'),
    });
  });

  it('says disabled, never_run, and ok when the schedule cannot be read', () => {
    const outcome = {
      lastRunAt: at('2026-12-01T00:00:00Z'),
      lastSuccessAt: at('2026-12-01T00:00:00Z'),
      oldestAt: null,
    };
    expect(cronVerdict({ ...hourly, enabled: false }, outcome, NOW, 3).status).toBe(
      PeriodicStatus.Disabled,
    );
    expect(cronVerdict(hourly, undefined, NOW, 3)).toMatchObject({
      status: PeriodicStatus.NeverRun,
      missedRuns: null,
    });
    expect(cronVerdict({ cron: '0 0 L * *', enabled: true }, outcome, NOW, 3)).toMatchObject({
      status: PeriodicStatus.Ok,
      nextRun: null,
      scheduleError: expect.any(String),
    });
  });
});

describe('learnInterval', () => {
  const base = Date.parse('2026-12-04T12:00:00Z') / 1000;
  const every = (seconds: number, n: number, jitter = (_i: number) => 0) =>
    Array.from({ length: n }, (_, i) => base - i * seconds + jitter(i));

  it('learns the median gap of a regular class with enough successes', () => {
    const sut = learnInterval(
      every(3600, 12, (i) => (i % 2) * 40),
      10,
    );
    expect(sut).toMatchObject({ gaps: 11, lastSuccessAt: at('2026-12-04T12:00:00Z') });
    expect(Math.abs(sut!.medianSeconds - 3600)).toBeLessThanOrEqual(40);
    expect(learnedMissed(sut!, at('2026-12-04T15:30:00Z'))).toBe(3);
  });

  it('learns nothing from too few successes, a busy class, or scattered gaps', () => {
    expect(learnInterval(every(3600, 9), 10)).toBeNull();
    expect(learnInterval(every(5, 50), 10)).toBeNull();
    const scattered = [0, 100, 5000, 5100, 20000, 20050, 60000, 60100, 90000, 99000, 150000].map(
      (s) => base - s,
    );
    expect(learnInterval(scattered, 10)).toBeNull();
  });
});

it('formats intervals in two units at most', () => {
  expect(formatSeconds(3900)).toBe('1h 5m');
  expect(formatSeconds(45)).toBe('45s');
  expect(formatSeconds(2 * 86_400 + 3 * 3600 + 60)).toBe('2d 3h');
});

describe('intervalVerdict', () => {
  const now = new Date('2026-12-05T12:00:00Z');
  const job = {
    intervalSeconds: 1800,
    enabled: true,
    nextTime: null,
    lastTime: new Date('2026-12-05T11:50:00Z'),
    schedule: '30m',
  };
  const outcome = (successAgoMs: number) => ({
    lastRunAt: new Date(now.getTime() - successAgoMs),
    lastSuccessAt: new Date(now.getTime() - successAgoMs),
    oldestAt: new Date(now.getTime() - successAgoMs),
  });

  it('counts whole intervals since the last success, up to twice the limit', () => {
    expect(intervalVerdict(job, outcome(45 * 60_000), now, 3)).toMatchObject({
      status: PeriodicStatus.Ok,
      missedRuns: 1,
    });
    expect(intervalVerdict(job, outcome(2 * 3600_000), now, 3)).toMatchObject({
      status: PeriodicStatus.Overdue,
      missedRuns: 4,
    });
    expect(intervalVerdict(job, outcome(30 * 3600_000), now, 3).missedRuns).toBe(6);
  });

  it('gives the next run the scheduler wrote, else the last trigger plus the interval', () => {
    expect(intervalVerdict(job, undefined, now, 3)).toMatchObject({
      status: PeriodicStatus.NeverRun,
      nextRun: new Date('2026-12-05T12:20:00Z'),
    });
    const next = new Date('2026-12-05T12:05:00Z');
    expect(intervalVerdict({ ...job, nextTime: next }, undefined, now, 3).nextRun).toEqual(next);
  });

  it('is disabled when disabled, and never overdue with a duration it cannot read', () => {
    expect(intervalVerdict({ ...job, enabled: false }, outcome(1e9), now, 3).status).toBe(
      PeriodicStatus.Disabled,
    );
    expect(
      intervalVerdict({ ...job, intervalSeconds: null, schedule: 'soon' }, outcome(1e9), now, 3),
    ).toMatchObject({ status: PeriodicStatus.Ok, scheduleError: expect.stringContaining('soon') });
  });
});
