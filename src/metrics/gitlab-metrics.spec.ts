import { mergeProcesses, mergeQueues, sumJobStats, toProcessMetric } from './gitlab-metrics.js';

describe('GitLab Sidekiq metrics mapping', () => {
  it('sums backlogs, keeps the largest latency in whole seconds, across instances', () => {
    const merged = mergeQueues([
      [
        { name: 'default', size: 3, latency: 12.9 },
        { name: 'mailers', size: 0, latency: 0 },
      ],
      [
        { name: 'default', size: 4, latency: 2.5 },
        { name: 'critical', size: 1, latency: 0.4 },
      ],
    ]);
    expect(merged).toEqual({
      critical: { backlog: 1, latency: 0 },
      default: { backlog: 7, latency: 12 },
      mailers: { backlog: 0, latency: 0 },
    });
  });

  it('writes started_at (epoch seconds) as ISO 8601 and keeps GitLab fields only', () => {
    const metric = toProcessMetric({
      hostname: 'worker-1',
      pid: 5649,
      tag: 'gitlab',
      started_at: 1_466_000_000.159,
      queues: ['default', 'mailers'],
      labels: ['reliable'],
      concurrency: 25,
      busy: 2,
    });
    expect(metric).toEqual({
      hostname: 'worker-1',
      pid: 5649,
      tag: 'gitlab',
      started_at: '2016-06-15T14:13:20.159Z',
      queues: ['default', 'mailers'],
      labels: ['reliable'],
      concurrency: 25,
      busy: 2,
    });
    expect(toProcessMetric({ ...metric, started_at: null }).started_at).toBeNull();
  });

  it('concatenates processes and sums job stats, dead from dead_size', () => {
    const p = {
      hostname: 'h',
      pid: 1,
      tag: null,
      started_at: 1,
      queues: [],
      labels: [],
      concurrency: 5,
      busy: 0,
    };
    expect(mergeProcesses([[p], [], [{ ...p, pid: 2 }]]).map((x) => x.pid)).toEqual([1, 2]);
    expect(
      sumJobStats([
        { processed: 10, failed: 1, enqueued: 2, dead_size: 3 },
        { processed: 5, failed: 0, enqueued: 1, dead_size: 1 },
      ]),
    ).toEqual({ processed: 15, failed: 1, enqueued: 3, dead: 4 });
    expect(sumJobStats([])).toEqual({ processed: 0, failed: 0, enqueued: 0, dead: 0 });
  });
});
