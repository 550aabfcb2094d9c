import type { ConcurrentRunRow, RunEventRow } from '../../jobs/job-signals.service.js';
import {
  duplicatePair,
  findConcurrentArguments,
  findDuplicates,
  runsOf,
} from './duplicate.detector.js';

const NOW = new Date('2026-12-04T12:00:00Z');
const HOLD = 3600_000;
const t = (s: number) => new Date(NOW.getTime() - 600_000 + s * 1000);

function makeEvent(
  type: string,
  second: number,
  worker: [string, number, string] | null,
  attempt = 0,
): RunEventRow {
  return {
    jobId: '7',
    instance: 'default',
    jid: 'cccccccccccccccccccccccc',
    jobClass: 'PayJob',
    lastEventAt: NOW,
    type,
    attempt,
    occurredAt: t(second),
    hostname: worker?.[0] ?? null,
    pid: worker?.[1] ?? null,
    tid: worker?.[2] ?? null,
  };
}

const A: [string, number, string] = ['host-a', 101, 't1'];
const B: [string, number, string] = ['host-b', 202, 't9'];

describe('duplicate execution', () => {
  it('finds a second start on another process while the first runs, both runs side by side', () => {
    const events = [makeEvent('started', 0, A), makeEvent('started', 3, B)];
    const [finding] = findDuplicates(events, NOW, HOLD);
    expect(finding).toMatchObject({
      identity: 'duplicate:default:cccccccccccccccccccccccc:0',
      summary:
        'its first run started twice without a retry between: on host-a:101 at 2026-12-04T11:50:00Z and on host-b:202 at 2026-12-04T11:50:03Z, while the first was still running',
      evidence: {
        attempt: 0,
        overlapping: true,
        runs: [
          { hostname: 'host-a', pid: 101, outcome: 'running', ended_at: null },
          { hostname: 'host-b', pid: 202, outcome: 'running' },
        ],
      },
    });
  });

  it('matches each end to its own worker, and finds a restart on the same process mid-run', () => {
    const events = [
      makeEvent('started', 0, A),
      makeEvent('started', 5, A),
      makeEvent('succeeded', 8, A),
      makeEvent('succeeded', 9, A),
    ];
    const runs = runsOf(events);
    expect(runs.map((r) => r.endedAt?.getTime())).toEqual([t(8).getTime(), t(9).getTime()]);
    expect(duplicatePair(runs)).not.toBeNull();
  });

  it('finds a run on another process after the first succeeded', () => {
    const events = [
      makeEvent('started', 0, A),
      makeEvent('succeeded', 2, A),
      makeEvent('started', 40, B),
      makeEvent('succeeded', 42, B),
    ];
    expect(findDuplicates(events, NOW, HOLD)[0]?.summary).toMatch(
      /after the first had succeeded at 2026-12-04T11:50:02Z$/,
    );
  });

  it('is no duplicate: a retry (another attempt), a re-run after Sidekiq interrupted it, one run', () => {
    const retry = [
      makeEvent('started', 0, A),
      makeEvent('failed', 1, A),
      makeEvent('retrying', 1, A),
      makeEvent('started', 30, B, 1),
      makeEvent('succeeded', 31, B, 1),
    ];
    expect(findDuplicates(retry, NOW, HOLD)).toEqual([]);
    const interrupted = [
      makeEvent('started', 0, A),
      makeEvent('interrupted', 5, A),
      makeEvent('started', 20, B),
    ];
    expect(findDuplicates(interrupted, NOW, HOLD)).toEqual([]);
    expect(findDuplicates([makeEvent('started', 0, A)], NOW, HOLD)).toEqual([]);
    const sameProcessAgain = [
      makeEvent('started', 0, A),
      makeEvent('succeeded', 2, A),
      makeEvent('started', 4, A),
    ];
    expect(findDuplicates(sameProcessAgain, NOW, HOLD)).toEqual([]);
  });

  it('keeps a finished duplicate only until its job has been quiet for the hold', () => {
    const events = [
      makeEvent('started', 0, A),
      makeEvent('succeeded', 2, A),
      makeEvent('started', 3, B),
      makeEvent('succeeded', 5, B),
    ].map((e) => ({ ...e, lastEventAt: t(5) }));
    expect(findDuplicates(events, NOW, HOLD)).toHaveLength(1);
    expect(findDuplicates(events, new Date(t(5).getTime() + HOLD + 1), HOLD)).toEqual([]);
    const going = events.slice(0, 3);
    expect(findDuplicates(going, new Date(t(5).getTime() + HOLD + 1), HOLD)).toHaveLength(1);
  });
});

describe('same class and arguments running at once', () => {
  const run = (jid: string, startedAt: string, overrides: Partial<ConcurrentRunRow> = {}) => ({
    instance: 'default',
    jobClass: 'SyncJob',
    argsDigest: 'd1',
    argsPreview: '[42]',
    jid,
    startedAt: new Date(startedAt),
    hostname: 'host-a',
    pid: 1,
    tid: 't1',
    ...overrides,
  });

  it('puts the runs side by side, one finding per class and arguments', () => {
    const [finding, ...rest] = findConcurrentArguments([
      run('aaa', '2026-12-04T11:00:00Z'),
      run('bbb', '2026-12-04T11:00:05Z', { hostname: 'host-b', pid: 2, tid: 't2' }),
      run('ccc', '2026-12-04T11:00:09Z'),
    ]);
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      identity: 'duplicate:default:args:SyncJob:d1',
      jid: 'ccc',
      summary:
        '3 runs of SyncJob with the same arguments at once, a class declared unique (DETECTOR_UNIQUE_CLASSES): aaa on host-a:1 since 2026-12-04T11:00:00Z and bbb on host-b:2 since 2026-12-04T11:00:05Z and 1 more',
      evidence: {
        kind: 'same_arguments',
        arguments_preview: '[42]',
        running: 3,
        runs: [
          { jid: 'aaa', hostname: 'host-a', pid: 1, started_at: '2026-12-04T11:00:00.000Z' },
          { jid: 'bbb', hostname: 'host-b', pid: 2, started_at: '2026-12-04T11:00:05.000Z' },
          { jid: 'ccc' },
        ],
      },
    });
  });

  it('keeps instances, classes and arguments apart, and a lone run is no finding', () => {
    expect(
      findConcurrentArguments([
        run('aaa', '2026-12-04T11:00:00Z'),
        run('bbb', '2026-12-04T11:00:00Z', { argsDigest: 'd2' }),
        run('ccc', '2026-12-04T11:00:00Z', { instance: 'eu' }),
        run('ddd', '2026-12-04T11:00:00Z', { jobClass: 'OtherJob' }),
      ]),
    ).toEqual([]);
  });
});
