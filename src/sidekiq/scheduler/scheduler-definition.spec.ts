import { TimestampFormat } from '../payload/job-record.js';
import { normalizeSchedulerKeyPrefix, SchedulerKeys } from '../sidekiq-keys.js';
import {
  buildSchedulerPush,
  decodeSchedulerEntry,
  nextStateText,
  parseRufusDuration,
  type SchedulerDefinition,
  zoneOf,
} from './scheduler-definition.js';

const entry = (config: unknown, more: Partial<Record<string, string | null>> = {}) => ({
  name: 'job',
  config: typeof config === 'string' ? config : JSON.stringify(config),
  state: null,
  nextTime: null,
  lastTime: null,
  ...more,
});

const decoded = (config: unknown, more: Partial<Record<string, string | null>> = {}) =>
  decodeSchedulerEntry(entry(config, more))!;

describe('decodeSchedulerEntry', () => {
  it('takes the first of cron, every, at, in, interval as the scheduler does', () => {
    expect(decoded({ every: '1h', cron: '0 * * * *', class: 'A' })).toMatchObject({
      scheduleType: 'cron',
      schedule: '0 * * * *',
    });
    expect(decoded({ cron: '', every: ['30s', { first_in: '1m' }], class: 'A' })).toMatchObject({
      scheduleType: 'every',
      schedule: '30s',
    });
    expect(decoded({ class: 'A' })).toMatchObject({ scheduleType: null, schedule: null });
  });

  it('reads enabled from the state, else the schedule, else true', () => {
    expect(decoded({ every: '1h', class: 'A' }).enabled).toBe(true);
    expect(decoded({ every: '1h', class: 'A', enabled: false }).enabled).toBe(false);
    expect(
      decoded({ every: '1h', class: 'A', enabled: false }, { state: '{"enabled":true}' }).enabled,
    ).toBe(true);
    expect(decoded({ every: '1h', class: 'A' }, { state: '{"enabled":false}' }).enabled).toBe(
      false,
    );
    // a state without `enabled` falls through to the schedule's
    expect(decoded({ every: '1h', class: 'A', enabled: false }, { state: '{}' }).enabled).toBe(
      false,
    );
  });

  it('reads the times String(EoTime) writes, in any offset', () => {
    const def = decoded(
      { every: '1h', class: 'A' },
      { nextTime: '2026-12-05 02:00:00 +0100', lastTime: '2026-12-05 00:00:00 +0000' },
    );
    expect(def.nextTime?.toISOString()).toBe('2026-12-05T01:00:00.000Z');
    expect(def.lastTime?.toISOString()).toBe('2026-12-05T00:00:00.000Z');
  });

  it("takes the scheduler process's zone from the offset of its times", () => {
    expect(decoded({ cron: '0 3 * * *', class: 'A' }).processZone).toBeNull();
    expect(
      decoded({ cron: '0 3 * * *', class: 'A' }, { lastTime: '2026-12-05 03:00:00 +0100' })
        .processZone,
    ).toBe('UTC+1');
    expect(zoneOf('2026-12-05 03:00:00 -0530')).toBe('UTC-5:30');
    expect(zoneOf('2026-12-05 03:00:00 +0000')).toBe('UTC');
    expect(zoneOf('2026-12-05T03:00:00Z')).toBeNull();
  });

  it('skips what the gem could not load: not a JSON object, no class', () => {
    expect(decodeSchedulerEntry(entry('not json'))).toBeNull();
    expect(decodeSchedulerEntry(entry([1]))).toBeNull();
    expect(decodeSchedulerEntry(entry({ every: '1h' }))).toBeNull();
    expect(decodeSchedulerEntry({ ...entry({}), config: null })).toBeNull();
  });
});

describe('nextStateText', () => {
  it('writes JSON.generate of the state with enabled set, other keys kept in order', () => {
    expect(nextStateText(null, false)).toBe('{"enabled":false}');
    expect(nextStateText('{"enabled":false,"by":"ops"}', true)).toBe('{"enabled":true,"by":"ops"}');
    expect(nextStateText('{"by":"ops"}', true)).toBe('{"by":"ops","enabled":true}');
    expect(nextStateText('broken', true)).toBe('{"enabled":true}');
  });
});

describe('buildSchedulerPush', () => {
  const push = (config: Record<string, unknown>) =>
    buildSchedulerPush(decoded(config) as SchedulerDefinition, {
      jid: 'abc',
      nowMs: 1_764_900_000_123,
      timestampFormat: TimestampFormat.Seconds,
    });

  it('pushes the config without the rufus keys, retry and queue first', () => {
    const out = push({
      cron: '0 * * * *',
      class: 'A',
      queue: 'low',
      args: [1, 'x'],
      description: 'd',
      enabled: true,
      retry: 3,
    });
    expect(out).toEqual({
      queue: 'low',
      payload:
        '{"retry":3,"queue":"low","class":"A","args":[1,"x"],"jid":"abc","created_at":1764900000.123,"enqueued_at":1764900000.123}',
    });
  });

  it('wraps a lone argument in an Array and adds scheduled_at for include_metadata', () => {
    const out = push({ every: '1m', class: 'A', args: 'one', include_metadata: true });
    expect('payload' in out && JSON.parse(out.payload)).toMatchObject({
      queue: 'default',
      args: ['one', { scheduled_at: 1764900000.123 }],
    });
    expect('payload' in out && out.payload).not.toContain('include_metadata');
    const none = push({ every: '1m', class: 'A' });
    expect('payload' in none && JSON.parse(none.payload).args).toEqual([]);
  });

  it('refuses Hash args, as Sidekiq::Client.push does', () => {
    expect(push({ every: '1m', class: 'A', args: { a: 1 } })).toEqual({
      error: expect.stringContaining('Array'),
    });
  });
});

describe('parseRufusDuration', () => {
  it.each([
    ['30s', 30],
    ['10m', 600],
    ['1h30m', 5400],
    ['1.5d', 129_600],
    ['2w', 1_209_600],
    ['1M', 2_592_000],
    ['45', 45],
  ])('%s is %d seconds', (text, seconds) => {
    expect(parseRufusDuration(text)).toBe(seconds);
  });

  it.each(['', 'soon', '1h and 2m', '0s', '-5'])('"%s" is not a duration', (text) => {
    expect(parseRufusDuration(text)).toBeNull();
  });
});

describe('SchedulerKeys', () => {
  it('puts the namespace, then key_prefix with the ":" the gem appends', () => {
    expect(new SchedulerKeys().schedules).toBe('schedules');
    expect(new SchedulerKeys(null, 'app').states).toBe('app:sidekiq-scheduler:states');
    expect(new SchedulerKeys(null, 'app.').nextTimes).toBe('app.sidekiq-scheduler:next_times');
    expect(new SchedulerKeys('ns', 'app:').lastTimes).toBe('ns:app:sidekiq-scheduler:last_times');
    expect(normalizeSchedulerKeyPrefix('')).toBe('');
  });
});
