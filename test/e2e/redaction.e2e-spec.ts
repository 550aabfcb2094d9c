import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AppModule } from '../../src/app.module.js';
import { configureApp } from '../../src/app.setup.js';
import { saveCronJob } from '../factories/cron-job.factory.js';
import { saveSchedulerJob } from '../factories/scheduler-job.factory.js';
import { makeActiveJob, makeSidekiqJob } from '../factories/sidekiq-job.factory.js';
import { flushDb, redisUrlForDb } from '../integration/sidekiq/sidekiq-test-app.js';
import { SidekiqWriter } from '../support/sidekiq-writer.js';
import { TEST_TOKEN, TestDatabase } from '../support/test-context.js';

const REDIS = redisUrlForDb(12);
const API = '/api/v1/sidekiq';
const R = '[REDACTED]';
// secrets, each of a different rule
const PASSWORD = 'hunter2-pw';
const CARD = '4111 1111 1111 1111';
const BEARER = 'Bearer abcDEF123456ghi';
const STRIPE = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';
const BIG = '18446744073709551617';
const SECRETS = [PASSWORD, CARD, 'abcDEF123456ghi', STRIPE, 'kw-secret-9', 'aj-token-7'];

const expectClean = (text: string, where: string) => {
  for (const secret of SECRETS) {
    expect(text, `${where} holds ${secret}`).not.toContain(secret);
  }
};

