import request from 'supertest';
import { Redis } from 'ioredis';
import { makeJid } from '../factories/job-event.factory.js';
import { TEST_TOKEN, TestApp } from '../support/test-context.js';

// Regressions for issue #19's defects 2-5, 7, 8 and 12: bodies that cannot be read, deep nesting,
// NUL and lone surrogates, dates JavaScript cannot read, byte limits, and the one error shape.
describe('Input that used to crash or mislead the service (e2e)', () => {
  let ctx: TestApp;
  let redis: Redis;
  const auth = { 'PRIVATE-TOKEN': TEST_TOKEN };
  const http = () => request(ctx.http);
  const deep = (levels: number, leaf: unknown = 1): string =>
    '['.repeat(levels) + JSON.stringify(leaf) + ']'.repeat(levels);

  beforeAll(async () => {
    ctx = await TestApp.start();
    redis = new Redis(process.env.REDIS_URL!);
  });

  afterAll(async () => {
    redis?.disconnect();
    await ctx?.close();
  });

  const expectShape = (body: Record<string, unknown>, status: number, code: string) => {
    expect(body).toMatchObject({ statusCode: status, code });
    expect(typeof body.message).toBe('string');
    expect(body.details).toBeTypeOf('object');
    expect(body.details).not.toBeNull();
  };

  describe('a body that cannot be read never acts as an empty one', () => {
    it('refuses a text/plain restart body with 415 and pushes nothing to Redis', async () => {
      const jid = makeJid();
      await http()
        .post('/api/v1/events')
        .set(auth)
        .send({
          events: [
            {
              type: 'queued',
              job_id: jid,
              occurred_at: '2026-01-01T00:00:00Z',
              job_class: 'LostJob',
              queue: 'hardening',
              arguments: '["x"]',
            },
            {
              type: 'started',
              job_id: jid,
              occurred_at: '2026-01-01T00:00:01Z',
              hostname: 'gone-host',
              pid: 1,
            },
          ],
        })
        .expect(200);
      const res = await http()
        .post('/api/v1/job-manager/restart-uncompleted-jobs')
        .set(auth)
        .set('Content-Type', 'text/plain')
        .send(JSON.stringify({ dry_run: true, limit: 1 }))
        .expect(415);
      expectShape(res.body, 415, 'UNSUPPORTED_MEDIA_TYPE');
      expect(res.body.details.field).toBe('content-type');
      expect(await redis.llen('queue:hardening')).toBe(0);
    });

    it('refuses a body without a Content-Type with 415', async () => {
      const res = await http()
        .post('/api/v1/tokens')
        .set(auth)
        .set('Content-Type', '')
        .send(Buffer.from('{"name":"x","scopes":["read"]}'))
        .expect(415);
      expectShape(res.body, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('refuses a form body on a route that documents JSON only, and keeps forms on ingest', async () => {
      const res = await http()
        .post('/api/v1/job-manager/restart-uncompleted-jobs')
        .set(auth)
        .type('form')
        .send('dry_run=true')
        .expect(415);
      expect(res.body.details.accepted).toEqual(['application/json']);
      await http()
        .post('/api/v1/jobs')
        .set(auth)
        .type('form')
        .send(`job_id=${makeJid()}&job_class=FormJob&queue=default&arguments=[1]`)
        .expect(201);
    });

    it('requires the options of changes that cannot be undone', async () => {
      const restart = await http()
        .post('/api/v1/job-manager/restart-uncompleted-jobs')
        .set(auth)
        .send({})
        .expect(400);
      expect(restart.body.details.errors.map((e: { field: string }) => e.field)).toContain(
        'dry_run',
      );
      await redis.rpush('queue:keepme', JSON.stringify({ jid: makeJid(), class: 'K', args: [] }));
      await redis.sadd('queues', 'keepme');
      for (const path of [
        '/api/v1/sidekiq/queues/keepme/clear',
        '/api/v1/sidekiq/sets/retry/retry-all',
        '/api/v1/sidekiq/sets/retry/kill-all',
        '/api/v1/sidekiq/sets/dead/clear',
      ]) {
        const res = await http().post(path).set(auth).expect(400);
        expect(res.body.details.errors[0].field).toBe('confirm');
      }
      expect(await redis.llen('queue:keepme')).toBe(1);
      await redis.set('stat:processed', '9');
      const reset = await http().post('/api/v1/sidekiq/stats/reset').set(auth).expect(400);
      expect(reset.body.details.errors[0].field).toBe('counters');
      expect(await redis.get('stat:processed')).toBe('9');
      await http()
        .post('/api/v1/sidekiq/queues/keepme/clear')
        .set(auth)
        .send({ confirm: true })
        .expect(200);
      expect(await redis.llen('queue:keepme')).toBe(0);
    });
  });

  describe('deep nesting is a 400, not a stack overflow', () => {
    it.each([
      ['/api/v1/tokens', 'post', (d: string) => `{"name":"n","scopes":${d}}`],
      ['/api/v1/jobs/statuses', 'post', (d: string) => `{"jids":${d}}`],
      ['/api/v1/job-manager/restart-uncompleted-jobs', 'post', (d: string) => `{"filter":${d}}`],
      ['/api/v1/sidekiq/stats/reset', 'post', (d: string) => `{"counters":${d}}`],
      ['/api/v1/jobs/abc/data', 'put', (d: string) => `{"data":{"k":${d}}}`],
    ])('%s', async (path, method, body) => {
      const agent = http();
      const res = await (method === 'put' ? agent.put(path) : agent.post(path))
        .set(auth)
        .type('json')
        .send(body(deep(5_000)))
        .expect(400);
      expectShape(res.body, 400, 'VALIDATION_FAILED');
      expect(res.body.details.errors[0].field).toBe('body');
    });

    it('on the ingest routes, deep arguments are refused and shallow ones kept', async () => {
      for (const levels of [5_000, 20_000]) {
        const res = await http()
          .post('/api/v1/events')
          .set(auth)
          .type('json')
          .send(
            `{"events":[{"type":"queued","job_id":"${makeJid()}","arguments":${deep(levels)}}]}`,
          )
          .expect(400);
        expect(res.body.details.errors[0].field).toBe('body');
      }
      const jid = makeJid();
      await http()
        .post('/api/v1/jobs')
        .set(auth)
        .type('json')
        .send(`{"job_id":"${jid}","job_class":"DeepJob","arguments":${deep(100)}}`)
        .expect(201);
      const stored = await http().get(`/api/v1/jobs/${jid}`).set(auth).expect(200);
      expect(stored.body.arguments).toBe(deep(100));
    });
  });

  describe('NUL and lone surrogates are refused at the boundary (400 naming the field)', () => {
    it.each([
      ['/api/v1/jobs', { queue: 'a\u0000b' }, 'queue'],
      ['/api/v1/jobs', { job_class: 'A\u0000' }, 'job_class'],
      ['/api/v1/jobs', { arguments: 'x\u0000' }, 'arguments'],
      ['/api/v1/job-manager/all-jobs', { filter: '\u0000' }, 'filter'],
      ['/api/v1/job-manager/lost-jobs', { filter: 'a\u0000' }, 'filter'],
      ['/api/v1/metrics/jobs', { job_class: '\u0000' }, 'job_class'],
      ['/api/v1/metrics/jobs', { queue: 'q\u0000' }, 'queue'],
    ])('GET %s %j', async (path, query, field) => {
      const res = await http().get(path).query(query).set(auth).expect(400);
      expectShape(res.body, 400, 'VALIDATION_FAILED');
      expect(res.headers['retry-after']).toBeUndefined();
      expect(res.body.details.errors[0].field).toBe(field);
    });

    it('in a token name, job data and progress messages', async () => {
      const name = await http()
        .post('/api/v1/tokens')
        .set(auth)
        .send({ name: 'a\u0000b', scopes: ['read'] })
        .expect(400);
      expect(name.body.details.errors[0].field).toBe('name');
      const jid = makeJid();
      await http()
        .post('/api/v1/jobs')
        .set(auth)
        .send({ job_id: jid, job_class: 'DataJob' })
        .expect(201);
      const putData = (json: string) =>
        http().put(`/api/v1/jobs/${jid}/data`).set(auth).type('json').send(json);
      const surrogate = await putData('{"data":{"k":"\\ud800"}}').expect(400);
      expect(surrogate.body.details.errors[0].field).toBe('data.k');
      const key = await putData('{"data":{"\\udc00":"v"}}').expect(400);
      expect(key.body.details.errors[0].field).toBe('data.\udc00');
      await putData(JSON.stringify({ data: { k: 'pair \ud83d\ude00 ok' } })).expect(200);
      // the service still answers from the same connection pool afterwards
      await http().get('/api/v1/jobs').query({ queue: 'fine' }).set(auth).expect(200);
    });
  });

  describe('dates that JavaScript cannot read are refused by validation', () => {
    it.each([
      ['/api/v1/jobs', 'from', '2020-W01'],
      ['/api/v1/jobs', 'to', '2020-001'],
      ['/api/v1/stats/history', 'from', '2020-W01-1'],
      ['/api/v1/metrics/jobs', 'from', '2020-W01'],
      ['/api/v1/job-manager/all-jobs', 'to', '2021-02-30'],
    ])('GET %s %s=%s', async (path, field, value) => {
      const res = await http()
        .get(path)
        .query({ [field]: value })
        .set(auth)
        .expect(400);
      expect(res.body.details.errors[0].field).toBe(field);
    });

    it('expires_at on a token', async () => {
      const res = await http()
        .post('/api/v1/tokens')
        .set(auth)
        .send({ name: 'weekly', scopes: ['read'], expires_at: '2030-W01' })
        .expect(400);
      expect(res.body.details.errors[0].field).toBe('expires_at');
      // a month ahead (within TOKEN_MAX_DAYS), written with an offset
      const inAMonth = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 19);
      await http()
        .post('/api/v1/tokens')
        .set(auth)
        .send({ name: 'dated', scopes: ['read'], expires_at: `${inAMonth}+02:00` })
        .expect(201);
    });
  });

  it('limits job_class and queue in bytes, so a long non-ASCII name is a 400', async () => {
    const cjk = '字'.repeat(1_024); // 3,072 bytes
    const res = await http()
      .post('/api/v1/jobs')
      .set(auth)
      .send({ job_id: makeJid(), job_class: cjk, queue: cjk })
      .expect(400);
    expect(res.body.details.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'job_class',
      'queue',
    ]);
    // the longest names that are allowed are stored and indexed
    const jid = makeJid();
    const longest = '字'.repeat(341); // 1,023 bytes
    await http()
      .post('/api/v1/events')
      .set(auth)
      .send({
        events: [
          { type: 'queued', job_id: jid, job_class: longest, queue: longest, arguments: '[]' },
          { type: 'started', job_id: jid },
          { type: 'succeeded', job_id: jid },
        ],
      })
      .expect(200);
    const stored = await http().get(`/api/v1/jobs/${jid}`).set(auth).expect(200);
    expect(stored.body.job_class).toBe(longest);
    await http().get('/api/v1/jobs').query({ job_class: cjk }).set(auth).expect(400);
  });

  it('treats a process identity that names another key as unknown (404), reading and signalling nothing', async () => {
    await redis.zadd('dead', 1, 'x');
    await redis.set('stat:processed', '9');
    const deadBefore = await redis.zrange('dead', '0', '-1', 'WITHSCORES');
    for (const identity of ['dead', 'stat:processed']) {
      await http().get(`/api/v1/sidekiq/processes/${identity}`).set(auth).expect(404);
      const quiet = await http()
        .post(`/api/v1/sidekiq/processes/${identity}/quiet`)
        .set(auth)
        .expect(404);
      expect(quiet.body.code).toBe('PROCESS_NOT_FOUND');
      expect(await redis.exists(`${identity}-signals`)).toBe(0);
    }
    expect(await redis.zrange('dead', '0', '-1', 'WITHSCORES')).toEqual(deadBefore);
    expect(await redis.get('stat:processed')).toBe('9');
  });

  it('every error body carries details, {} when there is nothing more to say', async () => {
    const unauthorized = await http().get('/api/v1/jobs').expect(401);
    expect(unauthorized.body.details).toEqual({});
    const notFound = await http().get('/api/v1/no-such-route').set(auth).expect(404);
    expect(notFound.body.details).toEqual({});
    const missing = await http().get(`/api/v1/jobs/${makeJid()}`).set(auth).expect(404);
    expectShape(missing.body, 404, missing.body.code as string);
  });
});
