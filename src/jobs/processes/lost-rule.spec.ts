import { judgeRun, lifeOfRun, type LifeView, processKey, type RunView } from './lost-rule.js';

const NOW = Date.UTC(2026, 11, 5, 0, 0, 0);
const ago = (s: number) => new Date(NOW - s * 1000);

function makeLife(overrides: Partial<LifeView> = {}): LifeView {
  return {
    instance: 'default',
    identity: 'box:1:aaa',
    hostname: 'box',
    pid: 1,
    startedAt: ago(3600),
    lastHeartbeatAt: ago(5),
    stoppedAt: null,
    ...overrides,
  };
}

function makeRun(overrides: Partial<RunView> = {}): RunView {
  return {
    instance: 'default',
    jid: 'j1',
    hostname: 'box',
    pid: 1,
    startedAt: ago(600),
    restartedAs: null,
    ...overrides,
  };
}

const evidence = (lives: LifeView[], live: string[] = [], working: string[] = []) => ({
  live: new Set(live),
  working: new Set(working),
  lives,
  silentBefore: ago(60),
});

describe('the lost rule', () => {
  it("judges a run by the life of its container's pid 1 that began before it", () => {
    // a container comes back under the same hostname with the same pid: two lives
    const first = makeLife({ identity: 'box:1:old', startedAt: ago(7200), stoppedAt: ago(3000) });
    const second = makeLife({ identity: 'box:1:new', startedAt: ago(2000) });
    expect(lifeOfRun(makeRun({ startedAt: ago(5000) }), [second, first])?.identity).toBe(
      'box:1:old',
    );
    expect(lifeOfRun(makeRun({ startedAt: ago(100) }), [first, second])?.identity).toBe(
      'box:1:new',
    );
    expect(judgeRun(makeRun({ startedAt: ago(5000) }), evidence([first, second]))).toEqual({
      lost: true,
      basis: 'shutdown',
      identity: 'box:1:old',
      reason: `process box:1:old said shutdown at ${ago(3000).toISOString()}`,
    });
    expect(judgeRun(makeRun({ startedAt: ago(100) }), evidence([first, second]))).toEqual({
      lost: false,
    });
    // another instance's process of the same name is not this one
    expect(lifeOfRun(makeRun({ instance: 'other' }), [second])).toBeNull();
  });

  it('calls a run lost when its process went silent, not while it beats or a live worker runs it', () => {
    const silent = makeLife({ lastHeartbeatAt: ago(61) });
    expect(judgeRun(makeRun(), evidence([silent]))).toMatchObject({
      lost: true,
      basis: 'silent',
      reason: `no heartbeat from box:1:aaa since ${ago(61).toISOString()}`,
    });
    expect(judgeRun(makeRun(), evidence([makeLife()]))).toEqual({ lost: false });
    expect(judgeRun(makeRun(), evidence([silent], [], ['j1']))).toEqual({ lost: false });
    expect(judgeRun(makeRun({ restartedAs: 'j2' }), evidence([silent]))).toEqual({ lost: false });
  });

  it("falls back to Sidekiq's processes set for a run without a reported life", () => {
    expect(judgeRun(makeRun(), evidence([], [processKey('box', 1)]))).toEqual({ lost: false });
    expect(judgeRun(makeRun(), evidence([]))).toMatchObject({ lost: true, basis: 'gone' });
    expect(judgeRun(makeRun({ pid: null }), evidence([]))).toEqual({ lost: false });
  });
});
