import pg from 'pg';
import { makeJid } from '../../factories/job-event.factory.js';
import { LifecycleMetricsService } from '../../../src/metrics/lifecycle-metrics.service.js';
import { MetricsRegistry } from '../../../src/metrics/metrics-registry.js';
import { TestApp } from '../../support/test-context.js';

// a succeeded job: its row (class and queue are the job's) and its event
const INSERT = `with j as (
    insert into jobs (instance, jid, job_class, queue, status, attempt, event_count, first_event_at,
      last_event_at)
    values ('default', $1, $2, 'q', 'succeeded', 0, 1, now(), now()) returning id)
  insert into job_events (job_id, type, occurred_at, client_time, attempt, duration_ms)
  select id, 'succeeded', now(), true, 0, 10 from j
  returning id::text as id`;

// The poller reads job_events by id after a high-water mark. Ids are taken at insert time but
// transactions commit in any order: an event that commits late, below the mark, must still count.
describe('LifecycleMetricsService (integration)', () => {
  let ctx: TestApp;

  beforeAll(async () => {
    ctx = await TestApp.start({ env: { STATSD_HOST: '', METRICS_PUBLIC: 'false' } });
  });

  afterAll(async () => {
    await ctx?.close();
  });

  const succeeded = async (jobClass: string) => {
    const metric = await ctx.get(MetricsRegistry).succeeded.get();
    return metric.values.find((v) => v.labels.job_class === jobClass)?.value ?? 0;
  };

  it('counts an event whose transaction commits after a later one was read', async () => {
    const sut = ctx.get(LifecycleMetricsService);
    const slow = new pg.Client({ connectionString: ctx.db.url });
    await slow.connect();
    try {
      await slow.query('begin');
      const early = await slow.query<{ id: string }>(INSERT, [makeJid(), 'SlowCommitJob']);
      const late = await ctx.db.sql.query<{ id: string }>(INSERT, [makeJid(), 'FastCommitJob']);
      expect(BigInt(early.rows[0].id)).toBeLessThan(BigInt(late.rows[0].id));

      await sut.poll();
      expect(await succeeded('FastCommitJob')).toBe(1);
      expect(await succeeded('SlowCommitJob')).toBe(0);

      await slow.query('commit');
      await sut.poll();
      expect(await succeeded('SlowCommitJob')).toBe(1);
      await sut.poll();
      expect(await succeeded('SlowCommitJob')).toBe(1);
      expect(await succeeded('FastCommitJob')).toBe(1);
    } finally {
      await slow.end();
    }
  });

  it('reads a backlog larger than one batch in one poll, each event once', async () => {
    const sut = ctx.get(LifecycleMetricsService);
    await ctx.db.sql.query(
      `with j as (
         insert into jobs (instance, jid, job_class, queue, status, attempt, event_count,
           first_event_at, last_event_at)
         select 'default', 'bulk' || g, 'BulkJob', 'q', 'succeeded', 0, 1, now(), now()
         from generate_series(1, 12000) g returning id)
       insert into job_events (job_id, type, occurred_at, client_time, attempt)
       select id, 'succeeded', now(), true, 0 from j`,
    );
    await sut.poll();
    expect(await succeeded('BulkJob')).toBe(12000);
    await sut.poll();
    expect(await succeeded('BulkJob')).toBe(12000);
  });
});