// Redaction (#24) end to end: what reaches storage, what the history's search finds, and what the
// Sidekiq routes show per scope while Redis keeps the original.
describe('Redaction (e2e)', () => {
  let app: INestApplication;
  let db: TestDatabase;
  let writer: SidekiqWriter;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    await flushDb(REDIS);
    db = await TestDatabase.create();
    Object.assign(process.env, {
      DATABASE_URL: db.url,
      REDIS_URL: REDIS,
      PRIVATE_TOKEN: TEST_TOKEN,
      NODE_ENV: 'test',
      LOG_LEVEL: 'error',
      REDACT_CLASSES: 'VaultSyncJob,PaymentJob',
      REDACT_PATTERNS: '["ACME-[0-9]{6}"]',
    });
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = configureApp(moduleRef.createNestApplication({ bodyParser: false, logger: ['error'] }));
    await app.init();
    writer = SidekiqWriter.connect(REDIS);
  });

  afterAll(async () => {
    delete process.env.REDACT_CLASSES;
    delete process.env.REDACT_PATTERNS;
    await writer?.close();
    await app?.close();
    await db?.drop();
  });

  const token = async (scopes: string[]) =>
    (
      await http()
        .post('/api/v1/tokens')
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .send({ name: `redaction-${scopes.join('-')}`, scopes })
        .expect(201)
    ).body.token as string;

  const ingest = (events: unknown[]) =>
    http().post('/api/v1/events').set('PRIVATE-TOKEN', TEST_TOKEN).send({ events }).expect(200);

  const detail = async (jid: string) =>
    http().get(`/api/v1/jobs/${jid}`).set('PRIVATE-TOKEN', TEST_TOKEN).expect(200);

  describe('before storage', () => {
    it('stores arguments, payload, error and backtrace with [REDACTED] in place of each secret', async () => {
      const args = `[${BIG},{"user":"ann","Password":"${PASSWORD}","nested":[{"api_key":{"id":3}}]},"card ${CARD}","${BEARER}","ACME-123456 ok"]`;
      const payload = `{"retry":true,"queue":"default","class":"SignupJob","args":${args},"jid":"redact-plain-1","created_at":1795394268255}`;
      await ingest([
        {
          type: 'queued',
          job_id: 'redact-plain-1',
          job_class: 'SignupJob',
          queue: 'default',
          arguments: args,
          payload,
          occurred_at: '2026-12-04T10:00:00Z',
        },
        {
          type: 'failed',
          job_id: 'redact-plain-1',
          occurred_at: '2026-12-04T10:00:01Z',
          error_class: 'Stripe::AuthenticationError',
          error_message: `Invalid API Key provided: ${STRIPE} (password=${PASSWORD})`,
          error_backtrace: [`app/jobs/signup_job.rb:3:in 'perform' token=kw-secret-9`],
        },
      ]);
      const res = await detail('redact-plain-1');
      expectClean(res.text, 'GET /jobs/:jid');
      expect(JSON.parse(res.body.arguments as string)).toEqual([
        expect.anything(),
        { user: 'ann', Password: R, nested: [{ api_key: R }] },
        `card ${R}`,
        `Bearer ${R}`,
        `${R} ok`,
      ]);
      // the big integer is written back exactly, not through a double
      expect(res.body.arguments).toMatch(new RegExp(`^\\[${BIG},`));
      expect(res.body.payload).toContain(`"args":${res.body.arguments}`);
      expect(res.body.payload).toContain('"created_at":1795394268255');
      expect(res.body.error_message).toBe(`Invalid API Key provided: ${R} (password=${R})`);
      const failed = (res.body.events as { type: string; error_backtrace: string[] }[]).find(
        (e) => e.type === 'failed',
      )!;
      expect(failed.error_backtrace).toEqual([`app/jobs/signup_job.rb:3:in 'perform' token=${R}`]);

      // the stored rows themselves, job and timeline
      const rows = await db.sql.query<{ t: string }>(
        `select row_to_json(j)::text as t from jobs j where jid = 'redact-plain-1'
         union all select row_to_json(e)::text from job_events e
           join jobs j on j.id = e.job_id where j.jid = 'redact-plain-1'`,
      );
      expect(rows.rows.length).toBeGreaterThanOrEqual(3);
      for (const row of rows.rows) {
        expectClean(row.t, 'a stored row');
      }
      expect(rows.rows.some((r) => r.t.includes(R))).toBe(true);
    });

    it('argument search finds the job by its other arguments, never by a redacted secret', async () => {
      const search = (q: string) =>
        http()
          .get('/api/v1/jobs')
          .query({ arguments: q })
          .set('PRIVATE-TOKEN', TEST_TOKEN)
          .expect(200)
          .then((r) => (r.body.jobs as { job_id: string }[]).map((j) => j.job_id));
      expect(await search('ann')).toContain('redact-plain-1');
      for (const secret of [PASSWORD, CARD, 'abcDEF123456', 'ACME-123456']) {
        expect(await search(secret), secret).toEqual([]);
      }
      const manager = await http()
        .get('/api/v1/job-manager/all-jobs')
        .query({ filter: PASSWORD })
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .expect(200);
      expect(manager.body.jobs).toEqual([]);
    });

    it("reaches into Active Job's serialized arguments; display and raw arguments agree", async () => {
      const spec = makeActiveJob(
        'InvoiceJob',
        `[{"_aj_globalid":"gid://shop/User/7"},{"password":"${PASSWORD}","_aj_symbol_keys":["password"]},{"token":"aj-token-7","note":"x","_aj_ruby2_keywords":["token","note"]}]`,
        { jid: 'redact-aj-1' },
      );
      await ingest([
        {
          type: 'queued',
          job_id: spec.jid,
          job_class: spec.class,
          queue: 'default',
          arguments: spec.argsJson,
          occurred_at: '2026-12-04T10:00:00Z',
        },
      ]);
      const res = await detail('redact-aj-1');
      expectClean(res.text, 'Active Job');
      expect(res.body.job_class).toBe('InvoiceJob');
      expect(res.body.wrapper_class).toBe(spec.class);
      expect(JSON.parse(res.body.arguments as string)).toEqual([
        'gid://shop/User/7',
        { password: R },
        { token: R, note: 'x' },
      ]);
      expect(res.body.raw_arguments).toContain(`"_aj_symbol_keys":["password"]`);
      expect(res.body.active_job_id).toBe('0b7c6a2e-1111-4000-8000-000000000002');
    });

    it('stores no argument at all of a class in REDACT_CLASSES, wrapped or not', async () => {
      const payload = `{"class":"PaymentJob","args":["ann",42],"jid":"redact-class-1","queue":"q"}`;
      const wrapped = makeActiveJob('VaultSyncJob', '["harmless looking"]', {
        jid: 'redact-class-2',
      });
      await ingest([
        {
          type: 'queued',
          job_id: 'redact-class-1',
          job_class: 'PaymentJob',
          queue: 'q',
          arguments: '["ann",42]',
          payload,
          occurred_at: '2026-12-04T10:00:00Z',
        },
        {
          type: 'queued',
          job_id: wrapped.jid,
          job_class: wrapped.class,
          queue: 'default',
          arguments: wrapped.argsJson,
          occurred_at: '2026-12-04T10:00:00Z',
        },
      ]);
      const plain = await detail('redact-class-1');
      expect(plain.body.arguments).toBe(`["${R}"]`);
      expect(plain.body.payload).toBe(
        `{"class":"PaymentJob","args":["${R}"],"jid":"redact-class-1","queue":"q"}`,
      );
      const aj = await detail(wrapped.jid);
      expect(aj.body.job_class).toBe('VaultSyncJob');
      expect(aj.body.arguments).toBe(`["${R}"]`);
      expect(aj.body.raw_arguments).toBe(`["${R}"]`);
      expect(aj.text).not.toContain('harmless looking');
    });

    it("records a cancelled job with what Sidekiq held, redacted (the service's own event)", async () => {
      await writer.schedule(
        { jid: 'redact-cancel-1', argsJson: `[{"password":"${PASSWORD}"},"${BEARER}"]` },
        1924992000,
      );
      await http()
        .post('/api/v1/jobs/redact-cancel-1/cancel')
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .expect(200);
      const res = await detail('redact-cancel-1');
      expect(res.body.status).toBe('cancelled');
      expectClean(res.text, 'cancelled job');
      expect(res.body.arguments).toBe(`[{"password":"${R}"},"Bearer ${R}"]`);
    });

    it('redacts sidekiq-status progress messages and custom data', async () => {
      await http()
        .post('/api/v1/jobs/redact-plain-1/progress')
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .send({ at: 5, total: 10, message: `charging ${CARD}` })
        .expect(200);
      await http()
        .put('/api/v1/jobs/redact-plain-1/data')
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .send({ data: { session_id: 'abc', step: `auth ${BEARER}`, count: 3 } })
        .expect(200);
      const status = await http()
        .get('/api/v1/jobs/redact-plain-1/status')
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .expect(200);
      expectClean(status.text, 'job status');
      expect(status.text).toContain(`charging ${R}`);
      const data = await http()
        .get('/api/v1/jobs/redact-plain-1/data')
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .expect(200);
      expect(data.body.data).toEqual({ session_id: R, step: `auth Bearer ${R}`, count: 3 });
    });
  });

  describe('Sidekiq routes', () => {
    const args = `[${BIG},{"password":"${PASSWORD}","name":"ann"},"${BEARER}",3.0]`;

    it('show [REDACTED] to read and admin tokens, the original to a token with sensitive; Redis keeps it', async () => {
      const queued = makeSidekiqJob({ jid: 'rq1', queue: 'secrets', argsJson: args });
      const { raw } = await writer.push(queued);
      await writer.retry({ jid: 'rr1', queue: 'secrets', argsJson: args }, 1924992000, {
        message: `auth failed with ${BEARER}`,
      });
      const read = await token(['read']);
      const admin = await token(['admin']);
      const sensitive = await token(['read', 'sensitive']);

      for (const [who, t] of [
        ['read', read],
        ['admin', admin],
        ['bootstrap', TEST_TOKEN],
      ] as const) {
        for (const path of [
          `${API}/queues/secrets`,
          `${API}/queues/secrets/jobs/rq1`,
          `${API}/sets/retry`,
          `${API}/sets/retry/jobs/rr1`,
        ]) {
          const res = await http().get(path).set('PRIVATE-TOKEN', t).expect(200);
          expectClean(res.text, `${who} ${path}`);
          expect(res.text, `${who} ${path}`).toContain(R);
          // numbers stay exact in the redacted answer
          expect(res.text).toContain(BIG);
          expect(res.text).toContain('3.0');
        }
      }
      const job = await http()
        .get(`${API}/queues/secrets/jobs/rq1`)
        .set('PRIVATE-TOKEN', read)
        .expect(200);
      expect(job.body.display_args_json).toBe(
        `[${BIG},{"password":"${R}","name":"ann"},"Bearer ${R}",3.0]`,
      );
      expect(job.body.raw).toContain(`"args":[${BIG},{"password":"${R}","name":"ann"}`);
      const entry = await http()
        .get(`${API}/sets/retry/jobs/rr1`)
        .set('PRIVATE-TOKEN', read)
        .expect(200);
      expect(entry.body.error_message).toBe(`auth failed with Bearer ${R}`);

      const seen = await http()
        .get(`${API}/queues/secrets/jobs/rq1`)
        .set('PRIVATE-TOKEN', sensitive)
        .expect(200);
      expect(seen.body.raw).toBe(raw);
      expect(seen.text).toContain(PASSWORD);
      expect(seen.body.display_args_json).toBe(args);
      const seenEntry = await http()
        .get(`${API}/sets/retry/jobs/rr1`)
        .set('PRIVATE-TOKEN', sensitive)
        .expect(200);
      expect(seenEntry.body.error_message).toBe(`auth failed with ${BEARER}`);

      // a search finds an entry only by what the token is shown
      const search = async (t: string, q: string) =>
        (
          await http()
            .get(`${API}/sets/retry`)
            .query({ search: q })
            .set('PRIVATE-TOKEN', t)
            .expect(200)
        ).body as { size: number; entries: unknown[] };
      expect(await search(read, PASSWORD)).toMatchObject({ size: 0, entries: [] });
      expect(await search(admin, PASSWORD)).toMatchObject({ size: 0, entries: [] });
      expect((await search(read, 'ann')).size).toBe(1);
      expect((await search(sensitive, PASSWORD)).size).toBe(1);

      expect(await writer.redis.lrange('queue:secrets', 0, -1)).toEqual([raw]);
      const [retryRaw] = await writer.redis.zrange('retry', '0', '-1');
      expect(retryRaw).toContain(PASSWORD);
    });

    it('redacts the jobs workers are running, and hides a REDACT_CLASSES class whole', async () => {
      const running = makeSidekiqJob({ jid: 'rw1', queue: 'secrets', argsJson: args });
      await writer.heartbeat({
        identity: 'redact-host:1:abc',
        hostname: 'redact-host',
        pid: 1,
        startedAt: Date.now() / 1000,
        work: {
          t1: { queue: 'secrets', payload: writer.payload(running), runAt: Date.now() / 1000 },
        },
      });
      const hidden = makeSidekiqJob({
        jid: 'rq2',
        queue: 'payments',
        class: 'PaymentJob',
        argsJson: '["ann",{"amount":5}]',
      });
      await writer.push(hidden);
      const read = await token(['read']);
      const workers = await http().get(`${API}/workers`).set('PRIVATE-TOKEN', read).expect(200);
      expect(workers.text).toContain('rw1');
      expectClean(workers.text, 'workers');
      expect(workers.text).toContain(R);
      const payments = await http()
        .get(`${API}/queues/payments/jobs/rq2`)
        .set('PRIVATE-TOKEN', read)
        .expect(200);
      expect(payments.body.args).toEqual([R]);
      expect(payments.body.display_args_json).toBe(`["${R}"]`);
      expect(payments.text).not.toContain('amount');
    });

    it('redacts the args of sidekiq-cron jobs on the periodic routes, read and admin alike', async () => {
      await saveCronJob(writer.redis, {
        name: 'nightly-sync',
        klass: 'SyncJob',
        args: `[{"api_key":"${STRIPE}","region":"eu"}]`,
      });
      const read = await token(['read']);
      const sensitive = await token(['read', 'sensitive']);
      const listed = await http().get(`${API}/periodic`).set('PRIVATE-TOKEN', read).expect(200);
      const job = (listed.body.jobs as { name: string; args: string }[]).find(
        (j) => j.name === 'nightly-sync',
      )!;
      expect(job.args).toBe(`[{"api_key":"${R}","region":"eu"}]`);
      const disabled = await http()
        .post(`${API}/periodic/nightly-sync/disable`)
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .expect(200);
      expectClean(disabled.text, 'periodic disable');
      const seen = await http().get(`${API}/periodic`).set('PRIVATE-TOKEN', sensitive).expect(200);
      expect(seen.text).toContain(STRIPE);
      expect(await writer.redis.hget('cron_job:nightly-sync', 'args')).toContain(STRIPE);
    });

    it("redacts the args of sidekiq-scheduler's schedules the same way", async () => {
      await saveSchedulerJob(writer.redis, {
        name: 'hourly-export',
        config: { every: '1h', class: 'ExportJob', args: [{ api_key: STRIPE, region: 'eu' }] },
      });
      const read = await token(['read']);
      const sensitive = await token(['read', 'sensitive']);
      const listed = await http().get(`${API}/periodic`).set('PRIVATE-TOKEN', read).expect(200);
      const job = (listed.body.jobs as { name: string; args: string }[]).find(
        (j) => j.name === 'hourly-export',
      )!;
      expect(job.args).toBe(`[{"api_key":"${R}","region":"eu"}]`);
      const disabled = await http()
        .post(`${API}/periodic/hourly-export/disable`)
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .expect(200);
      expectClean(disabled.text, 'sidekiq-scheduler disable');
      const seen = await http().get(`${API}/periodic`).set('PRIVATE-TOKEN', sensitive).expect(200);
      expect(seen.text).toContain(STRIPE);
    });

    it('tokens may be made with the sensitive scope; admin alone does not carry it', async () => {
      const made = await http()
        .post('/api/v1/tokens')
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .send({ name: 'auditor', scopes: ['read', 'sensitive'] })
        .expect(201);
      expect(made.body.scopes).toEqual(['read', 'sensitive']);
      const bad = await http()
        .post('/api/v1/tokens')
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .send({ name: 'x', scopes: ['secret'] })
        .expect(400);
      expect(bad.body.details.errors[0].field).toMatch(/^scopes/);
    });
  });
});
