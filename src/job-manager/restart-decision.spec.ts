import type { RestartCandidate } from '../jobs/jobs.service.js';
import { JobStatus } from '../jobs/job-lifecycle.enum.js';
import type { JobResponseDto } from '../jobs/dto/job-response.dto.js';
import type { SidekiqJobLocation } from '../sidekiq/sidekiq-jobs.service.js';
import type { LifeView } from '../jobs/processes/lost-rule.js';
import {
  decideRestart,
  processKey,
  REDACTED_REASON,
  type SidekiqWorld,
} from './restart-decision.js';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const CUTOFF = NOW - 60_000;

function makeCandidate(overrides: Partial<RestartCandidate> = {}): RestartCandidate {
  return {
    instance: 'default',
    jid: 'b4a577edbccf1d805744efa9',
    status: JobStatus.Running,
    attempt: 0,
    jobClass: 'HardWorker',
    queue: 'default',
    hostname: 'worker-1',
    pid: 4242,
    startedAt: new Date(NOW - 3_600_000),
    enqueuedAt: new Date(NOW - 3_700_000),
    lastEventAt: new Date(NOW - 3_600_000),
    restartedAs: null,
    summary: { arguments: '[1]', arguments_truncated: false } as JobResponseDto,
    ...overrides,
  };
}

function makeWorld(live: [string, number][] = [], lives: LifeView[] = []): SidekiqWorld {
  return {
    live: new Set(live.map(([hostname, pid]) => processKey(hostname, pid))),
    working: new Set(),
    lives,
    silentBefore: new Date(Date.now() - 60_000),
  };
}

/** Sidekiq's answer to "where is this jid?", counting how often it was asked. */
function fakeLocate(location: SidekiqJobLocation | null = null) {
  const locate = () => {
    locate.calls++;
    return Promise.resolve(location);
  };
  locate.calls = 0;
  return locate;
}

describe('decideRestart', () => {
  it('restarts a running job that Sidekiq no longer holds and whose process is gone', async () => {
    const locate = fakeLocate();
    const sut = await decideRestart(makeCandidate(), makeWorld([['worker-2', 1]]), CUTOFF, locate);
    expect(sut).toEqual({ restart: true, jobClass: 'HardWorker', queue: 'default' });
    expect(locate.calls).toBe(1);
  });

  it('settles from the record alone, without asking Sidekiq, what the record settles', async () => {
    const cases: [Partial<RestartCandidate>, string, string][] = [
      [{ restartedAs: 'c0ffee' }, 'already_restarted', 'restarted before as c0ffee'],
      [{ jobClass: null }, 'incomplete_record', 'class, queue or arguments were never reported'],
      [{ queue: null }, 'incomplete_record', 'class, queue or arguments were never reported'],
      [
        { summary: { arguments: null } as JobResponseDto },
        'incomplete_record',
        'class, queue or arguments were never reported',
      ],
      [{ startedAt: new Date(CUTOFF + 1) }, 'too_recent', 'younger than minAgeSeconds'],
      [
        { summary: { arguments: '[{"password":"[REDACTED]"}]' } as JobResponseDto },
        'arguments_redacted',
        REDACTED_REASON,
      ],
    ];
    for (const [overrides, outcome, reason] of cases) {
      const locate = fakeLocate();
      const sut = await decideRestart(makeCandidate(overrides), makeWorld(), CUTOFF, locate);
      expect(sut, outcome).toMatchObject({ restart: false, outcome, reason });
      expect(locate.calls, outcome).toBe(0);
    }
    const again = await decideRestart(
      makeCandidate({ restartedAs: 'c0ffee' }),
      makeWorld(),
      CUTOFF,
      fakeLocate(),
    );
    expect(again).toMatchObject({ restartedAs: 'c0ffee' });
  });

  it('takes the age from the start, else the enqueue, else the last event', async () => {
    const young = new Date(CUTOFF + 1);
    const old = new Date(CUTOFF - 1);
    const age = (overrides: Partial<RestartCandidate>) =>
      decideRestart(makeCandidate(overrides), makeWorld(), CUTOFF, fakeLocate());
    expect(await age({ startedAt: old, enqueuedAt: young })).toMatchObject({ restart: true });
    expect(await age({ startedAt: null, enqueuedAt: young })).toMatchObject({
      outcome: 'too_recent',
    });
    expect(await age({ startedAt: null, enqueuedAt: null, lastEventAt: young })).toMatchObject({
      outcome: 'too_recent',
    });
    // exactly at the cutoff is old enough
    expect(await age({ startedAt: new Date(CUTOFF) })).toMatchObject({ restart: true });
  });

  it('leaves a job Sidekiq still holds, saying where', async () => {
    const held: [SidekiqJobLocation, string][] = [
      [{ where: 'queue', queue: 'mailers', raw: '{}' }, 'Sidekiq holds it: queue mailers'],
      [
        {
          where: 'retry' as SidekiqJobLocation['where'],
          score: 1,
          raw: '{}',
        } as SidekiqJobLocation,
        'Sidekiq holds it: retry',
      ],
      [
        { where: 'working', process: 'worker-9:1:abc', thread: 't1', raw: '{}' },
        'Sidekiq holds it: working on worker-9:1:abc',
      ],
    ];
    for (const [location, reason] of held) {
      const sut = await decideRestart(makeCandidate(), makeWorld(), CUTOFF, fakeLocate(location));
      expect(sut).toEqual({ restart: false, outcome: 'held_by_sidekiq', reason });
    }
  });

  it('leaves a running job whose process still beats (it may have finished unreported)', async () => {
    const world = makeWorld([['worker-1', 4242]]);
    expect(await decideRestart(makeCandidate(), world, CUTOFF, fakeLocate())).toEqual({
      restart: false,
      outcome: 'process_alive',
      reason: 'its process worker-1:4242 is alive; it may have finished unreported',
    });
    // the same host with another pid is another process
    expect(
      await decideRestart(makeCandidate({ pid: 4243 }), world, CUTOFF, fakeLocate()),
    ).toMatchObject({ restart: true });
    // a queued job never ran on that process: its heartbeat says nothing about it
    expect(
      await decideRestart(makeCandidate({ status: JobStatus.Queued }), world, CUTOFF, fakeLocate()),
    ).toMatchObject({ restart: true });
  });

  it("judges a running job by its process's reported life when there is one", async () => {
    const life: LifeView = {
      instance: 'default',
      identity: 'worker-1:4242:abc',
      hostname: 'worker-1',
      pid: 4242,
      startedAt: new Date(0),
      lastHeartbeatAt: new Date(),
      stoppedAt: null,
    };
    // in Sidekiq's processes (its key lives 60 s) but it said shutdown: restarted at once
    const stopped = makeWorld([['worker-1', 4242]], [{ ...life, stoppedAt: new Date() }]);
    expect(await decideRestart(makeCandidate(), stopped, CUTOFF, fakeLocate())).toMatchObject({
      restart: true,
    });
    const silent = makeWorld([['worker-1', 4242]], [{ ...life, lastHeartbeatAt: new Date(1000) }]);
    expect(await decideRestart(makeCandidate(), silent, CUTOFF, fakeLocate())).toMatchObject({
      restart: true,
    });
    // it beats, though Sidekiq's processes set no longer shows it
    expect(
      await decideRestart(makeCandidate(), makeWorld([], [life]), CUTOFF, fakeLocate()),
    ).toMatchObject({
      outcome: 'process_alive',
    });
  });
});
