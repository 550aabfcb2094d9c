import { JobEventType } from '../job-lifecycle.enum.js';
import { batchItems } from './batch-body.js';
import { parseEvent } from './event-parser.js';
import { parseTimestamp } from './timestamps.js';

const ctx = { path: '', form: false, now: new Date('2026-11-23T12:00:00.000Z') };

describe('parseTimestamp', () => {
  it.each([
    ['2026-11-23T10:00:00Z', '2026-11-23T10:00:00.000000Z'],
    ['2026-11-23T10:00:00.123456Z', '2026-11-23T10:00:00.123456Z'],
    ['2026-11-23T10:00:00.123Z', '2026-11-23T10:00:00.123000Z'], // JavaScript's toISOString
    ['2028-02-29T23:59:59.999999Z', '2028-02-29T23:59:59.999999Z'],
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
    // the canonical forms too (Date.parse alone would roll these over)
    ['2026-02-29T00:00:00.000Z'],
    ['2026-04-31T10:00:00.000000Z'],
    ['2026-11-23T24:00:00.000Z'],
    ['2026-11-23T10:60:00.000Z'],
    ['1969-12-31T23:59:59.999Z'],
    ['yesterday'],
    [Number.NaN],
    [-5],
    [true],
  ])('refuses %s', (input) => {
    expect(parseTimestamp(input)).toBeNull();
  });
});

