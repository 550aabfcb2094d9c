import type { LifecycleEventRow } from '../jobs/job-metrics.service.js';
import { observe } from './lifecycle-metrics.js';
import { statsdSegment } from './statsd.service.js';

const row = (overrides: Partial<LifecycleEventRow>): LifecycleEventRow => ({
  id: '1',
  instance: 'default',
  type: 'queued',
  jobClass: 'HardWorker',
  queue: 'default',
  waitSeconds: null,
  runSeconds: null,
  ...overrides,
});

describe('observe', () => {
  const labels = { sidekiq_instance: 'default', job_class: 'HardWorker', queue: 'default' };

  it('turns a start into a queue wait and an end into an outcome and a run time', () => {
    expect(observe(row({ type: 'started', waitSeconds: 1.5 }))).toEqual({
      labels,
      waitSeconds: 1.5,
    });
    expect(observe(row({ type: 'succeeded', runSeconds: 0.25 }))).toEqual({
      labels,
      outcome: 'succeeded',
      runSeconds: 0.25,
    });
    expect(observe(row({ type: 'failed', runSeconds: 2 }))).toMatchObject({
      outcome: 'failed',
      runSeconds: 2,
    });
  });

  it('counts retrying as retried and dead as dead, without durations', () => {
    expect(observe(row({ type: 'retrying' }))).toEqual({ labels, outcome: 'retried' });
    expect(observe(row({ type: 'dead' }))).toEqual({ labels, outcome: 'dead' });
  });

  it('ignores events that change no metric; clamps clock skew to zero; names unknowns', () => {
    expect(observe(row({ type: 'queued' }))).toBeNull();
    expect(observe(row({ type: 'started' }))).toBeNull();
    expect(observe(row({ type: 'started', waitSeconds: -0.2 }))?.waitSeconds).toBe(0);
    expect(observe(row({ type: 'dead', jobClass: null, queue: null }))?.labels).toEqual({
      sidekiq_instance: 'default',
      job_class: 'unknown',
      queue: 'unknown',
    });
  });
});

describe('statsdSegment', () => {
  it('keeps a Ruby class name readable and free of StatsD separators', () => {
    expect(statsdSegment('Billing::Invoice.v2:x')).toBe('Billing__Invoice_v2_x');
  });
});
