import { parseEvent, parseTimestamp } from './ingest-event.js';
import { JobEventType } from './job-status.js';

const ctx = { path: '', form: false, now: new Date('2026-11-23T12:00:00.000Z') };

describe('parseTimestamp', () => {
  it.each([
    ['2026-11-23T10:00:00Z', '2026-11-23T10:00:00.000000Z'],
    ['2026-11-23T10:00:00.123456Z', '2026-11-23T10:00:00.123456Z'],
    ['2026-11-23T11:30:00.5+01:30', '2026-11-23T10:00:00.500000Z'],
    ['2026-11-23 10:00:00 -0200', '2026-11-23T12:00:00.000000Z'],
    [1_795_000_000.25, '2026-11-18T11:06:40.250000Z'], // Sidekiq 6/7: float seconds
    [1_795_000_000_250, '2026-11-18T11:06:40.250000Z'], // Sidekiq 8: integer milliseconds
  ])('reads %s', (input, expected) => {
    expect(parseTimestamp(input)).toBe(expected);
  });

  it.each([
    ['2026-11-23T10:00:00'],
    ['2026-13-01T00:00:00Z'],
    ['2026-02-29T00:00:00Z'],
    ['yesterday'],
    [Number.NaN],
    [-5],
    [true],
  ])('refuses %s', (input) => {
    expect(parseTimestamp(input)).toBeNull();
  });
});

describe('parseEvent', () => {
  it('normalises a full event and derives attempt and dedupe key', () => {
    const result = parseEvent(
      {
        type: 'started',
        job_id: 'abc',
        retry_count: 2,
        occurred_at: '2026-11-23T10:00:00Z',
        pid: '42',
      },
      ctx,
    );
    expect(result.errors).toBeUndefined();
    expect(result.event).toMatchObject({
      jid: 'abc',
      type: JobEventType.Started,
      attempt: 3,
      pid: 42,
      instance: 'default',
      clientTime: true,
      dedupeKey: 'started|3|2026-11-23T10:00:00.000000Z',
    });
  });

  it('counts retrying and dead events to the run that just failed', () => {
    const retrying = parseEvent({ type: 'retrying', job_id: 'a', retry_count: 0 }, ctx);
    const dead = parseEvent({ type: 'dead', job_id: 'a', retry_count: 3 }, ctx);
    expect(retrying.event?.attempt).toBe(0);
    expect(dead.event?.attempt).toBe(3);
  });

  it('uses the server clock when occurred_at is absent, and dedupes such events by type', () => {
    const a = parseEvent({ job_id: 'abc' }, { ...ctx, type: JobEventType.Succeeded });
    expect(a.event).toMatchObject({
      occurredAt: '2026-11-23T12:00:00.000000Z',
      clientTime: false,
      dedupeKey: 'succeeded|0|-',
    });
  });

  it('keeps arguments text byte for byte and re-serialises a JSON array', () => {
    const text = '[1, "two" ,{"a":1.50}]';
    expect(parseEvent({ type: 'queued', job_id: 'a', arguments: text }, ctx).event?.arguments).toBe(
      text,
    );
    expect(
      parseEvent({ type: 'queued', job_id: 'a', arguments: [1, 'x'] }, ctx).event?.arguments,
    ).toBe('[1,"x"]');
  });

  it('reads form values (all strings)', () => {
    const result = parseEvent(
      { job_id: 'a', will_retry: 'true', duration_ms: '12.5', retry_count: '' },
      { ...ctx, form: true, type: JobEventType.Failed },
    );
    expect(result.event).toMatchObject({ willRetry: true, durationMs: 12.5, retryCount: null });
  });

  it('names every field at fault with the path prefix', () => {
    const result = parseEvent(
      {
        type: 'exploded',
        job_id: 'a b',
        pid: -1,
        retry_count: 1.5,
        error_backtrace: [1],
        surprise: true,
      },
      { ...ctx, path: 'events[7].' },
    );
    expect(result.errors?.map((e) => e.field).sort()).toEqual([
      'events[7].error_backtrace',
      'events[7].job_id',
      'events[7].pid',
      'events[7].retry_count',
      'events[7].surprise',
      'events[7].type',
    ]);
  });

  it('refuses text Postgres cannot store: NUL and unpaired surrogates', () => {
    const result = parseEvent(
      {
        type: 'queued',
        job_id: 'a',
        hostname: 'a\u0000b',
        job_class: 'X\uD800',
        arguments: '["\uDC00"]',
      },
      ctx,
    );
    expect(result.errors?.map((e) => e.field).sort()).toEqual([
      'arguments',
      'hostname',
      'job_class',
    ]);
    expect(
      parseEvent({ type: 'queued', job_id: 'a', job_class: 'Emoji😀' }, ctx).event?.jobClass,
    ).toBe('Emoji😀');
  });

  it('refuses a non-object body', () => {
    expect(parseEvent([1], ctx).errors).toEqual([{ field: 'body', message: 'must be an object' }]);
  });
});
