import type { AppConfig } from '../../config/app-config.js';
import type { JobSignalsService, RunningJobRow } from '../../jobs/job-signals.service.js';
import type { ProcessLivesService } from '../../jobs/processes/process-lives.service.js';
import type { ProcessesService } from '../../sidekiq/processes/processes.service.js';
import type { SidekiqJobsService } from '../../sidekiq/sidekiq-jobs.service.js';
import type { WorkersService } from '../../sidekiq/workers/workers.service.js';
import { processKey } from './detector.js';
import { runLimit, StuckDetector, stuckVerdict } from './stuck.detector.js';

const T = {
  stuckFloorSeconds: 60,
  stuckMinSamples: 20,
  stuckDefaultSeconds: 3600,
  neverStartedSeconds: 600,
  overdueIntervals: 3,
};
const NOW = new Date('2026-12-04T12:00:00Z');

function makeRunning(overrides: Partial<RunningJobRow> = {}): RunningJobRow {
  return {
    instance: 'default',
    jid: 'aaaaaaaaaaaaaaaaaaaaaaaa',
    jobClass: 'FastJob',
    queue: 'default',
    startedAt: new Date(NOW.getTime() - (3 * 3600 + 12 * 60) * 1000),
    hostname: 'host-a',
    pid: 101,
    restartedAs: null,
    ...overrides,
  };
}

const SILENT_BEFORE = new Date(NOW.getTime() - 60_000);
const alive = {
  live: new Set([processKey('host-a', 101)]),
  working: new Set<string>(),
  lives: [],
  silentBefore: SILENT_BEFORE,
};

describe('run limit of a class', () => {
  it('is the p99 once the class has enough runs', () => {
    expect(runLimit({ samples: 4210, p99Ms: 90_000 }, T)).toEqual({ ms: 90_000, source: 'p99' });
  });

  it('never goes under the floor', () => {
    expect(runLimit({ samples: 4210, p99Ms: 2_100 }, T)).toEqual({ ms: 60_000, source: 'floor' });
  });

  it('is the default while the class has too few runs', () => {
    expect(runLimit({ samples: 19, p99Ms: 2_100 }, T)).toEqual({
      ms: 3_600_000,
      source: 'default',
    });
    expect(runLimit({ samples: 0, p99Ms: null }, T).source).toBe('default');
  });
});

describe('stuck verdict', () => {
  it('says how long it runs against what its class usually takes', () => {
    const verdict = stuckVerdict(makeRunning(), { samples: 4210, p99Ms: 2_100 }, T, alive, NOW);
    expect(verdict).toMatchObject({
      detector: 'stuck',
      identity: 'stuck:default:aaaaaaaaaaaaaaaaaaaaaaaa',
      severity: 'warning',
      summary:
        'running 3h 12m; this class usually finishes within 2.1 s (p99 of 4,210 runs); no job is called stuck before 1m 00s',
      evidence: { limit_ms: 60_000, limit_source: 'floor', process: 'alive' },
    });
  });

  it('leaves a job within its limit alone', () => {
    const job = makeRunning({ startedAt: new Date(NOW.getTime() - 50_000) });
    expect(stuckVerdict(job, { samples: 4210, p99Ms: 2_100 }, T, alive, NOW)).toBeNull();
  });

  it('uses the default limit, and says why, for a class with few runs', () => {
    const job = makeRunning({ startedAt: new Date(NOW.getTime() - 2 * 3600_000) });
    expect(stuckVerdict(job, { samples: 3, p99Ms: 1000 }, T, alive, NOW)?.summary).toBe(
      'running 2h 00m; only 3 recent successful runs of this class to learn from (fewer than 20), so the default limit of 1h 00m applies',
    );
    const young = makeRunning({ startedAt: new Date(NOW.getTime() - 30 * 60_000) });
    expect(stuckVerdict(young, { samples: 3, p99Ms: 1000 }, T, alive, NOW)).toBeNull();
  });

  it('reports a job whose process is gone, however young (JobManager calls it lost)', () => {
    const job = makeRunning({ startedAt: new Date(NOW.getTime() - 5_000), pid: 999 });
    const verdict = stuckVerdict(job, { samples: 4210, p99Ms: 2_100 }, T, alive, NOW);
    expect(verdict).toMatchObject({
      severity: 'critical',
      summary:
        "running 5.0 s on host-a:999, a process that is gone (no heartbeat in Sidekiq's processes, and no live worker runs it)",
      evidence: { reason: 'process gone', process: 'gone' },
    });
  });

  it('does not call a job lost that a live worker runs, or when the processes are unknown', () => {
    const job = makeRunning({ startedAt: new Date(NOW.getTime() - 5_000), pid: 999 });
    const working = { ...alive, live: new Set<string>(), working: new Set([job.jid]) };
    expect(stuckVerdict(job, { samples: 4210, p99Ms: 2_100 }, T, working, NOW)).toBeNull();
    expect(stuckVerdict(job, { samples: 4210, p99Ms: 2_100 }, T, null, NOW)).toBeNull();
  });

  it("reports a job at once when its process's reported life is over, though Sidekiq still lists the process", () => {
    const job = makeRunning({ startedAt: new Date(NOW.getTime() - 5_000) });
    const life = {
      instance: 'default',
      identity: 'host-a:101:0f1e2d',
      hostname: 'host-a',
      pid: 101,
      startedAt: new Date(NOW.getTime() - 3_600_000),
      lastHeartbeatAt: new Date(NOW.getTime() - 2_000),
      stoppedAt: new Date(NOW.getTime() - 3_000),
    };
    const verdict = stuckVerdict(
      job,
      { samples: 4210, p99Ms: 2_100 },
      T,
      { ...alive, lives: [life] },
      NOW,
    );
    expect(verdict).toMatchObject({
      severity: 'critical',
      summary:
        'running 5.0 s on host-a:101, a process that is over: process host-a:101:0f1e2d said shutdown at 2026-12-04T11:59:57.000Z',
      evidence: { process: 'gone', process_identity: 'host-a:101:0f1e2d', process_end: 'shutdown' },
    });
    // a life that still beats keeps the job alive
    const beating = { ...life, stoppedAt: null };
    expect(
      stuckVerdict(
        job,
        { samples: 4210, p99Ms: 2_100 },
        T,
        { ...alive, live: new Set<string>(), lives: [beating] },
        NOW,
      ),
    ).toBeNull();
  });
});

