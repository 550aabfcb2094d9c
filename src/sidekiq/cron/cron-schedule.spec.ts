import { firesBetween, parseCronSchedule, type CronSchedule } from './cron-schedule.js';

function parsed(expression: string): CronSchedule {
  const result = parseCronSchedule(expression);
  if ('error' in result) {
    throw new Error(result.error);
  }
  return result;
}

const at = (iso: string) => new Date(iso);

describe('parseCronSchedule', () => {
  it('reads 5 fields in UTC, the next fire strictly after the given time', () => {
    const sut = parsed('*/15 9-17 * * MON-FRI');
    expect(sut.timeZone).toBe('UTC');
    expect(sut.next(at('2026-12-04T17:45:00Z'))).toEqual(at('2026-12-07T09:00:00Z'));
    expect(sut.next(at('2026-12-07T09:00:00Z'))).toEqual(at('2026-12-07T09:15:00Z'));
  });

  it('reads 6 fields with seconds first, and a trailing time zone as fugit does', () => {
    const sut = parsed('0 30 2 * * * Europe/Paris');
    expect(sut.timeZone).toBe('Europe/Paris');
    // 02:30 in Paris is 01:30 UTC in winter
    expect(sut.next(at('2026-12-04T21:13:00Z'))).toEqual(at('2026-12-05T01:30:00Z'));
    expect(parsed('30 * * * * *').next(at('2026-12-04T21:13:00Z'))).toEqual(
      at('2026-12-04T21:13:30Z'),
    );
  });

  it('fires when day-of-month or day-of-week matches (crontab and fugit rule)', () => {
    const sut = parsed('0 0 13 * 5');
    expect(sut.next(at('2026-12-04T00:00:00Z'))).toEqual(at('2026-12-11T00:00:00Z')); // a Friday
    expect(sut.next(at('2026-12-11T00:00:00Z'))).toEqual(at('2026-12-13T00:00:00Z')); // the 13th
  });

  it('reads the presets fugit knows, @annually and @midnight included', () => {
    expect(parsed('@hourly').next(at('2026-12-04T21:13:00Z'))).toEqual(at('2026-12-04T22:00:00Z'));
    expect(parsed('@midnight').next(at('2026-12-04T21:13:00Z'))).toEqual(
      at('2026-12-05T00:00:00Z'),
    );
    expect(parsed('@annually').next(at('2026-12-04T21:13:00Z'))).toEqual(
      at('2027-01-01T00:00:00Z'),
    );
  });

  it('says why it cannot read a form it does not support', () => {
    expect(parseCronSchedule('0 0 L * *')).toEqual({ error: expect.stringMatching(/cron/) });
    expect(parseCronSchedule('every day at noon')).toEqual({
      error: expect.stringMatching(/5 or 6 fields/),
    });
    expect(parseCronSchedule('1 2 3')).toEqual({ error: expect.stringMatching(/not 3/) });
  });
});

describe('firesBetween', () => {
  it('counts fire times in (from, to], up to the cap', () => {
    const sut = parsed('0 * * * *');
    expect(firesBetween(sut, at('2026-12-04T10:00:00Z'), at('2026-12-04T12:59:00Z'), 10)).toBe(2);
    expect(firesBetween(sut, at('2026-12-04T10:00:00Z'), at('2026-12-04T13:00:00Z'), 10)).toBe(3);
    expect(firesBetween(parsed('* * * * * *'), at('2025-01-01'), at('2026-01-01'), 3)).toBe(3);
  });
});
