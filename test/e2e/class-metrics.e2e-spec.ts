import request from 'supertest';
import { makeJid } from '../factories/job-event.factory.js';
import { flushDb, redisUrlForDb } from '../integration/sidekiq/sidekiq-test-app.js';
import { TEST_TOKEN, TestApp } from '../support/test-context.js';

// GET /api/v1/metrics/classes and /classes/:job_class (the dashboard's Metrics page) over jobs
// that ran in the last hour: ReportJob 10 runs of 0.1 … 1.0 s after 2 s in the queue (2 of them
// dead), MailJob 3 runs of 40 ms, and a ReportJob two days ago (in 3d, not in 1h).
const REDIS = redisUrlForDb(12);

function run(
  jobClass: string,
  end: Date,
  runMs: number,
  waitMs: number,
  outcome: 'succeeded' | 'dead',
): Record<string, unknown>[] {
  const jid = makeJid();
  const started = new Date(end.getTime() - runMs);
  const queued = new Date(started.getTime() - waitMs);
  return [
    {
      type: 'queued',
      job_id: jid,
      job_class: jobClass,
      queue: 'default',
      occurred_at: queued.toISOString(),
    },
    { type: 'started', job_id: jid, occurred_at: started.toISOString() },
    outcome === 'succeeded'
      ? { type: 'succeeded', job_id: jid, occurred_at: end.toISOString(), duration_ms: runMs }
      : { type: 'dead', job_id: jid, occurred_at: end.toISOString(), error_class: 'KeyError' },
  ];
}

