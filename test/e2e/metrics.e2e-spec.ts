import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { makeJid } from '../factories/job-event.factory.js';
import { flushDb, redisUrlForDb } from '../integration/sidekiq/sidekiq-test-app.js';
import { SidekiqWriter } from '../support/sidekiq-writer.js';
import { TEST_TOKEN, TestApp } from '../support/test-context.js';
import { eventually } from '../support/eventually.js';

const URL15 = redisUrlForDb(15);
const EXAMPLES = JSON.parse(
  readFileSync(
    new URL('../fixtures/gitlab/sidekiq-metrics-examples.json', import.meta.url),
    'utf8',
  ),
) as Record<string, unknown>;
const OWN_ENV = [
  'METRICS_PUBLIC',
  'METRICS_CACHE_MS',
  'SIDEKIQ_INSTANCES',
  'STATSD_HOST',
  'STATSD_PORT',
  'STATSD_PREFIX',
];

/** The JSON shape of a value: key names and JSON types, arrays by their first element. */
function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.length === 0 ? [] : [shapeOf(value[0])];
  }
  if (value === null) {
    return 'null';
  }
  if (typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, shapeOf(v)]),
    );
  }
  return typeof value === 'number' && Number.isInteger(value) ? 'integer' : typeof value;
}

/** Value of one sample in a Prometheus text exposition, or undefined. */
function sample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) {
      continue;
    }
    const body = line.slice(name.length);
    // a whole label name: `instance` must not match inside `sidekiq_instance`
    const wanted = Object.entries(labels).every(
      ([k, v]) => body.includes(`{${k}="${v}"`) || body.includes(`,${k}="${v}"`),
    );
    if (wanted) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return undefined;
}

const T0 = Date.now() - 10 * 60_000;
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

/** Lifecycle events with known waits and run times (seconds after T0). */
function lifecycleEvents(): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  const report = { job_class: 'ReportJob', queue: 'reports' };
  // four successes: waits 1..4 s, runs 0.1..0.4 s (two from duration_ms, two from the start time)
  [1, 2, 3, 4].forEach((n) => {
    const job_id = makeJid();
    const start = n * 10 + n;
    events.push(
      { type: 'queued', job_id, occurred_at: at(n * 10), ...report },
      { type: 'started', job_id, occurred_at: at(start), enqueued_at: at(n * 10), ...report },
      n % 2 === 0
        ? { type: 'succeeded', job_id, occurred_at: at(start + n / 10), duration_ms: n * 100 }
        : { type: 'succeeded', job_id, occurred_at: at(start + n / 10) },
    );
  });
  // a failure that will be retried: wait 5 s, run 1 s; not an outcome for the window query
  const retried = makeJid();
  events.push(
    { type: 'queued', job_id: retried, occurred_at: at(100), ...report },
    { type: 'started', job_id: retried, occurred_at: at(105) },
    {
      type: 'failed',
      job_id: retried,
      occurred_at: at(106),
      will_retry: true,
      error_class: 'Timeout',
      duration_ms: 1000,
    },
    { type: 'retrying', job_id: retried, occurred_at: at(106.001), retry_count: 0 },
  );
  // retries exhausted: wait 0.5 s, run 2 s, then dead
  const mail = makeJid();
  events.push(
    { type: 'queued', job_id: mail, occurred_at: at(200), job_class: 'MailJob', queue: 'mailers' },
    { type: 'started', job_id: mail, occurred_at: at(200.5) },
    {
      type: 'failed',
      job_id: mail,
      occurred_at: at(202.5),
      will_retry: false,
      error_class: 'SMTPError',
      duration_ms: 2000,
    },
    { type: 'dead', job_id: mail, occurred_at: at(202.6) },
  );
  return events;
}

