import request from 'supertest';
import { TaskScheduler } from '../../src/scheduler/task.scheduler.js';
import { makeJid } from '../factories/job-event.factory.js';
import { TEST_TOKEN, TestApp } from '../support/test-context.js';

const BACKTRACE = [
  "/usr/local/bundle/gems/faraday-2.9.0/lib/faraday/response/raise_error.rb:30:in `on_complete'",
  "/app/app/services/stripe_client.rb:41:in `charge'",
  "/app/app/jobs/charge_job.rb:9:in `perform'",
];

function failure(jobClass: string, message: string, at: Date): Record<string, unknown>[] {
  const jid = makeJid();
  return [
    {
      type: 'queued',
      job_id: jid,
      job_class: jobClass,
      queue: 'default',
      occurred_at: at.toISOString(),
    },
    {
      type: 'failed',
      job_id: jid,
      occurred_at: at.toISOString(),
      will_retry: false,
      error_class: 'Faraday::ServerError',
      error_message: message,
      error_backtrace: BACKTRACE,
    },
  ];
}

describe('failures and deploys (e2e)', () => {
  let ctx: TestApp;
  let readToken: string;
  let ingestToken: string;

  beforeAll(async () => {
    ctx = await TestApp.start();
    const token = async (scopes: string[]) =>
      (
        await request(ctx.http)
          .post('/api/v1/tokens')
          .set('PRIVATE-TOKEN', TEST_TOKEN)
          .send({ name: scopes.join('-'), scopes })
          .expect(201)
      ).body.token as string;
    readToken = await token(['read']);
    ingestToken = await token(['ingest']);
  });

  afterAll(async () => {
    await ctx?.close();
  });

  const get = (path: string, token = readToken) =>
    request(ctx.http).get(path).set('PRIVATE-TOKEN', token);
  const postDeploy = (body: Record<string, unknown>, token = ingestToken) =>
    request(ctx.http).post('/api/v1/deploys').set('PRIVATE-TOKEN', token).send(body);

  describe('POST /api/v1/deploys', () => {
    it('records a deploy once per instance and revision: 201, then 200 with the first one', async () => {
      const first = await postDeploy({
        revision: 'a1b2c3d',
        deployed_at: '2026-12-04T09:00:00Z',
      }).expect(201);
      expect(first.body).toMatchObject({
        instance: 'default',
        revision: 'a1b2c3d',
        deployed_at: '2026-12-04T09:00:00.000Z',
        created: true,
      });
      const again = await postDeploy({
        revision: 'a1b2c3d',
        deployed_at: '2026-12-04T10:00:00Z',
      }).expect(200);
      expect(again.body).toMatchObject({
        id: first.body.id,
        deployed_at: '2026-12-04T09:00:00.000Z',
        created: false,
      });
      const other = await postDeploy({ revision: 'a1b2c3d', instance: 'eu' }).expect(201);
      expect(other.body.id).not.toBe(first.body.id);
    });

    it.each([
      [{}, 'revision'],
      [{ revision: '' }, 'revision'],
      [{ revision: 'x'.repeat(201) }, 'revision'],
      [{ revision: 'v1', deployed_at: 'yesterday' }, 'deployed_at'],
      [{ revision: 'v1', deployed_at: '2999-01-01T00:00:00Z' }, 'deployed_at'],
      [{ revision: 'v1', instance: 'no spaces' }, 'instance'],
      [{ revision: 'v1', extra: 1 }, 'extra'],
    ])('refuses %j with 400 naming %s', async (body, field) => {
      const res = await postDeploy(body).expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.details.errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    it('needs the ingest scope to write and the read scope to list', async () => {
      await postDeploy({ revision: 'v9' }, readToken).expect(403);
      await get('/api/v1/deploys', ingestToken).expect(403);
      await get('/api/v1/failures', ingestToken).expect(403);
      await get('/api/v1/failures/0123456789abcdef', ingestToken).expect(403);
    });
  });

  describe('GET /api/v1/failures', () => {
    let fingerprint: string;

    beforeAll(async () => {
      await postDeploy({
        revision: 'before-failures',
        deployed_at: new Date(Date.now() - 3_600_000).toISOString(),
      }).expect(201);
      const at = new Date(Date.now() - 60_000);
      await ctx.postEvents([
        ...failure('ChargeJob', 'the server responded with status 503 for order 1', at),
        ...failure('ChargeJob', 'the server responded with status 503 for order 2', at),
        ...failure('RefundJob', 'the server responded with status 503 for order 3', at),
      ]);
      expect(await ctx.get(TaskScheduler).tick('fingerprints', new Date())).toBe('ran');
    });

    it('lists fingerprints with counts, classes, a sample, the trend and new_since_deploy', async () => {
      const res = await get('/api/v1/failures?sort=count').expect(200);
      expect(res.body).toMatchObject({ limit: 20, offset: 0, next_offset: null });
      expect(res.body.failures).toHaveLength(1);
      const [group] = res.body.failures;
      expect(group).toMatchObject({
        instance: 'default',
        error_class: 'Faraday::ServerError',
        message: 'the server responded with status <n> for order <n>',
        frame: '/app/app/services/stripe_client.rb in charge',
        count: 3,
        job_classes: ['ChargeJob', 'RefundJob'],
        job_classes_truncated: false,
        new_since_deploy: true,
        last_deploy: { revision: 'before-failures' },
      });
      expect(group.fingerprint).toMatch(/^[0-9a-f]{16}$/);
      expect(group.sample.jid).toMatch(/^[0-9a-f]{24}$/);
      expect(group.trend).toHaveLength(24);
      expect(group.trend.reduce((n: number, t: { count: number }) => n + t.count, 0)).toBe(3);
      fingerprint = group.fingerprint;

      const metrics = await get('/metrics').expect(200);
      expect(metrics.text).toContain(
        'sidekiq_supervisor_failure_fingerprints_new{sidekiq_instance="default"} 1',
      );
    });

    it('filters by class, instance and time, and pages', async () => {
      const ofClass = await get('/api/v1/failures?job_class=RefundJob').expect(200);
      expect(ofClass.body.failures).toHaveLength(1);
      expect((await get('/api/v1/failures?job_class=NoSuchJob').expect(200)).body.failures).toEqual(
        [],
      );
      expect((await get('/api/v1/failures?instance=eu').expect(200)).body.failures).toEqual([]);
      const later = new Date(Date.now() + 60_000).toISOString();
      expect(
        (await get(`/api/v1/failures?since=${encodeURIComponent(later)}`).expect(200)).body
          .failures,
      ).toEqual([]);
      const page = await get('/api/v1/failures?limit=1&offset=1').expect(200);
      expect(page.body).toMatchObject({ limit: 1, offset: 1, next_offset: null, failures: [] });
    });

    it('shows one fingerprint with its trend, 404 for an unknown one', async () => {
      const res = await get(`/api/v1/failures/${fingerprint}?hours=48`).expect(200);
      expect(res.body).toMatchObject({ fingerprint, count: 3 });
      expect(res.body.trend).toHaveLength(48);
      const missing = await get('/api/v1/failures/0123456789abcdef').expect(404);
      expect(missing.body.code).toBe('NOT_FOUND');
      await get(`/api/v1/failures/${fingerprint}?instance=eu`).expect(404);
    });

    it.each([
      ['/api/v1/failures?limit=101', 'limit'],
      ['/api/v1/failures?offset=50001', 'offset'],
      ['/api/v1/failures?sort=random', 'sort'],
      ['/api/v1/failures?since=soon', 'since'],
      ['/api/v1/failures/NOTHEX', 'fingerprint'],
      ['/api/v1/failures/0123456789abcdef?hours=721', 'hours'],
      ['/api/v1/deploys?window_minutes=0', 'window_minutes'],
      ['/api/v1/deploys?limit=21', 'limit'],
    ])('refuses %s with 400 naming %s', async (path, field) => {
      const res = await get(path).expect(400);
      expect(res.body.details.errors.map((e: { field: string }) => e.field)).toContain(field);
    });
  });

  describe('GET /api/v1/deploys', () => {
    it('lists deploys newest first with the classes around each, in the window asked for', async () => {
      const res = await get('/api/v1/deploys?instance=default&window_minutes=120').expect(200);
      expect(res.body.next_offset).toBeNull();
      expect(res.body.deploys.map((d: { revision: string }) => d.revision)).toEqual([
        'before-failures',
        'a1b2c3d',
      ]);
      const [latest] = res.body.deploys;
      expect(latest).toMatchObject({ window_minutes: 120, after_window_complete: false });
      // the failures reported above ended their jobs (failed, no retry) after this deploy
      const charge = latest.classes.find((c: { job_class: string }) => c.job_class === 'ChargeJob');
      expect(charge).toMatchObject({
        before: { count: 0, failed: 0 },
        after: { count: 2, failed: 2, failure_rate: 100 },
        failure_rate_change: 100,
        regressed: false,
      });
      const page = await get('/api/v1/deploys?limit=1').expect(200);
      expect(page.body.deploys).toHaveLength(1);
      expect(page.body.next_offset).toBe(1);
    });
  });
});
