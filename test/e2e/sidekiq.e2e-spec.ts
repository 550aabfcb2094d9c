import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AppModule } from '../../src/app.module.js';
import { configureApp } from '../../src/app.setup.js';
import { SidekiqModule } from '../../src/sidekiq/sidekiq.module.js';
import { TEST_TOKEN, TestDatabase } from '../support/test-context.js';
import { SidekiqWriter } from '../support/sidekiq-writer.js';
import { flushDb, redisUrlForDb } from '../integration/sidekiq/sidekiq-test-app.js';

const URL13 = redisUrlForDb(13);
const API = '/api/v1/sidekiq';

// The Sidekiq routes inside the real AppModule: token guard, scopes, error shape, OpenAPI.
// (SidekiqModule is imported next to AppModule, so this holds before and after AppModule wires it.)
describe('Sidekiq API (e2e)', () => {
  let app: INestApplication;
  let db: TestDatabase;
  let writer: SidekiqWriter;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    await flushDb(URL13);
    db = await TestDatabase.create();
    Object.assign(process.env, {
      DATABASE_URL: db.url,
      REDIS_URL: URL13,
      PRIVATE_TOKEN: TEST_TOKEN,
      NODE_ENV: 'test',
      LOG_LEVEL: 'error',
    });
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule, SidekiqModule],
    }).compile();
    app = configureApp(moduleRef.createNestApplication({ bodyParser: false, logger: ['error'] }));
    await app.init();
    writer = SidekiqWriter.connect(URL13);
  });

  afterAll(async () => {
    await writer?.close();
    await app?.close();
    await db?.drop();
  });

  const token = async (scopes: string[]) =>
    (
      await http()
        .post('/api/v1/tokens')
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .send({ name: `sidekiq-${scopes.join('-')}`, scopes })
        .expect(201)
    ).body.token as string;

  it('needs a token, lets read read, and only admin change', async () => {
    await writer.stat('processed', 7);
    await http().get(`${API}/stats`).expect(401);
    const read = await token(['read']);
    const ingest = await token(['ingest']);
    const stats = await http().get(`${API}/stats`).set('PRIVATE-TOKEN', read).expect(200);
    expect(stats.body.processed).toBe(7);
    await http().get(`${API}/stats`).set('PRIVATE-TOKEN', ingest).expect(403);
    const denied = await http()
      .post(`${API}/stats/reset`)
      .set('PRIVATE-TOKEN', read)
      .send({ counters: ['processed', 'failed'] })
      .expect(403);
    expect(denied.body).toMatchObject({ statusCode: 403, code: 'FORBIDDEN' });
    expect(await writer.redis.get('stat:processed')).toBe('7');
    await http()
      .post(`${API}/stats/reset`)
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .send({ counters: ['processed', 'failed'] })
      .expect(200);
    expect(await writer.redis.get('stat:processed')).toBe('0');
  });

  it('answers bad input with 400 in the common error shape, naming the field', async () => {
    for (const [path, field] of [
      [`${API}/sets/morgue`, 'set'],
      [`${API}/sets/retry?page=0`, 'page'],
      [`${API}/queues/default?per_page=9999`, 'per_page'],
      // (page − 1) × per_page past MAX_OFFSET (50,000)
      [`${API}/sets/retry?page=2002`, 'page'],
      [`${API}/queues/default?per_page=500&page=102`, 'page'],
      [`${API}/stats/history?start_date=yesterday`, 'start_date'],
    ] as const) {
      const res = await http().get(path).set('PRIVATE-TOKEN', TEST_TOKEN).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
      expect(res.body.details.errors.map((e: { field: string }) => e.field)).toEqual([field]);
    }
    // the deepest page within the cap is served
    const deepest = await http()
      .get(`${API}/sets/retry?page=2001`)
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(200);
    expect(deepest.body).toMatchObject({ page: 2001, per_page: 25, entries: [] });
  });

  it('writes job arguments with exact numbers, as JSON, and still answers errors the usual way', async () => {
    const args = '[18446744073709551617,3.0,1.0e+20,-0.0,{"n":[9007199254740993,0.1]}]';
    const { spec } = await writer.push({ class: 'ExactJob', queue: 'exact', argsJson: args });
    const res = await http()
      .get(`${API}/queues/exact/jobs/${spec.jid}`)
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.text).toContain(`"args":${args},`);
    expect(res.text).toContain(`"display_args":${args},`);
    expect(res.body.display_args_json).toBe(args);
    const page = await http()
      .get(`${API}/queues/exact`)
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(200);
    expect(page.text).toContain(`"args":${args},`);
    expect(page.body.jobs[0].jid).toBe(spec.jid);
    const missing = await http()
      .get(`${API}/queues/exact/jobs/${'0'.repeat(24)}`)
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(404);
    expect(missing.body).toMatchObject({ statusCode: 404, code: 'SIDEKIQ_JOB_NOT_FOUND' });
  });

  it('carries a payload over 64 KiB in a page as its start, size and jid; its own route gives it whole', async () => {
    const big = `["${'x'.repeat(3_000_000)}"]`;
    const small = await writer.push({ queue: 'bulky', argsJson: '[1]' });
    const huge = await writer.push(
      { queue: 'bulky', argsJson: big, class: 'HugeJob' },
      Date.now() - 60_000,
    );
    // the huge job is the oldest: the queue's latency comes from its clipped ends
    await writer.redis.lrem('queue:bulky', 0, huge.raw);
    await writer.redis.rpush('queue:bulky', huge.raw);
    const dead = await writer.dead({ argsJson: big, class: 'HugeDeadJob' }, 1_924_992_000);
    const page = await http()
      .get(`${API}/queues/bulky`)
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(200);
    expect(Buffer.byteLength(JSON.stringify(page.body))).toBeLessThan(20_000);
    expect(page.body.latency).toBeGreaterThan(50);
    const [newest, oldest] = page.body.jobs;
    expect(newest).toMatchObject({ jid: small.spec.jid, raw_clipped: false, raw: small.raw });
    expect(newest.raw_bytes).toBe(Buffer.byteLength(small.raw));
    expect(oldest).toMatchObject({
      jid: huge.spec.jid,
      decodable: false,
      raw_clipped: true,
      raw_bytes: Buffer.byteLength(huge.raw),
    });
    expect(huge.raw.startsWith(oldest.raw)).toBe(true);
    expect(oldest.raw.length).toBeLessThanOrEqual(2048);
    const deadPage = await http()
      .get(`${API}/sets/dead`)
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(200);
    const entry = deadPage.body.entries.find((e: { jid: string }) => e.jid === dead.spec.jid);
    expect(entry).toMatchObject({ raw_clipped: true, key: `1924992000.0-${dead.spec.jid}` });
    const whole = await http()
      .get(`${API}/queues/bulky/jobs/${huge.spec.jid}`)
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(200);
    expect(whole.body).toMatchObject({ raw_clipped: false, class: 'HugeJob', raw: huge.raw });
  });

  it('documents every Sidekiq route in the OpenAPI spec with its scope', async () => {
    const spec = (await http().get('/api/docs-json').expect(200)).body;
    const paths = Object.keys(spec.paths).filter((p) => p.startsWith(API));
    expect(paths.length).toBeGreaterThanOrEqual(15);
    expect(spec.paths[`${API}/queues`].get.tags).toEqual(['sidekiq']);
    expect(spec.paths[`${API}/queues`].get['x-scopes']).toEqual(['read']);
    expect(spec.paths[`${API}/queues/{name}/clear`].post['x-scopes']).toEqual(['admin']);
  });
});