describe('Metrics (e2e)', () => {
  let ctx: TestApp;
  let plain: SidekiqWriter;
  let shard: SidekiqWriter;
  const saved: Record<string, string | undefined> = {};
  const http = () => request(ctx.http);

  const token = async (scopes: string[]) =>
    (
      await http()
        .post('/api/v1/tokens')
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .send({ name: `metrics-${scopes.join('-')}`, scopes })
        .expect(201)
    ).body.token as string;

  const scrape = async () =>
    (await http().get('/metrics').set('PRIVATE-TOKEN', TEST_TOKEN).expect(200)).text;

  beforeAll(async () => {
    for (const name of OWN_ENV) {
      saved[name] = process.env[name];
    }
    await flushDb(URL15);
    plain = SidekiqWriter.connect(URL15);
    shard = SidekiqWriter.connect(URL15, 'v6', 'shard2');
    ctx = await TestApp.start({
      env: {
        REDIS_URL: URL15,
        SIDEKIQ_INSTANCES: `shard2=${URL15}?namespace=shard2`,
        METRICS_PUBLIC: 'false',
        METRICS_CACHE_MS: '0',
        STATSD_HOST: '',
      },
    });
    const now = Date.now();
    for (let i = 0; i < 3; i++) {
      await plain.push({ queue: 'default' }, now - 30_000);
    }
    await plain.push({ queue: 'mailers' }, now - 1000);
    await shard.push({ queue: 'default' }, now - 90_000);
    await shard.push({ queue: 'default' }, now - 60_000);
    await plain.heartbeat({
      identity: 'web-1:101:aaaaaaaaaaaa',
      hostname: 'web-1',
      pid: 101,
      startedAt: 1_700_000_000.5,
      tag: 'app',
      concurrency: 10,
      queues: ['default', 'mailers'],
      labels: ['reliable'],
      busy: 3,
    });
    await shard.heartbeat({
      identity: 'web-2:202:bbbbbbbbbbbb',
      hostname: 'web-2',
      pid: 202,
      startedAt: 1_700_000_100,
      concurrency: 5,
      busy: 1,
    });
    await plain.stat('processed', 7);
    await plain.stat('failed', 2);
    await shard.stat('processed', 5);
    await shard.stat('failed', 1);
    await plain.dead({ queue: 'default' }, Math.floor(now / 1000));
  });

  afterAll(async () => {
    await plain?.close();
    await shard?.close();
    await ctx?.close();
    await flushDb(URL15);
    for (const name of OWN_ENV) {
      if (saved[name] === undefined) {
        delete process.env[name];
      } else {
        process.env[name] = saved[name];
      }
    }
  });

  describe('GitLab Sidekiq Metrics API', () => {
    it('merges queues across instances: backlog summed, latency the maximum in whole seconds', async () => {
      const res = await http()
        .get('/api/v4/sidekiq/queue_metrics')
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .expect(200);
      expect(Object.keys(res.body)).toEqual(['queues']);
      expect(Object.keys(res.body.queues).sort()).toEqual(['default', 'mailers']);
      expect(res.body.queues.default.backlog).toBe(5);
      expect(res.body.queues.mailers.backlog).toBe(1);
      // the oldest default job is the shard's, 90 s old; plain's is 30 s
      expect(Number.isInteger(res.body.queues.default.latency)).toBe(true);
      expect(res.body.queues.default.latency).toBeGreaterThanOrEqual(90);
    });

    it('lists the processes of every instance with started_at in ISO 8601', async () => {
      const res = await http()
        .get('/api/v4/sidekiq/process_metrics')
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .expect(200);
      expect(res.body).toEqual({
        processes: [
          {
            hostname: 'web-1',
            pid: 101,
            tag: 'app',
            started_at: '2023-11-14T22:13:20.500Z',
            queues: ['default', 'mailers'],
            labels: ['reliable'],
            concurrency: 10,
            busy: 3,
          },
          {
            hostname: 'web-2',
            pid: 202,
            tag: '',
            started_at: '2023-11-14T22:15:00.000Z',
            queues: ['default'],
            labels: [],
            concurrency: 5,
            busy: 1,
          },
        ],
      });
    });

    it('sums job stats over the instances', async () => {
      const res = await http()
        .get('/api/v4/sidekiq/job_stats')
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .expect(200);
      expect(res.body).toEqual({ jobs: { processed: 12, failed: 3, enqueued: 6, dead: 1 } });
    });

    it('answers with the field names and JSON types of GitLab’s documented examples', async () => {
      for (const route of ['queue_metrics', 'process_metrics', 'job_stats', 'compound_metrics']) {
        const res = await http()
          .get(`/api/v4/sidekiq/${route}`)
          .set('PRIVATE-TOKEN', TEST_TOKEN)
          .expect(200)
          .expect('content-type', /application\/json/);
        const doc = EXAMPLES[route] as Record<string, unknown>;
        const ours = res.body as Record<string, unknown>;
        expect(Object.keys(ours).sort()).toEqual(Object.keys(doc).sort());
        if ('queues' in doc) {
          const docQueue = shapeOf((doc.queues as Record<string, unknown>).default);
          for (const q of Object.values(ours.queues as Record<string, unknown>)) {
            expect(shapeOf(q)).toEqual(docQueue);
          }
        }
        if ('processes' in doc) {
          const docProcess = shapeOf((doc.processes as unknown[])[0]) as Record<string, unknown>;
          for (const p of ours.processes as Record<string, unknown>[]) {
            // labels is [] in the example: compare its type, not its element shape
            expect({ ...(shapeOf(p) as object), labels: [] }).toEqual(docProcess);
            expect(Number.isNaN(Date.parse(p.started_at as string))).toBe(false);
          }
        }
        if ('jobs' in doc) {
          expect(shapeOf(ours.jobs)).toEqual(shapeOf(doc.jobs));
        }
      }
    });

    it('compound_metrics is the three bodies in one', async () => {
      const get = async (route: string) =>
        (await http().get(`/api/v4/sidekiq/${route}`).set('PRIVATE-TOKEN', TEST_TOKEN).expect(200))
          .body as Record<string, unknown>;
      const compound = await get('compound_metrics');
      expect(compound.processes).toEqual((await get('process_metrics')).processes);
      expect(compound.jobs).toEqual((await get('job_stats')).jobs);
      expect(Object.keys(compound.queues as object).sort()).toEqual(['default', 'mailers']);
    });

    it('needs a token (401) with the read scope (403)', async () => {
      const ingest = await token(['ingest']);
      const read = await token(['read']);
      for (const route of ['queue_metrics', 'process_metrics', 'job_stats', 'compound_metrics']) {
        await http().get(`/api/v4/sidekiq/${route}`).expect(401);
        const forbidden = await http()
          .get(`/api/v4/sidekiq/${route}`)
          .set('PRIVATE-TOKEN', ingest)
          .expect(403);
        expect(forbidden.body).toMatchObject({ statusCode: 403, code: 'FORBIDDEN' });
        await http().get(`/api/v4/sidekiq/${route}`).set('PRIVATE-TOKEN', read).expect(200);
      }
    });

    it('serves requests made the way gitbeaker and python-gitlab make them', async () => {
      await new Promise<void>((resolve) => ctx.http.listen(0, '127.0.0.1', resolve));
      const { port } = ctx.http.address() as AddressInfo;
      const host = `http://127.0.0.1:${port}`;
      const read = await token(['read']);
      // gitbeaker: BaseService url `${host}/api/v4/`, RequestHelper.get(this, 'sidekiq/…'),
      // the token in a PRIVATE-TOKEN header
      const gitbeaker = await fetch(`${host}/api/v4/sidekiq/compound_metrics`, {
        method: 'GET',
        headers: { 'PRIVATE-TOKEN': read, Accept: 'application/json' },
      });
      expect(gitbeaker.status).toBe(200);
      const body = (await gitbeaker.json()) as { jobs: { processed: number } };
      expect(body.jobs.processed).toBe(12);
      // python-gitlab: http_get('/sidekiq/queue_metrics') on `${url}/api/v4` with requests'
      // default headers, its User-Agent and PRIVATE-TOKEN
      const python = await fetch(`${host}/api/v4/sidekiq/queue_metrics`, {
        headers: {
          'User-Agent': 'python-gitlab/4.13.0',
          'PRIVATE-TOKEN': read,
          'Accept-Encoding': 'gzip, deflate',
          Accept: '*/*',
          Connection: 'keep-alive',
        },
      });
      expect(python.status).toBe(200);
      expect(((await python.json()) as { queues: Record<string, unknown> }).queues.default).toEqual(
        expect.objectContaining({ backlog: 5 }),
      );
      const anonymous = await fetch(`${host}/api/v4/sidekiq/job_stats`);
      expect(anonymous.status).toBe(401);
    });
  });

  describe('Prometheus /metrics', () => {
    it('needs a read token by default', async () => {
      await http().get('/metrics').expect(401);
      const ingest = await token(['ingest']);
      await http().get('/metrics').set('PRIVATE-TOKEN', ingest).expect(403);
      const read = await token(['read']);
      await http()
        .get('/metrics')
        .set('PRIVATE-TOKEN', read)
        .expect(200)
        .expect('content-type', /text\/plain; version=0\.0\.4/);
    });

    it('reports Sidekiq state per instance', async () => {
      const text = await scrape();
      const d = { sidekiq_instance: 'default' };
      const s = { sidekiq_instance: 'shard2' };
      expect(sample(text, 'sidekiq_up', d)).toBe(1);
      expect(sample(text, 'sidekiq_up', s)).toBe(1);
      expect(sample(text, 'sidekiq_processed_jobs', d)).toBe(7);
      expect(sample(text, 'sidekiq_processed_jobs', s)).toBe(5);
      expect(sample(text, 'sidekiq_failed_jobs', d)).toBe(2);
      expect(sample(text, 'sidekiq_enqueued_jobs', d)).toBe(4);
      expect(sample(text, 'sidekiq_enqueued_jobs', s)).toBe(2);
      expect(sample(text, 'sidekiq_dead_jobs', d)).toBe(1);
      expect(sample(text, 'sidekiq_scheduled_jobs', d)).toBe(0);
      expect(sample(text, 'sidekiq_retry_jobs', d)).toBe(0);
      expect(sample(text, 'sidekiq_busy_workers', d)).toBe(3);
      expect(sample(text, 'sidekiq_processes', s)).toBe(1);
      expect(sample(text, 'sidekiq_queue_size', { ...s, queue: 'default' })).toBe(2);
      expect(
        sample(text, 'sidekiq_queue_latency_seconds', { ...s, queue: 'default' }),
      ).toBeGreaterThanOrEqual(90);
      expect(
        sample(text, 'sidekiq_process_busy', { ...d, hostname: 'web-1', pid: '101', tag: 'app' }),
      ).toBe(3);
      expect(sample(text, 'sidekiq_process_concurrency', { ...s, hostname: 'web-2' })).toBe(5);
      // Prometheus sets `instance` (the target) itself: none of ours may carry it
      expect(text).not.toMatch(/[{,]instance="/);
      // Node process metrics from prom-client's default collectors
      expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
      expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
    });

    it('counts lifecycle outcomes and observes wait and run times from ingested events', async () => {
      const ingest = await token(['ingest']);
      const events = lifecycleEvents();
      const res = await http()
        .post('/api/v1/events')
        .set('PRIVATE-TOKEN', ingest)
        .send({ events })
        .expect(200);
      expect(res.body).toMatchObject({ accepted: events.length, duplicates: 0 });
      // the same batch again: all duplicates; a bad batch: rejected as a whole
      await http().post('/api/v1/events').set('PRIVATE-TOKEN', ingest).send({ events }).expect(200);
      await http()
        .post('/api/v1/events')
        .set('PRIVATE-TOKEN', ingest)
        .send({ events: [{ type: 'queued', job_id: makeJid() }, { type: 'nope' }] })
        .expect(400);

      const text = await scrape();
      const report = { sidekiq_instance: 'default', job_class: 'ReportJob', queue: 'reports' };
      const mail = { sidekiq_instance: 'default', job_class: 'MailJob', queue: 'mailers' };
      expect(sample(text, 'sidekiq_jobs_succeeded_total', report)).toBe(4);
      expect(sample(text, 'sidekiq_jobs_failed_total', report)).toBe(1);
      expect(sample(text, 'sidekiq_jobs_retried_total', report)).toBe(1);
      expect(sample(text, 'sidekiq_jobs_dead_total', report)).toBeUndefined();
      expect(sample(text, 'sidekiq_jobs_failed_total', mail)).toBe(1);
      expect(sample(text, 'sidekiq_jobs_dead_total', mail)).toBe(1);
      expect(sample(text, 'sidekiq_job_queue_wait_seconds_count', report)).toBe(5);
      expect(sample(text, 'sidekiq_job_queue_wait_seconds_sum', report)).toBeCloseTo(15, 6);
      expect(sample(text, 'sidekiq_job_queue_wait_seconds_bucket', { ...report, le: '2.5' })).toBe(
        2,
      );
      expect(sample(text, 'sidekiq_job_queue_wait_seconds_bucket', { ...report, le: '0.01' })).toBe(
        0,
      );
      expect(sample(text, 'sidekiq_job_queue_wait_seconds_bucket', { ...report, le: '3600' })).toBe(
        5,
      );
      expect(sample(text, 'sidekiq_job_run_seconds_count', report)).toBe(5);
      expect(sample(text, 'sidekiq_job_run_seconds_sum', report)).toBeCloseTo(2, 6);
      expect(sample(text, 'sidekiq_job_run_seconds_sum', mail)).toBeCloseTo(2, 6);
      expect(sample(text, 'sidekiq_job_queue_wait_seconds_sum', mail)).toBeCloseTo(0.5, 6);

      expect(sample(text, 'sidekiq_supervisor_ingest_events_total', { result: 'accepted' })).toBe(
        events.length,
      );
      expect(sample(text, 'sidekiq_supervisor_ingest_events_total', { result: 'duplicate' })).toBe(
        events.length,
      );
      expect(sample(text, 'sidekiq_supervisor_ingest_events_total', { result: 'rejected' })).toBe(
        2,
      );
      expect(sample(text, 'sidekiq_supervisor_ingest_batch_events_count')).toBe(2);
      expect(sample(text, 'sidekiq_supervisor_ingest_commit_seconds_count')).toBe(2);

      // a second scrape reads nothing twice
      const again = await scrape();
      expect(sample(again, 'sidekiq_jobs_succeeded_total', report)).toBe(4);
      expect(sample(again, 'sidekiq_job_run_seconds_count', report)).toBe(5);
    });

    it('counts HTTP requests by route pattern and status', async () => {
      await http().get('/api/v1/jobs/no-such-job').set('PRIVATE-TOKEN', TEST_TOKEN).expect(404);
      await http().get('/api/v4/sidekiq/job_stats').expect(401);
      const text = await scrape();
      expect(
        sample(text, 'sidekiq_supervisor_http_requests_total', {
          method: 'GET',
          route: '/api/v1/jobs/:job_id',
          status: '404',
        }),
      ).toBe(1);
      expect(
        sample(text, 'sidekiq_supervisor_http_requests_total', {
          method: 'GET',
          route: '/api/v4/sidekiq/job_stats',
          status: '401',
        }),
      ).toBeGreaterThanOrEqual(1);
      expect(text).not.toContain('no-such-job');
    });
  });

  describe('GET /api/v1/metrics/jobs', () => {
    const window = {
      from: new Date(T0 - 3_600_000).toISOString(),
      to: new Date(Date.now() + 3_600_000).toISOString(),
    };

    it('gives exact percentiles, rates and maxima per class and queue', async () => {
      const read = await token(['read']);
      await http().get('/api/v1/metrics/jobs').query(window).expect(401);
      const res = await http()
        .get('/api/v1/metrics/jobs')
        .query(window)
        .set('PRIVATE-TOKEN', read)
        .expect(200);
      expect(res.body.from).toBe(window.from);
      const byClass = Object.fromEntries(
        (res.body.classes as { job_class: string }[]).map((c) => [c.job_class, c]),
      );
      expect(Object.keys(byClass).sort()).toEqual(['MailJob', 'ReportJob']);
      const report = byClass.ReportJob as Record<string, any>;
      // the retrying job has no outcome yet: four jobs, waits 1..4 s, runs 0.1..0.4 s
      expect(report).toMatchObject({ queue: 'reports', count: 4, succeeded: 4, failed: 0 });
      expect(report.success_rate).toBe(1);
      expect(report.failure_rate).toBe(0);
      // percentile_cont: linear interpolation between the closest ranks
      expect(report.wait_seconds.p50).toBeCloseTo(2.5, 6);
      expect(report.wait_seconds.p95).toBeCloseTo(3.85, 6);
      expect(report.wait_seconds.p99).toBeCloseTo(3.97, 6);
      expect(report.wait_seconds.max).toBeCloseTo(4, 6);
      expect(report.run_seconds.p50).toBeCloseTo(0.25, 6);
      expect(report.run_seconds.p95).toBeCloseTo(0.385, 6);
      expect(report.run_seconds.max).toBeCloseTo(0.4, 6);
      const mail = byClass.MailJob as Record<string, any>;
      expect(mail).toMatchObject({ queue: 'mailers', count: 1, succeeded: 0, failed: 1 });
      expect(mail.failure_rate).toBe(1);
      expect(mail.wait_seconds.p99).toBeCloseTo(0.5, 6);
      expect(mail.run_seconds.max).toBeCloseTo(2, 6);
    });

    it('filters by class, queue and instance, and by the window', async () => {
      const get = (query: Record<string, string>) =>
        http().get('/api/v1/metrics/jobs').query(query).set('PRIVATE-TOKEN', TEST_TOKEN);
      const mail = await get({ ...window, job_class: 'MailJob' }).expect(200);
      expect(mail.body.classes.map((c: { job_class: string }) => c.job_class)).toEqual(['MailJob']);
      const reports = await get({ ...window, queue: 'reports' }).expect(200);
      expect(reports.body.classes).toHaveLength(1);
      const other = await get({ ...window, instance: 'other' }).expect(200);
      expect(other.body.classes).toEqual([]);
      // the ReportJob jobs end within T0 + 45 s; MailJob at T0 + 202.5 s
      const early = await get({ from: new Date(T0).toISOString(), to: at(100) }).expect(200);
      expect(early.body.classes.map((c: { job_class: string }) => c.job_class)).toEqual([
        'ReportJob',
      ]);
    });

    it('refuses a bad window with 400 and the field at fault', async () => {
      const reversed = await http()
        .get('/api/v1/metrics/jobs')
        .query({ from: window.to, to: window.from })
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .expect(400);
      expect(reversed.body).toMatchObject({ code: 'VALIDATION_FAILED' });
      const garbled = await http()
        .get('/api/v1/metrics/jobs')
        .query({ from: 'yesterday' })
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .expect(400);
      expect(garbled.body.details.errors[0].field).toBe('from');
    });
  });
});

describe('Metrics settings (e2e)', () => {
  const saved: Record<string, string | undefined> = {};

  beforeAll(() => {
    for (const name of OWN_ENV) {
      saved[name] = process.env[name];
    }
  });

  afterAll(() => {
    for (const name of OWN_ENV) {
      if (saved[name] === undefined) {
        delete process.env[name];
      } else {
        process.env[name] = saved[name];
      }
    }
  });

  it('opens /metrics without a token with METRICS_PUBLIC=true, and nothing else', async () => {
    await flushDb(URL15);
    const ctx = await TestApp.start({
      env: {
        REDIS_URL: URL15,
        METRICS_PUBLIC: 'true',
        METRICS_CACHE_MS: '300000',
        SIDEKIQ_INSTANCES: '',
        STATSD_HOST: '',
      },
    });
    const writer = SidekiqWriter.connect(URL15);
    try {
      await writer.push({ queue: 'cached' });
      const res = await request(ctx.http).get('/metrics').expect(200);
      expect(sample(res.text, 'sidekiq_queue_size', { queue: 'cached' })).toBe(1);
      await request(ctx.http).get('/api/v4/sidekiq/job_stats').expect(401);
      await request(ctx.http).get('/api/v1/metrics/jobs').expect(401);
      // within METRICS_CACHE_MS a scrape reuses the last read of Redis
      await writer.push({ queue: 'cached' });
      const cached = await request(ctx.http).get('/metrics').expect(200);
      expect(sample(cached.text, 'sidekiq_queue_size', { queue: 'cached' })).toBe(1);
      const live = await request(ctx.http)
        .get('/api/v4/sidekiq/queue_metrics')
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .expect(200);
      expect(live.body.queues.cached.backlog).toBe(2);
    } finally {
      await writer.close();
      await ctx.close();
      await flushDb(URL15);
    }
  });

  it('pushes lifecycle counters and timings per class to StatsD', async () => {
    const socket: Socket = createSocket('udp4');
    const lines: string[] = [];
    socket.on('message', (msg) => lines.push(...msg.toString().split('\n').filter(Boolean)));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const ctx = await TestApp.start({
      env: {
        REDIS_URL: URL15,
        METRICS_PUBLIC: 'false',
        SIDEKIQ_INSTANCES: '',
        STATSD_HOST: '127.0.0.1',
        STATSD_PORT: String(socket.address().port),
        STATSD_PREFIX: 'sks.',
      },
    });
    try {
      const job_id = makeJid();
      const cls = { job_class: 'Billing::InvoiceJob', queue: 'billing' };
      await request(ctx.http)
        .post('/api/v1/events')
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .send({
          events: [
            { type: 'queued', job_id, occurred_at: at(0), ...cls },
            { type: 'started', job_id, occurred_at: at(1.5), enqueued_at: at(0) },
            { type: 'succeeded', job_id, occurred_at: at(1.75) },
          ],
        })
        .expect(200);
      const expected = [
        'sks.jobs.Billing__InvoiceJob.successes:1|c',
        'sks.jobs.Billing__InvoiceJob.wait:1500|ms',
        'sks.jobs.Billing__InvoiceJob.run:250|ms',
      ];
      // the ingest commit schedules a push; wait for the datagrams (UDP on loopback)
      await eventually(
        'the StatsD datagrams',
        () => expected.every((line) => lines.includes(line)),
        { intervalMs: 50 },
      );
      expect(lines.filter((l) => l.includes('successes'))).toEqual([expected[0]]);
    } finally {
      await ctx.close();
      socket.close();
    }
  });
});