describe('per-class metrics API (e2e)', () => {
  let ctx: TestApp;
  let read: Record<string, string>;
  const http = () => request(ctx.http);
  const now = Date.now();

  beforeAll(async () => {
    await flushDb(REDIS);
    ctx = await TestApp.start({ env: { REDIS_URL: REDIS } });
    read = {
      'PRIVATE-TOKEN': (
        await http()
          .post('/api/v1/tokens')
          .set('PRIVATE-TOKEN', TEST_TOKEN)
          .send({ name: 'metrics reader', scopes: ['read'] })
          .expect(201)
      ).body.token as string,
    };
    const end = new Date(now - 10 * 60_000);
    await ctx.postEvents([
      ...Array.from({ length: 10 }, (_, i) =>
        run('ReportJob', end, (i + 1) * 100, 2_000, i >= 8 ? 'dead' : 'succeeded'),
      ).flat(),
      ...Array.from({ length: 3 }, () => run('MailJob', end, 40, 10, 'succeeded')).flat(),
      ...run('ReportJob', new Date(now - 2 * 86_400_000), 100, 0, 'succeeded'),
      ...run('Billing::InvoiceJob', new Date(now - 2 * 86_400_000), 2_500, 0, 'succeeded'),
    ]);
  });

  afterAll(() => ctx?.close());

  it('needs the read scope', async () => {
    await http().get('/api/v1/metrics/classes').expect(401);
  });

  it('lists the classes with jobs in the window, their counts and run p50/p95', async () => {
    const res = await http().get('/api/v1/metrics/classes?window=1h').set(read).expect(200);
    expect(res.body).toMatchObject({ window: '1h', truncated: false });
    expect(Date.parse(res.body.to) - Date.parse(res.body.from)).toBe(3_600_000);
    expect(res.body.classes).toEqual([
      { job_class: 'MailJob', processed: 3, failed: 0, run_p50: 0.04, run_p95: 0.04 },
      {
        job_class: 'ReportJob',
        processed: 10,
        failed: 2,
        run_p50: expect.closeTo(0.55, 6),
        run_p95: expect.closeTo(0.955, 6),
      },
    ]);
    const wide = await http()
      .get('/api/v1/metrics/classes?window=3d&limit=1')
      .set(read)
      .expect(200);
    // the first class by name only, and the others said to exist
    expect(wide.body.classes.map((c: { job_class: string }) => c.job_class)).toEqual([
      'Billing::InvoiceJob',
    ]);
    expect(wide.body.truncated).toBe(true);
    // a wider window takes in the runs of two days ago
    const three = await http().get('/api/v1/metrics/classes?window=3d').set(read).expect(200);
    expect(three.body.classes).toMatchObject([
      { job_class: 'Billing::InvoiceJob', processed: 1, run_p50: 2.5 },
      { job_class: 'MailJob', processed: 3 },
      { job_class: 'ReportJob', processed: 11 },
    ]);
  });

  it("gives one class's series, percentiles, wait and histogram", async () => {
    const res = await http()
      .get('/api/v1/metrics/classes/ReportJob?window=1h')
      .set(read)
      .expect(200);
    const body = res.body;
    expect(body).toMatchObject({
      job_class: 'ReportJob',
      instance: null,
      window: '1h',
      bucket_seconds: 60,
      processed: 10,
      succeeded: 8,
      failed: 2,
      failure_rate: 0.2,
    });
    expect(body.run_seconds.p50).toBeCloseTo(0.55, 6);
    expect(body.run_seconds.p99).toBeCloseTo(0.991, 6);
    expect(body.run_seconds.max).toBeCloseTo(1.0, 6);
    expect(body.wait_seconds.p50).toBeCloseTo(2.0, 3);
    expect(body.wait_seconds.p95).toBeCloseTo(2.0, 3);
    // 60 one-minute buckets, every job in the one that holds their end
    expect(body.series).toHaveLength(60);
    const hit = body.series.filter((b: { processed: number }) => b.processed > 0);
    expect(hit).toHaveLength(1);
    expect(hit[0]).toMatchObject({ processed: 10, failed: 2 });
    const endAt = now - 10 * 60_000;
    expect(Date.parse(hit[0].at)).toBeLessThanOrEqual(endAt);
    expect(Date.parse(hit[0].at) + 60_000).toBeGreaterThan(endAt);
    // Sidekiq's buckets: 26, the last open; 100 ms … 1 s land from [65, 100) to [750, 1100)
    expect(body.histogram).toHaveLength(26);
    expect(body.histogram.at(-1)).toEqual({ up_to_seconds: null, count: 0 });
    const counts = Object.fromEntries(
      body.histogram
        .filter((b: { count: number }) => b.count > 0)
        .map((b: { up_to_seconds: number; count: number }) => [b.up_to_seconds, b.count]),
    );
    // 100 ms → [0.1, 0.15); 500, 600, 700 → [0.5, 0.75); 800 and the dead runs' 900, 1000 (from
    // their times: no duration sent) → [0.75, 1.1)
    expect(Object.values(counts).reduce((a, b) => (a as number) + (b as number), 0)).toBe(10);
    expect(counts['0.15']).toBe(1);
    expect(counts['0.75']).toBe(3);
    expect(counts['1.1']).toBe(3);
  });

  it('narrows to an instance and to the window', async () => {
    const other = await http()
      .get('/api/v1/metrics/classes/ReportJob?window=1h&instance=eu')
      .set(read)
      .expect(404);
    expect(other.body.code).toBe('NOT_FOUND');
    const namespaced = await http()
      .get(`/api/v1/metrics/classes/${encodeURIComponent('Billing::InvoiceJob')}?window=3d`)
      .set(read)
      .expect(200);
    expect(namespaced.body).toMatchObject({ job_class: 'Billing::InvoiceJob', processed: 1 });
    expect(namespaced.body.run_seconds.p50).toBe(2.5);
    const week = await http()
      .get('/api/v1/metrics/classes/ReportJob?window=7d')
      .set(read)
      .expect(200);
    expect(week.body).toMatchObject({ processed: 11, bucket_seconds: 14_400 });
    expect(week.body.series).toHaveLength(42);
  });

  it('answers an unknown class with 404 and bad input with 400 naming the field', async () => {
    const missing = await http().get('/api/v1/metrics/classes/NopeJob').set(read).expect(404);
    expect(missing.body.code).toBe('NOT_FOUND');
    for (const [path, field] of [
      ['/api/v1/metrics/classes?window=2w', 'window'],
      ['/api/v1/metrics/classes?limit=501', 'limit'],
      ['/api/v1/metrics/classes/ReportJob?window=1y', 'window'],
      [`/api/v1/metrics/classes/${'A'.repeat(1025)}`, 'job_class'],
      ['/api/v1/metrics/classes/Report%00Job', 'job_class'],
      ['/api/v1/metrics/classes/ReportJob?instance=no%20such', 'instance'],
    ]) {
      const res = await http().get(path).set(read).expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(JSON.stringify(res.body.details)).toContain(field);
    }
  });
});
