import request from 'supertest';
import { Redis } from 'ioredis';
import { JobsService } from '../../src/jobs/jobs.service.js';
import { TaskScheduler } from '../../src/scheduler/task.scheduler.js';
import { makeJid } from '../factories/job-event.factory.js';
import { flushDb, redisUrlForDb } from '../integration/sidekiq/sidekiq-test-app.js';
import { SidekiqWriter } from '../support/sidekiq-writer.js';
import { startBehindDatabaseProxy, TEST_TOKEN, TestApp } from '../support/test-context.js';

// The job status API (sidekiq-status's, durable): status names, bulk, progress, custom data,
// cancel of a scheduled job in Sidekiq's Redis, and expiry through the retention tick.
const REDIS = redisUrlForDb(4);
const T = '2026-11-23T10:00:0';

describe('job status API (e2e)', () => {
  let ctx: TestApp;
  let writer: SidekiqWriter;
  let redis: Redis;
  const admin = { 'PRIVATE-TOKEN': TEST_TOKEN };
  let read: Record<string, string>;
  let ingest: Record<string, string>;
  const http = () => request(ctx.http);

  const events = (jid: string, types: string[]) =>
    types.map((type, i) => ({
      type,
      job_id: jid,
      occurred_at: `${T}${i}Z`,
      ...(i === 0 ? { job_class: 'ReportJob', queue: 'reports', arguments: '[1]' } : {}),
      ...(type === 'failed' ? { error_class: 'E', will_retry: false } : {}),
    }));
  const seed = async (types: string[]) => {
    const jid = makeJid();
    await http()
      .post('/api/v1/events')
      .set(admin)
      .send({ events: events(jid, types) })
      .expect(200);
    return jid;
  };
  const token = async (scopes: string[]) => ({
    'PRIVATE-TOKEN': (
      await http()
        .post('/api/v1/tokens')
        .set(admin)
        .send({ name: `status-${scopes.join('-')}`, scopes })
        .expect(201)
    ).body.token as string,
  });

  beforeAll(async () => {
    await flushDb(REDIS);
    ctx = await TestApp.start({ env: { REDIS_URL: REDIS } });
    writer = SidekiqWriter.connect(REDIS);
    redis = new Redis(REDIS);
    read = await token(['read']);
    ingest = await token(['ingest']);
  });

  afterAll(async () => {
    await writer?.close();
    redis?.disconnect();
    await ctx?.close();
  });

  it.each([
    [['scheduled'], 'queued', 'scheduled'],
    [['queued'], 'queued', 'queued'],
    [['queued', 'started'], 'working', 'running'],
    [['queued', 'started', 'succeeded'], 'complete', 'succeeded'],
    [['queued', 'started', 'failed'], 'failed', 'failed'],
    [['queued', 'started', 'retrying'], 'retrying', 'retrying'],
    [['queued', 'started', 'dead'], 'failed', 'dead'],
    [['queued', 'started', 'interrupted'], 'interrupted', 'interrupted'],
  ])('names %j as sidekiq-status does: %s', async (types, status, ours) => {
    const jid = await seed(types);
    const res = await http().get(`/api/v1/jobs/${jid}/status`).set(read).expect(200);
    expect(res.body).toMatchObject({ jid, instance: 'default', status, job_status: ours });
    expect(res.body.pct_complete).toBe(status === 'complete' ? 100 : null);
    expect(res.body.update_time).toBe(Date.parse(`${T}${types.length - 1}Z`) / 1000);
  });

  it('names a job JobManager restarted (re-enqueued as a new jid) interrupted', async () => {
    const jid = await seed(['queued', 'started', 'dead']);
    const next = makeJid();
    await ctx
      .get(JobsService)
      .recordRestart(
        { instance: 'default', jid, attempt: 0 },
        { jid: next, jobClass: 'ReportJob', queue: 'reports', arguments: '[1]', payload: '{}' },
      );
    const res = await http().get(`/api/v1/jobs/${jid}/status`).set(read).expect(200);
    expect(res.body).toMatchObject({
      status: 'interrupted',
      job_status: 'restarted',
      restarted_as: next,
    });
    const fresh = await http().get(`/api/v1/jobs/${next}/status`).set(read).expect(200);
    expect(fresh.body).toMatchObject({ status: 'queued', job_status: 'queued' });
  });

  it('gives each route only to its scopes: ingest reports, read reads, admin cancels', async () => {
    const jid = await seed(['queued', 'started']);
    const forbidden: [Record<string, string>, string, string, object | undefined][] = [
      [read, 'post', `/api/v1/jobs/${jid}/progress`, { at: 1 }],
      [read, 'put', `/api/v1/jobs/${jid}/data`, { data: { a: 1 } }],
      [ingest, 'post', '/api/v1/jobs/statuses', { jids: [jid] }],
      [ingest, 'post', `/api/v1/jobs/${jid}/cancel`, undefined],
      [read, 'post', `/api/v1/jobs/${jid}/cancel`, undefined],
    ];
    for (const [who, method, url, body] of forbidden) {
      const res = await (method === 'put' ? http().put(url) : http().post(url)).set(who).send(body);
      expect([url, method, res.status, res.body.code]).toEqual([url, method, 403, 'FORBIDDEN']);
    }
    for (const url of [`/api/v1/jobs/${jid}/status`, `/api/v1/jobs/${jid}/data`]) {
      await http().get(url).expect(401);
      await http().get(url).set(ingest).expect(200);
      await http().get(url).set(read).expect(200);
    }
    await http().post(`/api/v1/jobs/${jid}/progress`).send({ at: 1 }).expect(401);
    // nothing of the refused writes was kept
    expect((await http().get(`/api/v1/jobs/${jid}/status`).set(read)).body).toMatchObject({
      at: null,
      data: {},
    });
  });

  it('answers 404 for a job nothing is known of, and 400 for a bad jid', async () => {
    const res = await http().get(`/api/v1/jobs/${makeJid()}/status`).set(read).expect(404);
    expect(res.body.code).toBe('JOB_NOT_FOUND');
    const bad = await http().get('/api/v1/jobs/bad%20jid/status').set(read).expect(400);
    expect(bad.body.details.errors[0].field).toBe('jid');
  });

  it('gives many statuses at once, in the order asked, null for unknown jids', async () => {
    const done = await seed(['queued', 'started', 'succeeded']);
    const running = await seed(['queued', 'started']);
    const unknown = makeJid();
    const res = await http()
      .post('/api/v1/jobs/statuses')
      .set(read)
      .send({ jids: [running, unknown, done] })
      .expect(200);
    expect(res.body.statuses.map((s: { jid: string }) => s.jid)).toEqual([running, unknown, done]);
    expect(
      res.body.statuses.map((s: { status: { status: string } | null }) => s.status?.status),
    ).toEqual(['working', undefined, 'complete']);
    expect(res.body.statuses[1].status).toBeNull();
    const tooMany = await http()
      .post('/api/v1/jobs/statuses')
      .set(read)
      .send({ jids: Array.from({ length: 1001 }, () => makeJid()) })
      .expect(400);
    expect(tooMany.body.details.errors[0].field).toBe('jids');
    await http().post('/api/v1/jobs/statuses').set(read).send({ jids: [] }).expect(400);
  });

  it('tells instances apart: one jid in two instances needs ?instance= (409 without)', async () => {
    const jid = makeJid();
    const send = (instance: string, type: string, at: string) =>
      http()
        .post('/api/v1/events')
        .set(ingest)
        .send({ events: [{ type, job_id: jid, instance, occurred_at: at }] })
        .expect(200);
    await send('default', 'succeeded', '2026-11-23T10:00:00Z');
    await send('eu', 'started', '2026-11-23T11:00:00Z');
    const both = await http().get(`/api/v1/jobs/${jid}/status`).set(read).expect(409);
    expect(both.body).toMatchObject({ code: 'CONFLICT', details: { field: 'instance' } });
    const eu = await http().get(`/api/v1/jobs/${jid}/status?instance=eu`).set(read).expect(200);
    expect(eu.body).toMatchObject({ instance: 'eu', status: 'working' });
    const bulk = (body: object) =>
      http().post('/api/v1/jobs/statuses').set(read).send(body).expect(200);
    // without an instance, the most recently changed of the two
    expect((await bulk({ jids: [jid] })).body.statuses[0].status).toMatchObject({
      instance: 'eu',
    });
    expect(
      (await bulk({ jids: [jid], instance: 'default' })).body.statuses[0].status,
    ).toMatchObject({ instance: 'default', status: 'complete' });
    // progress goes to the instance named, the other keeps none
    await http()
      .post(`/api/v1/jobs/${jid}/progress?instance=eu`)
      .set(ingest)
      .send({ at: 3, total: 4 })
      .expect(200);
    expect(
      (await http().get(`/api/v1/jobs/${jid}/status?instance=eu`).set(read)).body,
    ).toMatchObject({ pct_complete: 75 });
    expect(
      (await http().get(`/api/v1/jobs/${jid}/status?instance=default`).set(read)).body,
    ).toMatchObject({ at: null, pct_complete: 100 });
  });

  it('keeps progress: at / total / message, pct_complete from them', async () => {
    const jid = await seed(['queued', 'started']);
    const url = `/api/v1/jobs/${jid}/progress`;
    let res = await http().post(url).set(ingest).send({ at: 5, message: 'Almost' }).expect(200);
    // total defaults to 100, as in sidekiq-status
    expect(res.body).toMatchObject({ at: 5, total: null, pct_complete: 5, message: 'Almost' });
    res = await http().post(url).set(ingest).send({ total: 40 }).expect(200);
    expect(res.body).toMatchObject({ at: 5, total: 40, pct_complete: 12, message: 'Almost' });
    res = await http().post(url).set(ingest).send({ at: 30 }).expect(200);
    expect(res.body).toMatchObject({ at: 30, pct_complete: 75, message: null });
    // past the total: capped at 100 (the job is not complete until it says so)
    res = await http().post(url).set(ingest).send({ at: 50 }).expect(200);
    expect(res.body).toMatchObject({ at: 50, total: 40, pct_complete: 100, status: 'working' });
    res = await http().post(url).set(ingest).send({ total: 0 }).expect(200);
    expect(res.body.pct_complete).toBeNull();
    // progress before any lifecycle event: the job is working
    const early = makeJid();
    res = await http().post(`/api/v1/jobs/${early}/progress`).set(ingest).send({ at: 1 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'working', job_status: null, pct_complete: 1 });
  });

  it.each([
    [{}, 'at'],
    [{ at: -1 }, 'at'],
    [{ at: 1.5 }, 'at'],
    [{ total: 'ten' }, 'total'],
    [{ message: 'no at', total: 3 }, 'message'],
    [{ at: 1, message: 'a\u0000b' }, 'message'],
    [{ at: 1, extra: true }, 'extra'],
  ])('refuses progress %j naming %s', async (body, field) => {
    const jid = makeJid();
    const res = await http().post(`/api/v1/jobs/${jid}/progress`).set(ingest).send(body);
    expect(res.status).toBe(400);
    expect(res.body.details.errors.map((e: { field: string }) => e.field)).toContain(field);
    await http().get(`/api/v1/jobs/${jid}/status`).set(read).expect(404);
  });

  it('stores custom data: merged, null removes, read back by the job and by readers', async () => {
    const jid = await seed(['queued', 'started']);
    const url = `/api/v1/jobs/${jid}/data`;
    await http()
      .put(url)
      .set(ingest)
      .send({ data: { vino: 'veritas', n: 3 } })
      .expect(200);
    const res = await http()
      .put(url)
      .set(ingest)
      .send({ data: { n: null, done: true } })
      .expect(200);
    expect(res.body.data).toEqual({ vino: 'veritas', done: true });
    expect((await http().get(url).set(ingest).expect(200)).body.data).toEqual({
      vino: 'veritas',
      done: true,
    });
    const status = await http().get(`/api/v1/jobs/${jid}/status`).set(read).expect(200);
    expect(status.body.data).toEqual({ vino: 'veritas', done: true });
    expect(
      (await http().get(`/api/v1/jobs/${makeJid()}/data`).set(read).expect(200)).body.data,
    ).toEqual({});
  });

  it('refuses data over the limits, naming the field, and keeps what was stored', async () => {
    const jid = makeJid();
    const url = `/api/v1/jobs/${jid}/data`;
    await http()
      .put(url)
      .set(ingest)
      .send({ data: { keep: 'me' } })
      .expect(200);
    const cases: [unknown, string, number][] = [
      [{ 'bad key': 'x' }, 'data.bad key', 400],
      [{ nested: { a: 1 } }, 'data.nested', 400],
      [{ long: 'x'.repeat(4097) }, 'data.long', 400],
      [{ ['k'.repeat(65)]: 1 }, `data.${'k'.repeat(65)}`, 400],
      [{ list: [1] }, 'data.list', 400],
      [Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`m${i}`, i])), 'data', 400],
      [{}, 'data', 400],
      ['text', 'data', 400],
    ];
    for (const [data, field, code] of cases) {
      const res = await http().put(url).set(ingest).send({ data });
      expect(res.status).toBe(code);
      expect(res.body.details.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    // 50 keys at most in all, 16 KiB at most: the merge is checked where it happens
    const many = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i]));
    const over = await http().put(url).set(ingest).send({ data: many }).expect(413);
    expect(over.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { field: 'data' } });
    const big = Object.fromEntries(
      Array.from({ length: 5 }, (_, i) => [`b${i}`, 'y'.repeat(4000)]),
    );
    await http().put(url).set(ingest).send({ data: big }).expect(413);
    expect((await http().get(url).set(read).expect(200)).body.data).toEqual({ keep: 'me' });
  });

  it('cancels a scheduled job: gone from Sidekiq, recorded as cancelled', async () => {
    const at = Math.floor(Date.now() / 1000) + 3600;
    const { spec, raw } = await writer.schedule({ class: 'ReportJob', queue: 'reports' }, at);
    const other = await writer.schedule({}, at);
    // a read or ingest token may not cancel
    await http().post(`/api/v1/jobs/${spec.jid}/cancel`).set(read).expect(403);
    const res = await http().post(`/api/v1/jobs/${spec.jid}/cancel`).set(admin).expect(200);
    expect(res.body).toEqual({
      jid: spec.jid,
      instance: 'default',
      cancelled: true,
      class: 'ReportJob',
      queue: 'reports',
      scheduled_for: at,
    });
    const left = await redis.zrange('schedule', '0', '-1');
    expect(left).toEqual([other.raw]);
    const status = await http().get(`/api/v1/jobs/${spec.jid}/status`).set(read).expect(200);
    expect(status.body).toMatchObject({ status: 'cancelled', job_status: 'cancelled' });
    const job = await http().get(`/api/v1/jobs/${spec.jid}`).set(read).expect(200);
    expect(job.body).toMatchObject({
      job_class: 'ReportJob',
      queue: 'reports',
      arguments: spec.argsJson,
    });
    expect(job.body.events.map((e: { type: string }) => e.type)).toEqual(['cancelled']);
    expect(job.body.payload).toBe(raw);
    // again: no longer scheduled, nothing changes
    const again = await http().post(`/api/v1/jobs/${spec.jid}/cancel`).set(admin).expect(409);
    expect(again.body).toMatchObject({ code: 'NOT_SCHEDULED', details: { field: 'jid' } });
    expect(await redis.zcard('schedule')).toBe(1);
  });

  it('shows what really ran when a cancelled job still reports a start (race)', async () => {
    const at = Math.floor(Date.now() / 1000) + 3600;
    const { spec } = await writer.schedule({ class: 'ReportJob', queue: 'reports' }, at);
    const report = (type: string, second: number) =>
      http()
        .post('/api/v1/events')
        .set(ingest)
        .send({
          events: [
            {
              type,
              job_id: spec.jid,
              occurred_at: new Date(Date.now() + second * 1000).toISOString(),
            },
          ],
        })
        .expect(200);
    await report('scheduled', -10);
    await http().post(`/api/v1/jobs/${spec.jid}/cancel`).set(admin).expect(200);
    const status = () => http().get(`/api/v1/jobs/${spec.jid}/status`).set(read).expect(200);
    expect((await status()).body).toMatchObject({ status: 'cancelled', job_status: 'cancelled' });
    // a Sidekiq poller had already moved it to its queue: the start that follows wins
    await report('started', 5);
    expect((await status()).body).toMatchObject({ status: 'working', job_status: 'running' });
    await report('succeeded', 6);
    expect((await status()).body).toMatchObject({ status: 'complete', job_status: 'succeeded' });
  });

  it('puts the job back in the scheduled set when the cancel cannot be recorded (Postgres down)', async () => {
    const { ctx: cut, proxy } = await startBehindDatabaseProxy({ env: { REDIS_URL: REDIS } });
    try {
      const at = Math.floor(Date.now() / 1000) + 3600.25;
      const { spec, raw } = await writer.schedule({}, at);
      await proxy.cut();
      try {
        const res = await request(cut.http).post(`/api/v1/jobs/${spec.jid}/cancel`).set(admin);
        expect(res.status).toBe(503);
        expect(res.body.code).toBe('DATABASE_UNAVAILABLE');
        expect(await redis.zscore('schedule', raw)).toBe(String(at));
      } finally {
        await proxy.restore();
      }
      let res = await request(cut.http).post(`/api/v1/jobs/${spec.jid}/cancel`).set(admin);
      for (let i = 0; i < 50 && res.status === 503; i++) {
        res = await request(cut.http).post(`/api/v1/jobs/${spec.jid}/cancel`).set(admin);
      }
      expect(res.status).toBe(200);
      expect(await redis.zscore('schedule', raw)).toBeNull();
    } finally {
      await cut.close();
      await proxy.stop();
    }
  });

  it('does not let clients send a cancelled event themselves', async () => {
    const res = await http()
      .post('/api/v1/events')
      .set(ingest)
      .send({ events: [{ type: 'cancelled', job_id: makeJid() }] })
      .expect(400);
    expect(res.body.details.errors[0].field).toBe('events[0].type');
  });

  it('refuses to cancel in read-only mode, leaving the job scheduled', async () => {
    const readOnly = await TestApp.startOn(ctx.db, {
      env: { REDIS_URL: REDIS, SIDEKIQ_READ_ONLY: 'true' },
    });
    try {
      const { spec } = await writer.schedule({}, Math.floor(Date.now() / 1000) + 60);
      const res = await request(readOnly.http)
        .post(`/api/v1/jobs/${spec.jid}/cancel`)
        .set(admin)
        .expect(403);
      expect(res.body.code).toBe('READ_ONLY_MODE');
      expect((await redis.zrange('schedule', '0', '-1')).some((m) => m.includes(spec.jid))).toBe(
        true,
      );
    } finally {
      await readOnly.closeApp();
    }
  });

  it('expires the status data of jobs finished longer ago than the TTL, through retention', async () => {
    const finished = await seed(['queued', 'started', 'succeeded']);
    const running = await seed(['queued', 'started']);
    // progress for a jid that never reports a lifecycle event: nothing would ever finish it
    const orphan = makeJid();
    for (const jid of [finished, running, orphan]) {
      await http()
        .put(`/api/v1/jobs/${jid}/data`)
        .set(ingest)
        .send({ data: { a: 1 } })
        .expect(200);
    }
    const scheduler = ctx.get(TaskScheduler);
    // within the TTL (default 7 days) nothing goes
    expect(await scheduler.tick('retention', new Date(Date.now() + 60_000))).toBe('ran');
    for (const jid of [finished, orphan]) {
      expect((await http().get(`/api/v1/jobs/${jid}/data`).set(read)).body.data).toEqual({ a: 1 });
    }
    // 8 days on: the finished job's and the orphan's data are gone, the running job's kept, the
    // job itself kept
    expect(await scheduler.tick('retention', new Date(Date.now() + 8 * 86_400_000))).toBe('ran');
    expect((await http().get(`/api/v1/jobs/${finished}/data`).set(read)).body.data).toEqual({});
    expect((await http().get(`/api/v1/jobs/${running}/data`).set(read)).body.data).toEqual({
      a: 1,
    });
    expect((await http().get(`/api/v1/jobs/${orphan}/data`).set(read)).body.data).toEqual({});
    const status = await http().get(`/api/v1/jobs/${finished}/status`).set(read).expect(200);
    expect(status.body).toMatchObject({ status: 'complete', data: {} });
  });
});
