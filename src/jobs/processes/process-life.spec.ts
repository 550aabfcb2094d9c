import { parseProcessEvent, type ProcessEvent, ProcessState } from './process-event.js';
import { livesOf, mergeLives, ProcessStatus, statusOf } from './process-life.js';

const T0 = Date.UTC(2026, 11, 4, 12, 0, 0);
const at = (s: number) => new Date(T0 + s * 1000).toISOString().replace('Z', '000Z');

function makeEvent(state: ProcessState, s: number, overrides: Partial<ProcessEvent> = {}) {
  return {
    instance: 'default',
    identity: 'web-1:7:abc',
    state,
    occurredAt: at(s),
    hostname: 'web-1',
    pid: 7,
    tag: null,
    sidekiqVersion: null,
    clientVersion: null,
    concurrency: null,
    queues: null,
    startedAt: at(0),
    ...overrides,
  } satisfies ProcessEvent;
}

function permutations<T>(items: T[]): T[][] {
  return items.length <= 1
    ? [items]
    : items.flatMap((x, i) =>
        permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((r) => [x, ...r]),
      );
}

describe('process lives', () => {
  const life = [
    makeEvent(ProcessState.Startup, 0, { sidekiqVersion: '6.4.1', concurrency: 5 }),
    makeEvent(ProcessState.Heartbeat, 10),
    makeEvent(ProcessState.Quiet, 11),
    makeEvent(ProcessState.Shutdown, 12),
    makeEvent(ProcessState.Heartbeat, 13, { sidekiqVersion: '6.4.1', concurrency: 6 }),
    makeEvent(ProcessState.Exit, 14),
  ];

  it('gives every order of the same events, each one twice, one life', () => {
    const orders = permutations(life);
    expect(orders).toHaveLength(720);
    const expected = {
      ...livesOf(life)[0],
      startedAt: at(0),
      lastHeartbeatAt: at(14),
      quietAt: at(11),
      stoppedAt: at(12),
      lastEventAt: at(14),
      // the latest event with a description gave it, whole
      sidekiqVersion: '6.4.1',
      concurrency: 6,
      describedAt: at(13),
    };
    for (const order of orders) {
      expect(livesOf([...order, ...order])).toEqual([expected]);
    }
  });

  it('takes a later start as a new life, and drops the events of the older one', () => {
    const next = makeEvent(ProcessState.Startup, 100, { startedAt: at(100) });
    for (const order of permutations([...life.slice(0, 4), next])) {
      expect(livesOf(order)).toEqual([
        expect.objectContaining({ startedAt: at(100), stoppedAt: null, quietAt: null }),
      ]);
    }
    const a = livesOf([life[3]])[0];
    expect(mergeLives(a, livesOf([next])[0])).toEqual(mergeLives(livesOf([next])[0], a));
  });

  it('names the state: stopped wins over silent, silent over quiet', () => {
    const cutoff = new Date(T0 + 60_000);
    const base = { stoppedAt: null, quietAt: null, lastHeartbeatAt: new Date(T0 + 61_000) };
    expect(statusOf(base, cutoff)).toBe(ProcessStatus.Running);
    expect(statusOf({ ...base, quietAt: new Date(T0) }, cutoff)).toBe(ProcessStatus.Quiet);
    expect(statusOf({ ...base, lastHeartbeatAt: new Date(T0) }, cutoff)).toBe(ProcessStatus.Silent);
    expect(
      statusOf({ ...base, lastHeartbeatAt: new Date(T0), stoppedAt: new Date(T0) }, cutoff),
    ).toBe(ProcessStatus.Stopped);
  });

  it('reads what the Ruby client sends, and names every field at fault', () => {
    const now = new Date(T0);
    const ok = parseProcessEvent(
      {
        type: 'process',
        state: 'heartbeat',
        identity: 'web-1:7:abc',
        occurred_at: '2026-12-04T12:00:01.000001Z',
        started_at_us: T0 * 1000,
        hostname: 'web-1',
        pid: 7,
        queues: ['default'],
        concurrency: 5,
      },
      { path: 'events[0].', form: false, now },
    );
    expect(ok.event).toMatchObject({
      state: 'heartbeat',
      occurredAt: '2026-12-04T12:00:01.000001Z',
      startedAt: at(0),
      queues: '["default"]',
      instance: 'default',
    });
    const bad = parseProcessEvent(
      { type: 'process', state: 'sleep', pid: -1, queues: [''], job_id: 'x' },
      { path: 'events[2].', form: false, now },
    );
    expect(bad.errors?.map((e) => e.field).sort()).toEqual([
      'events[2].identity',
      'events[2].job_id',
      'events[2].pid',
      'events[2].queues',
      'events[2].state',
    ]);
  });
});
