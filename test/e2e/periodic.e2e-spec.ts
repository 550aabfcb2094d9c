import { Redis } from 'ioredis';
import request from 'supertest';
import { saveCronJob } from '../factories/cron-job.factory.js';
import { saveSchedulerJob, schedulerKeys } from '../factories/scheduler-job.factory.js';
import { testRedisUrl } from '../support/app-with-sidekiq.js';
import { TEST_TOKEN, TestApp } from '../support/test-context.js';

const API = '/api/v1/sidekiq/periodic';

// The periodic-jobs routes in the real AppModule: token scopes, read-only mode, validation, errors.
describe('periodic jobs API (e2e)', () => {
  let ctx: TestApp;
  let redis: Redis;
  let read: string;
  let admin: string;
  const http = () => request(ctx.http);

  const token = async (scopes: string[]) =>
    (
      await http()
        .post('/api/v1/tokens')
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .send({ name: `periodic-${scopes.join('-')}`, scopes })
        .expect(201)
    ).body.token as string;

  beforeAll(async () => {
    const url = testRedisUrl(12);
    redis = new Redis(url, { maxRetriesPerRequest: 1 });
    await redis.flushdb();
    await saveCronJob(redis, { name: 'cleanup', args: '[1]' });
    await saveCronJob(redis, { name: 'nightly report', cron: '0 3 * * *', status: 'disabled' });
    await saveSchedulerJob(redis, {
      name: 'sched_ping',
      config: { every: '5m', class: 'PingJob', args: [2] },
    });
    ctx = await TestApp.start({ env: { REDIS_URL: url } });
    read = await token(['read']);
    admin = await token(['admin']);
  });

  afterAll(async () => {
    await ctx?.close();
    await redis?.flushdb();
    await redis?.quit();
  });

  it('lists for the read scope, and needs a token', async () => {
    await http().get(API).expect(401);
    const res = await http().get(API).set('PRIVATE-TOKEN', read).expect(200);
    expect(res.body.jobs.map((j: { name: string }) => j.name)).toEqual([
      'cleanup',
      'nightly report',
      'sched_ping',
    ]);
    expect(res.body.jobs.map((j: { source: string }) => j.source)).toEqual([
      'sidekiq-cron',
      'sidekiq-cron',
      'sidekiq-scheduler',
    ]);
    expect(res.body.jobs[2]).toMatchObject({
      schedule_type: 'every',
      schedule: '5m',
      cron: null,
      args: '[2]',
      enabled: true,
    });
    expect(res.body.jobs[0]).toMatchObject({ args: '[1]', args_bytes: 3, status: 'never_run' });
  });

  it('changes only with the admin scope', async () => {
    for (const action of ['enable', 'disable', 'enqueue']) {
      for (const name of ['cleanup', 'sched_ping']) {
        const res = await http()
          .post(`${API}/${name}/${action}`)
          .set('PRIVATE-TOKEN', read)
          .expect(403);
        expect(res.body.code).toBe('FORBIDDEN');
      }
    }
    expect(await redis.hlen(schedulerKeys().states)).toBe(0);
    await http().post(`${API}/nightly%20report/enable`).set('PRIVATE-TOKEN', admin).expect(200);
    expect(await redis.hget('cron_job:nightly report', 'status')).toBe('enabled');
    const pushed = await http()
      .post(`${API}/cleanup/enqueue`)
      .set('PRIVATE-TOKEN', admin)
      .expect(200);
    expect(JSON.parse((await redis.lindex('queue:default', 0))!)).toMatchObject({
      class: 'CleanupJob',
      args: [1],
      jid: pushed.body.jid,
    });
    // the sidekiq-scheduler schedule, found by its name alone
    const off = await http()
      .post(`${API}/sched_ping/disable`)
      .set('PRIVATE-TOKEN', admin)
      .expect(200);
    expect(off.body).toMatchObject({ source: 'sidekiq-scheduler', enabled: false });
    expect(await redis.hget(schedulerKeys().states, 'sched_ping')).toBe('{"enabled":false}');
    const ping = await http()
      .post(`${API}/sched_ping/enqueue`)
      .set('PRIVATE-TOKEN', admin)
      .expect(200);
    expect(ping.body).toMatchObject({ source: 'sidekiq-scheduler', queue: 'default' });
    expect(JSON.parse((await redis.lindex('queue:default', 0))!)).toMatchObject({
      class: 'PingJob',
      args: [2],
      jid: ping.body.jid,
    });
  });

  it('validates paging and names, and says which instance or job is unknown', async () => {
    for (const query of ['per_page=0', 'per_page=101', 'page=0', 'page=x', 'instance=a%20b']) {
      const res = await http().get(`${API}?${query}`).set('PRIVATE-TOKEN', read).expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    }
    await http().post(`${API}/a%01b/enable`).set('PRIVATE-TOKEN', admin).expect(400);
    await http()
      .post(`${API}/${'x'.repeat(201)}/enable`)
      .set('PRIVATE-TOKEN', admin)
      .expect(400);
    const instance = await http()
      .get(`${API}?instance=elsewhere`)
      .set('PRIVATE-TOKEN', read)
      .expect(404);
    expect(instance.body.code).toBe('INSTANCE_NOT_FOUND');
    const job = await http().post(`${API}/gone/enqueue`).set('PRIVATE-TOKEN', admin).expect(404);
    expect(job.body.code).toBe('PERIODIC_JOB_NOT_FOUND');
    const source = await http()
      .post(`${API}/sched_ping/enable?source=resque`)
      .set('PRIVATE-TOKEN', admin)
      .expect(400);
    expect(source.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { errors: [expect.objectContaining({ field: 'source' })] },
    });
    // a name only the other gem has is not found in the one asked for
    const wrongGem = await http()
      .post(`${API}/sched_ping/disable?source=sidekiq-cron`)
      .set('PRIVATE-TOKEN', admin)
      .expect(404);
    expect(wrongGem.body).toMatchObject({
      code: 'PERIODIC_JOB_NOT_FOUND',
      details: { field: 'name' },
    });
  });

  it('refuses every change in read-only mode, and still lists', async () => {
    const readOnly = await TestApp.startOn(ctx.db, {
      env: { REDIS_URL: testRedisUrl(12), SIDEKIQ_READ_ONLY: 'true' },
    });
    try {
      const before = await redis.llen('queue:default');
      for (const action of ['enable', 'disable', 'enqueue']) {
        for (const name of ['cleanup', 'sched_ping']) {
          const res = await request(readOnly.http)
            .post(`${API}/${name}/${action}`)
            .set('PRIVATE-TOKEN', TEST_TOKEN)
            .expect(403);
          expect(res.body.code).toBe('READ_ONLY_MODE');
        }
      }
      expect(await redis.hget(schedulerKeys().states, 'sched_ping')).toBe('{"enabled":false}');
      // refused before the name is looked up: an unknown one too
      const unknown = await request(readOnly.http)
        .post(`${API}/gone/enable`)
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .expect(403);
      expect(unknown.body.code).toBe('READ_ONLY_MODE');
      expect(await redis.llen('queue:default')).toBe(before);
      expect(await redis.hget('cron_job:cleanup', 'status')).toBe('enabled');
      await request(readOnly.http).get(API).set('PRIVATE-TOKEN', TEST_TOKEN).expect(200);
    } finally {
      await readOnly.closeApp();
    }
  });
});
