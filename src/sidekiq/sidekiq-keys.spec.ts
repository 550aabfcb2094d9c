import { cronJobMember, cronJobName, SidekiqKeys, SidekiqSetName } from './sidekiq-keys.js';

describe('SidekiqKeys', () => {
  it('spells the keys Sidekiq uses, without a prefix by default', () => {
    const sut = new SidekiqKeys();
    expect(sut.queues).toBe('queues');
    expect(sut.queue('default')).toBe('queue:default');
    expect(sut.set(SidekiqSetName.Scheduled)).toBe('schedule');
    expect(sut.set(SidekiqSetName.Retry)).toBe('retry');
    expect(sut.set(SidekiqSetName.Dead)).toBe('dead');
    expect(sut.processes).toBe('processes');
    expect(sut.process('vm:1:ab')).toBe('vm:1:ab');
    expect(sut.work('vm:1:ab')).toBe('vm:1:ab:work');
    expect(sut.legacyWork('vm:1:ab')).toBe('vm:1:ab:workers');
    expect(sut.signals('vm:1:ab')).toBe('vm:1:ab-signals');
    expect(sut.stat('processed')).toBe('stat:processed');
    expect(sut.stat('failed', '2026-11-23')).toBe('stat:failed:2026-11-23');
    expect(sut.processCleanupLock).toBe('process_cleanup');
  });

  it('prefixes every key (never members) with a redis-namespace', () => {
    const sut = new SidekiqKeys('myapp');
    expect(sut.queues).toBe('myapp:queues');
    expect(sut.queue('default')).toBe('myapp:queue:default');
    expect(sut.set(SidekiqSetName.Dead)).toBe('myapp:dead');
    expect(sut.process('vm:1:ab')).toBe('myapp:vm:1:ab');
    expect(sut.signals('vm:1:ab')).toBe('myapp:vm:1:ab-signals');
    expect(sut.stat('processed', '2026-11-23')).toBe('myapp:stat:processed:2026-11-23');
  });
});

describe('sidekiq-cron keys', () => {
  it('spells them as sidekiq-cron 1.8 does, the prefix on keys and never on set members', () => {
    const sut = new SidekiqKeys('myapp');
    expect(sut.cronJobs).toBe('myapp:cron_jobs');
    expect(sut.cronJob('nightly')).toBe('myapp:cron_job:nightly');
    expect(sut.cronJobEnqueued('nightly')).toBe('myapp:cron_job:nightly:enqueued');
    expect(sut.cronJobJidHistory('nightly')).toBe('myapp:cron_job:nightly:jid_history');
    expect(cronJobMember('nightly')).toBe('cron_job:nightly');
    expect(new SidekiqKeys().cronJob('a:b')).toBe('cron_job:a:b');
  });

  it('reads a job name back from a cron_jobs member, and nothing from another shape', () => {
    expect(cronJobName('cron_job:a:b')).toBe('a:b');
    expect(cronJobName('cron_job:')).toBeNull();
    expect(cronJobName('other')).toBeNull();
  });
});