describe('parseEvent', () => {
  describe('an Active Job the client unwrapped (display_class, display_args, active_job_id)', () => {
    const WRAPPER = 'ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper';
    const serialized = {
      job_class: 'ReportJob',
      job_id: 'aj-1',
      arguments: [{ _aj_globalid: 'gid://app/User/1' }, 2],
    };
    const wrapperArgs = JSON.stringify([serialized]);

    it('stores what the service would have unwrapped itself', () => {
      const sent = parseEvent(
        {
          type: 'queued',
          job_id: 'j1',
          job_class: WRAPPER,
          arguments: wrapperArgs,
          display_class: 'ReportJob',
          display_args: '["gid://app/User/1",2]',
          active_job_id: 'aj-1',
        },
        ctx,
      );
      const unwrapped = parseEvent(
        { type: 'queued', job_id: 'j1', job_class: WRAPPER, arguments: wrapperArgs },
        ctx,
      );
      expect(sent.errors).toBeUndefined();
      expect(sent.event).toEqual(unwrapped.event);
      expect(sent.event).toMatchObject({
        jobClass: 'ReportJob',
        arguments: '["gid://app/User/1",2]',
        wrapperClass: WRAPPER,
        rawArguments: wrapperArgs,
        activeJobId: 'aj-1',
      });
    });

    it('is refused beside a job_class that is not a wrapper, and without display_class', () => {
      const result = parseEvent(
        {
          type: 'queued',
          job_id: 'j1',
          job_class: 'PlainJob',
          display_class: 'ReportJob',
        },
        ctx,
      );
      expect(result.errors).toEqual([
        {
          field: 'display_class',
          message: 'is only allowed with an Active Job wrapper in job_class',
        },
      ]);
      const orphans = parseEvent(
        { type: 'queued', job_id: 'j1', display_args: '[]', active_job_id: 'x' },
        ctx,
      );
      expect(orphans.errors?.map((e) => e.field)).toEqual(['display_args', 'active_job_id']);
    });
  });

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

describe('microsecond fields', () => {
  it('read integer epoch microseconds and a duration in microseconds like their ISO/ms twins', () => {
    const us = parseEvent(
      {
        type: 'succeeded',
        job_id: 'a',
        occurred_at_us: 1_795_000_000_250_001,
        enqueued_at_us: '1795000000000000',
        created_at_us: 1_795_000_000_000_000,
        duration_us: 1500,
      },
      ctx,
    );
    const iso = parseEvent(
      {
        type: 'succeeded',
        job_id: 'a',
        occurred_at: '2026-11-18T11:06:40.250001Z',
        enqueued_at: 1_795_000_000,
        created_at: '2026-11-18T11:06:40Z',
        duration_ms: 1.5,
      },
      ctx,
    );
    expect(us.errors).toBeUndefined();
    expect(us.event).toEqual(iso.event);
    expect(us.event?.occurredAt).toBe('2026-11-18T11:06:40.250001Z');
  });

  it('refuses both twins at once, fractions and out-of-range values', () => {
    const result = parseEvent(
      {
        type: 'started',
        job_id: 'a',
        occurred_at: '2026-11-18T11:06:40Z',
        occurred_at_us: 1_795_000_000_000_000,
        enqueued_at_us: 1.5,
        created_at_us: -1,
        duration_ms: 1,
        duration_us: 1000,
      },
      ctx,
    );
    expect(result.errors?.map((e) => e.field).sort()).toEqual([
      'created_at_us',
      'duration_us',
      'enqueued_at_us',
      'occurred_at_us',
    ]);
  });
});

describe('batchItems (the batch body)', () => {
  it('expands compact rows with defaults into the same events as objects', () => {
    const columns = ['type', 'job_id', 'occurred_at_us', 'queue', 'duration_us'];
    const { items, errors } = batchItems({
      events: [{ type: 'queued', job_id: 'a' }],
      columns,
      defaults: { hostname: 'w1', pid: 7, queue: 'default' },
      rows: [
        ['started', 'a', 1_795_000_000_000_000, null, null],
        ['succeeded', 'a', 1_795_000_000_500_000, 'critical', 500_000],
      ],
    });
    expect(errors).toEqual([]);
    expect(items.map((i) => i.path)).toEqual(['events[0].', 'rows[0].', 'rows[1].']);
    expect(items[1].raw).toEqual({
      hostname: 'w1',
      pid: 7,
      queue: 'default',
      type: 'started',
      job_id: 'a',
      occurred_at_us: 1_795_000_000_000_000,
    });
    // a row's own value wins over the default
    expect(items[2].raw).toMatchObject({ queue: 'critical', duration_us: 500_000 });
    const parsed = parseEvent(items[2].raw, { ...ctx, path: items[2].path });
    expect(parsed.event).toMatchObject({
      type: JobEventType.Succeeded,
      hostname: 'w1',
      durationMs: 500,
      occurredAt: '2026-11-18T11:06:40.500000Z',
    });
  });

  it('names every fault of the shape', () => {
    const fields = (raw: unknown) => batchItems(raw).errors.map((e) => e.field);
    expect(fields([])).toEqual(['events']);
    expect(fields({})).toEqual(['events']);
    expect(fields({ events: {}, extra: 1 })).toEqual(['extra', 'events']);
    expect(fields({ events: [], columns: ['type'] })).toEqual(['columns']);
    expect(fields({ rows: [] })).toEqual(['columns']);
    expect(fields({ columns: ['type', 'color', 'type'], rows: [] })).toEqual([
      'columns[1]',
      'columns[2]',
    ]);
    expect(fields({ columns: ['type'], defaults: { color: 1 }, rows: [] })).toEqual([
      'defaults.color',
    ]);
    expect(fields({ columns: ['type'], rows: {} })).toEqual(['rows']);
    expect(
      fields({ columns: ['type', 'job_id'], rows: [['started', 'a'], ['started'], 'x'] }),
    ).toEqual(['rows[1]', 'rows[2]']);
  });
});

describe('started_at on the event that ends a run', () => {
  it('derives the run started event, as the client would have sent it', () => {
    const fields = {
      job_id: 'a',
      retry_count: 1,
      job_class: 'K',
      queue: 'q',
      arguments: '[1]',
      tid: 't1',
      hostname: 'w1',
    };
    const ended = parseEvent(
      {
        ...fields,
        type: 'succeeded',
        occurred_at_us: 1_795_000_001_000_000,
        started_at_us: 1_795_000_000_250_000,
        duration_us: 750_000,
      },
      ctx,
    );
    const alone = parseEvent(
      { ...fields, type: 'started', occurred_at: '2026-11-18T11:06:40.250000Z' },
      ctx,
    );
    expect(ended.errors).toBeUndefined();
    expect(ended.event?.durationMs).toBe(750);
    expect(ended.started).toEqual(alone.event);
    expect(alone.started).toBeNull();
  });

  it('is refused on events that do not end a run, named as sent', () => {
    const us = parseEvent({ type: 'queued', job_id: 'a', started_at_us: 1 }, ctx);
    const iso = parseEvent(
      { type: 'retrying', job_id: 'a', started_at: '2026-11-18T11:06:40Z' },
      ctx,
    );
    expect(us.errors?.map((e) => e.field)).toEqual(['started_at_us']);
    expect(iso.errors?.map((e) => e.field)).toEqual(['started_at']);
  });
});
