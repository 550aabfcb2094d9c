import request from 'supertest';
import { MAX_OFFSET } from '../../src/common/validation/paging.js';
import { makeJid } from '../factories/job-event.factory.js';
import { TEST_TOKEN, TestApp } from '../support/test-context.js';

describe('JobManager over REST (e2e)', () => {
  let ctx: TestApp;
  const auth = { 'PRIVATE-TOKEN': TEST_TOKEN };
  const marker = `m-${makeJid().slice(0, 10)}`;
  const jids = Array.from({ length: 3 }, () => makeJid());

  beforeAll(async () => {
    ctx = await TestApp.start();
    const events = jids.flatMap((jid, i) => [
      {
        type: 'queued',
        job_id: jid,
        occurred_at: '2026-11-23T10:00:00Z',
        job_class: 'RestJob',
        arguments: JSON.stringify([marker, i]),
      },
      { type: 'started', job_id: jid, occurred_at: '2026-11-23T10:00:01Z' },
      { type: 'succeeded', job_id: jid, occurred_at: `2026-11-23T10:00:0${2 + i}Z` },
    ]);
    await request(ctx.http).post('/api/v1/events').set(auth).send({ events }).expect(200);
  });

  afterAll(async () => {
    await ctx?.close();
  });

  it('lists completed jobs filtered by arguments, with offset paging', async () => {
    const first = await request(ctx.http)
      .get('/api/v1/job-manager/completed-jobs')
      .query({ filter: marker, limit: 2 })
      .set(auth)
      .expect(200);
    expect(first.body).toMatchObject({ limit: 2, offset: 0, next_offset: 2 });
    const second = await request(ctx.http)
      .get('/api/v1/job-manager/completed-jobs')
      .query({ filter: marker, limit: 2, offset: 2 })
      .set(auth)
      .expect(200);
    expect(second.body.next_offset).toBeNull();
    const seen = [...first.body.jobs, ...second.body.jobs].map((j: { job_id: string }) => j.job_id);
    expect(seen.sort()).toEqual([...jids].sort());
    const none = await request(ctx.http)
      .get('/api/v1/job-manager/uncompleted-jobs')
      .query({ filter: marker })
      .set(auth)
      .expect(200);
    expect(none.body.jobs).toEqual([]);
  });

  it('reports started-to-completion durations', async () => {
    const res = await request(ctx.http)
      .get('/api/v1/job-manager/completed-jobs-durations')
      .query({ filter: marker })
      .set(auth)
      .expect(200);
    const byJid = Object.fromEntries(
      res.body.durations.map((d: { job_id: string; duration_ms: number }) => [
        d.job_id,
        d.duration_ms,
      ]),
    );
    expect(byJid).toEqual({ [jids[0]]: 1000, [jids[1]]: 2000, [jids[2]]: 3000 });
  });

  it('validates paging and needs the read scope', async () => {
    const bad = await request(ctx.http)
      .get('/api/v1/job-manager/all-jobs')
      .query({ limit: 5000 })
      .set(auth)
      .expect(400);
    expect(bad.body.details.errors[0].field).toBe('limit');
    const ingest = await request(ctx.http)
      .post('/api/v1/tokens')
      .set(auth)
      .send({ name: 'i', scopes: ['ingest'] })
      .expect(201);
    await request(ctx.http)
      .get('/api/v1/job-manager/all-jobs')
      .set('PRIVATE-TOKEN', ingest.body.token)
      .expect(403);
  });

  it('refuses offsets past MAX_OFFSET on every list with 400 naming offset, and serves the last one', async () => {
    const lists = [
      'queued-jobs',
      'uncompleted-jobs',
      'completed-jobs',
      'failed-jobs',
      'all-jobs',
      'lost-jobs',
      'queued-to-completion-durations',
      'completed-jobs-durations',
    ];
    for (const list of lists) {
      for (const offset of ['99999999999999999999', '1e21', String(MAX_OFFSET + 1)]) {
        const res = await request(ctx.http)
          .get(`/api/v1/job-manager/${list}`)
          .query({ offset })
          .set(auth)
          .expect(400);
        expect(res.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
        expect(res.body.details.errors).toEqual([
          { field: 'offset', message: expect.stringContaining('narrow the window with from/to') },
        ]);
      }
      const last = await request(ctx.http)
        .get(`/api/v1/job-manager/${list}`)
        .query({ offset: MAX_OFFSET, filter: marker })
        .set(auth)
        .expect(200);
      expect(last.body).toMatchObject({ offset: MAX_OFFSET, next_offset: null });
    }
  });
});