describe('class baselines kept between evaluations', () => {
  function makeSut(ttlSeconds: number) {
    const asked: string[][] = [];
    const running = [makeRunning(), makeRunning({ jid: 'b'.repeat(24), jobClass: 'SlowJob' })];
    const signals = {
      running: () => Promise.resolve(running),
      runBaselines: (classes: { instance: string; jobClass: string }[]) => {
        asked.push(classes.map((c) => c.jobClass));
        return Promise.resolve(
          classes.map((c) => ({
            ...c,
            samples: 4210,
            p99Ms: c.jobClass === 'FastJob' ? 2100 : 9e6,
          })),
        );
      },
    } as unknown as JobSignalsService;
    const empty = { list: () => Promise.resolve([]) };
    const config = {
      detectors: {
        defaults: T,
        overrides: new Map(),
        baselineDays: 7,
        sampleRuns: 5000,
        baselineTtlSeconds: ttlSeconds,
      },
    } as unknown as AppConfig;
    const sut = new StuckDetector(
      signals,
      empty as unknown as ProcessesService,
      empty as unknown as WorkersService,
      {
        lives: () => Promise.resolve([]),
        silentBefore: (now: Date) => now,
      } as unknown as ProcessLivesService,
      { holdingsIfKnown: () => Promise.resolve(null) } as unknown as SidekiqJobsService,
      config,
    );
    return { sut, asked, running };
  }
  const at = (s: number) => new Date(NOW.getTime() + s * 1000);

  it('reads a class again only once the TTL has passed, and a new class at once', async () => {
    const { sut, asked, running } = makeSut(300);
    const first = await sut.evaluate(at(0));
    await sut.evaluate(at(30));
    running.push(makeRunning({ jid: 'c'.repeat(24), jobClass: 'NewJob' }));
    await sut.evaluate(at(60));
    const late = await sut.evaluate(at(301));
    expect(asked).toEqual([['FastJob', 'SlowJob'], ['NewJob'], ['FastJob', 'SlowJob']]);
    // the kept baseline says what a read one said
    for (const result of [first, late]) {
      expect(result.observations.find((o) => o.jobClass === 'FastJob')?.summary).toContain(
        'this class usually finishes within 2.1 s (p99 of 4,210 runs)',
      );
    }
  });

  it('reads every class at every evaluation with a TTL of 0', async () => {
    const { sut, asked } = makeSut(0);
    await sut.evaluate(at(0));
    await sut.evaluate(at(1));
    expect(asked).toHaveLength(2);
  });
});
