import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { makeEvent, makeJid } from '../factories/job-event.factory.js';
import { flushDb, redisUrlForDb } from '../integration/sidekiq/sidekiq-test-app.js';
import { SidekiqWriter } from '../support/sidekiq-writer.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import {
  startBehindDatabaseProxy,
  TEST_TOKEN,
  TestApp,
  TestDatabase,
} from '../support/test-context.js';
import { eventually } from '../support/eventually.js';

// Outages and crashes with real PostgreSQL, real Redis and (for the crash) the built service as a
// child process. Postgres and Redis are cut through a TcpProxy, so the run's shared servers stay up.

const auth = { 'PRIVATE-TOKEN': TEST_TOKEN };
const JSON_HEADERS = { ...auth, 'content-type': 'application/json' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The requirement: with Redis down, every Sidekiq route answers 503 (and /metrics answers) within 1 s.
const FAIL_FAST_MS = 1000;

interface Batch {
  jids: string[];
  body: string;
}

/** `count` batches of `size` queued events, each with its own jid and a fixed time (a resend is a duplicate). */
function makeBatches(count: number, size: number, jobClass: string): Batch[] {
  return Array.from({ length: count }, () => {
    const events = Array.from({ length: size }, () =>
      makeEvent({ job_class: jobClass, occurred_at: new Date().toISOString() }),
    );
    return { jids: events.map((e) => e.job_id as string), body: JSON.stringify({ events }) };
  });
}

type PostResult = { status: number } | { error: Error };

async function postBatch(base: string, batch: Batch): Promise<PostResult> {
  try {
    const res = await fetch(`${base}/api/v1/events`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: batch.body,
    });
    await res.arrayBuffer();
    return { status: res.status };
  } catch (error) {
    return { error: error as Error };
  }
}

/** Rows in job_events per jid, for the given jids. */
async function rowsPerJid(db: TestDatabase, jids: readonly string[]): Promise<Map<string, number>> {
  const { rows } = await db.sql.query<{ jid: string; n: number }>(
    `select j.jid, count(*)::int as n from job_events e join jobs j on j.id = e.job_id
     where j.jid = any($1) group by j.jid`,
    [jids],
  );
  return new Map(rows.map((r) => [r.jid, r.n]));
}

/** Every jid stored exactly once: the lost and the duplicated ones listed (both empty when all is well). */
async function exactlyOnce(db: TestDatabase, jids: readonly string[]) {
  const counts = await rowsPerJid(db, jids);
  return {
    lost: jids.filter((j) => !counts.has(j)),
    duplicated: jids.filter((j) => (counts.get(j) ?? 0) > 1),
  };
}

async function listen(ctx: TestApp): Promise<string> {
  await ctx.app.listen(0, '127.0.0.1');
  return `http://127.0.0.1:${(ctx.http.address() as AddressInfo).port}`;
}

async function timed(url: string, init: RequestInit = {}) {
  const started = performance.now();
  const res = await fetch(url, { ...init, headers: { ...auth, ...init.headers } });
  const text = await res.text();
  const ms = performance.now() - started;
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // /metrics is text
  }
  return { status: res.status, headers: res.headers, body, text, ms };
}

const until = <T>(what: string, probe: () => Promise<T | null> | T | null, seconds = 20) =>
  eventually(what, probe, { timeoutMs: seconds * 1000, intervalMs: 200 });

describe('Redis outage: Sidekiq routes and /metrics fail fast, ingestion goes on, all recovers (e2e)', () => {
  const REDIS_DB = 12;
  let redisProxy: TcpProxy;
  let ctx: TestApp;
  let base: string;
  let writer: SidekiqWriter;
  let retryJid: string;
  let trackedJid: string;
  const scheduledJid = makeJid();

  beforeAll(async () => {
    const target = new URL(redisUrlForDb(REDIS_DB));
    await flushDb(target.toString());
    writer = SidekiqWriter.connect(target.toString());
    retryJid = (await writer.retry({}, Math.floor(Date.now() / 1000) + 3600)).spec.jid;
    await writer.push({ queue: 'default' });
    await writer.schedule({ jid: scheduledJid }, Math.floor(Date.now() / 1000) + 3600);
    redisProxy = new TcpProxy(target.hostname, Number(target.port));
    const port = await redisProxy.start();
    const viaProxy = new URL(target);
    viaProxy.port = String(port);
    // every scrape reads Redis (no cache), so /metrics shows the outage and the recovery at once
    ctx = await TestApp.start({
      env: { REDIS_URL: viaProxy.toString(), METRICS_CACHE_MS: '0' },
    });
    base = await listen(ctx);
    // a finished job in Postgres: its lifecycle metrics do not need Redis; a running one for the
    // job-manager routes that ask Sidekiq where a job is
    trackedJid = makeJid();
    const at = Date.now() - 120_000;
    const post = async (body: object) => {
      const res = await fetch(`${base}/api/v1/events`, {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
    };
    const done = makeJid();
    await post({
      events: [
        { ...makeEvent({ job_id: done, job_class: 'OutageJob' }), occurred_at: at / 1000 },
        { type: 'started', job_id: done, job_class: 'OutageJob', occurred_at: at / 1000 + 1 },
        { type: 'succeeded', job_id: done, job_class: 'OutageJob', occurred_at: at / 1000 + 2 },
        { ...makeEvent({ job_id: trackedJid }), occurred_at: at / 1000 },
        { type: 'started', job_id: trackedJid, occurred_at: at / 1000 + 1 },
      ],
    });
  });

  afterAll(async () => {
    await ctx?.close();
    await redisProxy?.stop();
    await writer?.close();
  });

  // Reads and writes over every family of Sidekiq route, and the job-manager/job-status routes that ask Sidekiq
  const routes = (): { method: string; path: string; body?: object }[] => [
    { method: 'GET', path: '/api/v1/sidekiq/stats' },
    { method: 'GET', path: '/api/v1/sidekiq/queues' },
    { method: 'GET', path: '/api/v1/sidekiq/queues/default' },
    { method: 'GET', path: '/api/v1/sidekiq/sets/retry' },
    { method: 'GET', path: `/api/v1/sidekiq/sets/retry/jobs/${retryJid}` },
    { method: 'GET', path: '/api/v1/sidekiq/processes' },
    { method: 'GET', path: '/api/v1/sidekiq/workers' },
    { method: 'GET', path: '/api/v4/sidekiq/queue_metrics' },
    { method: 'GET', path: '/api/v4/sidekiq/process_metrics' },
    { method: 'GET', path: '/api/v4/sidekiq/job_stats' },
    { method: 'GET', path: '/api/v4/sidekiq/compound_metrics' },
    { method: 'GET', path: `/api/v1/job-manager/jobs/${trackedJid}` },
    { method: 'GET', path: '/api/v1/job-manager/lost-jobs' },
    {
      method: 'POST',
      path: '/api/v1/job-manager/restart-uncompleted-jobs',
      body: { min_age_seconds: 0, dry_run: false },
    },
    { method: 'POST', path: '/api/v1/sidekiq/sets/retry/retry-all', body: { confirm: true } },
    { method: 'POST', path: '/api/v1/sidekiq/sets/retry/clear', body: { confirm: true } },
    { method: 'POST', path: '/api/v1/sidekiq/queues/default/clear', body: { confirm: true } },
    {
      method: 'POST',
      path: '/api/v1/sidekiq/stats/reset',
      body: { counters: ['processed', 'failed'] },
    },
    { method: 'POST', path: `/api/v1/jobs/${scheduledJid}/cancel` },
  ];

  const call = (r: { method: string; path: string; body?: object }) =>
    timed(`${base}${r.path}`, {
      method: r.method,
      ...(r.body || r.method === 'POST'
        ? { body: JSON.stringify(r.body ?? {}), headers: { 'content-type': 'application/json' } }
        : {}),
    });

  const sidekiqUp = (text: string) =>
    /^sidekiq_up\{sidekiq_instance="default"\} (\d)$/m.exec(text)?.[1];

  /** Redis as the service sees it: every part of it that a write could have changed. */
  const redisState = async () => ({
    retry: await writer.redis.zrange('retry', '0', '-1', 'WITHSCORES'),
    schedule: await writer.redis.zrange('schedule', '0', '-1', 'WITHSCORES'),
    queue: await writer.redis.lrange('queue:default', 0, -1),
    queues: (await writer.redis.smembers('queues')).sort(),
    processed: await writer.redis.get('stat:processed'),
  });

  it('answers within 1 s while Redis is cut (503 SIDEKIQ_UNREACHABLE; /metrics sidekiq_up 0), changes nothing, keeps ingesting, and recovers without a restart', async () => {
    // up: the reads answer 200 through the proxy
    for (const path of [
      '/api/v1/sidekiq/stats',
      '/api/v4/sidekiq/compound_metrics',
      `/api/v1/job-manager/jobs/${trackedJid}`,
    ]) {
      expect((await timed(`${base}${path}`)).status).toBe(200);
    }
    const upMetrics = await timed(`${base}/metrics`);
    expect(sidekiqUp(upMetrics.text)).toBe('1');
    const before = await redisState();

    await redisProxy.cut();
    let restored = false;
    try {
      // ingestion (Postgres only) under load while Redis is down: every batch acknowledged at once
      const batches = makeBatches(20, 50, 'DuringRedisOutage');
      const ingest = Promise.all(
        [0, 1, 2, 3].map(async (w) => {
          const statuses: number[] = [];
          for (let i = w; i < batches.length; i += 4) {
            const r = await postBatch(base, batches[i]!);
            statuses.push('status' in r ? r.status : -1);
          }
          return statuses;
        }),
      );

      for (const route of routes()) {
        const res = await call(route);
        expect({ route: route.path, status: res.status }).toEqual({
          route: route.path,
          status: 503,
        });
        expect(res.body).toEqual({
          statusCode: 503,
          code: 'SIDEKIQ_UNREACHABLE',
          message: expect.stringMatching(/Redis "default" is unreachable/),
          // the connection's state of the moment: in the details, not the message
          details: { instance: 'default', cause: expect.any(String) },
        });
        expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
        expect({ route: route.path, fast: res.ms < FAIL_FAST_MS }).toEqual({
          route: route.path,
          fast: true,
        });
      }
      // a change refused while Redis is down says so
      const write = await call({
        method: 'POST',
        path: '/api/v1/sidekiq/sets/retry/clear',
        body: { confirm: true },
      });
      expect((write.body as { message: string }).message).toMatch(/nothing was changed/);

      const metrics = await timed(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.ms).toBeLessThan(FAIL_FAST_MS);
      expect(sidekiqUp(metrics.text)).toBe('0');
      expect(metrics.text).not.toMatch(/^sidekiq_retry_jobs\{/m);
      // what does not need Redis is still there: lifecycle counters from Postgres
      expect(metrics.text).toMatch(
        /^sidekiq_jobs_succeeded_total\{[^}]*job_class="OutageJob"[^}]*\} 1$/m,
      );

      const ready = await timed(`${base}/api/v1/health/ready`);
      expect(ready.status).toBe(503);
      expect(ready.ms).toBeLessThan(FAIL_FAST_MS);
      expect(ready.body).toMatchObject({
        code: 'NOT_READY',
        message: 'Not ready: redis:default down',
      });
      expect((await timed(`${base}/api/v1/health`)).status).toBe(200);

      expect((await ingest).flat()).toEqual(batches.map(() => 200));
      expect(
        await exactlyOnce(
          ctx.db,
          batches.flatMap((b) => b.jids),
        ),
      ).toEqual({
        lost: [],
        duplicated: [],
      });

      await redisProxy.restore();
      restored = true;
    } finally {
      if (!restored) {
        await redisProxy.restore();
      }
    }

    // the same process recovers on its own
    await until('the Sidekiq routes to answer again', async () =>
      (await timed(`${base}/api/v1/sidekiq/stats`)).status === 200 ? true : null,
    );
    for (const path of [
      '/api/v1/sidekiq/queues',
      `/api/v1/sidekiq/sets/retry/jobs/${retryJid}`,
      '/api/v4/sidekiq/compound_metrics',
      `/api/v1/job-manager/jobs/${trackedJid}`,
      '/api/v1/health/ready',
    ]) {
      expect({ path, status: (await timed(`${base}${path}`)).status }).toEqual({
        path,
        status: 200,
      });
    }
    expect(sidekiqUp((await timed(`${base}/metrics`)).text)).toBe('1');
    // none of the changes answered 503 was applied after the reconnect
    await sleep(300);
    expect(await redisState()).toEqual(before);
  });

  it('gives up on a Redis that stops answering (connection left open) within 1 s, then recovers', async () => {
    await until('Redis to be up', async () =>
      (await timed(`${base}/api/v1/sidekiq/stats`)).status === 200 ? true : null,
    );
    redisProxy.stall();
    try {
      for (const path of [
        '/api/v1/sidekiq/stats',
        `/api/v1/job-manager/jobs/${trackedJid}`,
        '/api/v4/sidekiq/compound_metrics',
        '/api/v1/sidekiq/processes',
      ]) {
        const res = await timed(`${base}${path}`);
        expect({ path, status: res.status, code: (res.body as { code?: string }).code }).toEqual({
          path,
          status: 503,
          code: 'SIDEKIQ_UNREACHABLE',
        });
        expect({ path, fast: res.ms < FAIL_FAST_MS }).toEqual({ path, fast: true });
      }
      const metrics = await timed(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.ms).toBeLessThan(FAIL_FAST_MS);
      expect(sidekiqUp(metrics.text)).toBe('0');
    } finally {
      redisProxy.unstall();
    }
    await until('the Sidekiq routes to answer again', async () =>
      (await timed(`${base}/api/v1/sidekiq/stats`)).status === 200 ? true : null,
    );
    expect(sidekiqUp((await timed(`${base}/metrics`)).text)).toBe('1');
  });
});

describe('Postgres outage under ingest load (e2e)', () => {
  let ctx: TestApp;
  let proxy: TcpProxy;
  let base: string;

  beforeAll(async () => {
    ({ ctx, proxy } = await startBehindDatabaseProxy());
    base = await listen(ctx);
  });

  afterAll(async () => {
    await ctx?.close();
    await proxy?.stop();
  });

  it('clients that resend on 503 until acknowledged end with every event stored exactly once', async () => {
    const batches = makeBatches(60, 50, 'DuringPgOutage');
    let acked = 0;
    let refused = 0;
    const workers = [0, 1, 2, 3, 4, 5].map(async (w) => {
      for (let i = w; i < batches.length; i += 6) {
        for (let attempt = 0; ; attempt++) {
          const r = await postBatch(base, batches[i]!);
          if ('status' in r && r.status === 200) {
            acked++;
            break;
          }
          if ('status' in r && r.status !== 503) {
            throw new Error(`batch ${i}: unexpected ${r.status}`);
          }
          refused++;
          if (attempt > 300) {
            throw new Error(`batch ${i} never acknowledged`);
          }
          await sleep(100);
        }
      }
    });
    // Postgres goes away a third of the way through, for 1.5 s
    await until('a third of the batches', () => (acked >= 20 ? true : null), 100);
    await proxy.cut();
    await sleep(1500);
    await proxy.restore();
    await Promise.all(workers);

    expect(acked).toBe(batches.length);
    expect(refused).toBeGreaterThan(0); // the outage did hit the load
    const jids = batches.flatMap((b) => b.jids);
    expect(await exactlyOnce(ctx.db, jids)).toEqual({ lost: [], duplicated: [] });
    const { rows } = await ctx.db.sql.query<{ n: number }>(
      `select count(*)::int as n from job_events e join jobs j on j.id = e.job_id
       where j.job_class = 'DuringPgOutage'`,
    );
    expect(rows[0]!.n).toBe(jids.length);
  });
});

describe('kill -9 of the service under ingest load (e2e, the built service as a child process)', () => {
  let db: TestDatabase;
  let port: number;
  let child: ChildProcess | null = null;
  let output = '';

  const base = () => `http://127.0.0.1:${port}`;

  async function startService(): Promise<ChildProcess> {
    const proc = spawn(process.execPath, ['dist/src/main.js'], {
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        REDIS_URL: redisUrlForDb(14, process.env.TEST_REDIS_URL ?? process.env.REDIS_URL),
        PRIVATE_TOKEN: TEST_TOKEN,
        PORT: String(port),
        HOST: '127.0.0.1',
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        SCHEDULER_ENABLED: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    proc.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    await until(
      'the service to listen',
      async () => {
        if (proc.exitCode !== null) {
          throw new Error(`service exited (${proc.exitCode}):\n${output}`);
        }
        try {
          return (await fetch(`${base()}/api/v1/health`)).status === 200 ? true : null;
        } catch {
          return null;
        }
      },
      150,
    );
    return proc;
  }

  async function kill9(proc: ChildProcess): Promise<void> {
    const exited = new Promise((r) => proc.once('exit', r));
    process.kill(proc.pid!, 'SIGKILL');
    await exited;
  }

  beforeAll(async () => {
    if (!existsSync('dist/src/main.js')) {
      throw new Error('dist/src/main.js is missing: `npm run build` first (npm test does)');
    }
    db = await TestDatabase.create();
    port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as AddressInfo;
        probe.close(() => resolve(free));
      });
    });
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      process.kill(child.pid!, 'SIGTERM');
      await exited;
    }
    await db?.drop();
  });

  it('stores every event acknowledged before the kill exactly once, and resent ones once too', async () => {
    child = await startService();
    const batches = makeBatches(80, 50, 'DuringCrash');
    const ackedBatches: Batch[] = [];
    const cutOff: Batch[] = []; // in flight at the kill: outcome unknown to the client
    let next = 0;
    const load = [0, 1, 2, 3, 4, 5].map(async () => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        const r = await postBatch(base(), batch);
        if ('status' in r && r.status === 200) {
          ackedBatches.push(batch);
        } else if ('error' in r) {
          cutOff.push(batch);
          return;
        } else {
          throw new Error(`unexpected ${r.status}`);
        }
      }
    });
    await until('a quarter of the batches', () => (ackedBatches.length >= 20 ? true : null), 100);
    await kill9(child);
    await Promise.all(load);
    const ackedBeforeKill = ackedBatches.flatMap((b) => b.jids);
    expect(ackedBatches.length).toBeLessThan(batches.length); // killed mid-load
    expect(cutOff.length).toBeGreaterThan(0); // with requests in flight

    child = await startService();
    expect(await exactlyOnce(db, ackedBeforeKill)).toEqual({ lost: [], duplicated: [] });
    // what was cut off may or may not have been committed: at most once each
    const cutOffJids = cutOff.flatMap((b) => b.jids);
    expect((await exactlyOnce(db, cutOffJids)).duplicated).toEqual([]);

    // clients resend what was never acknowledged: now everything is stored exactly once
    const unacked = batches.filter((b) => !ackedBatches.includes(b));
    for (const batch of unacked) {
      expect(await postBatch(base(), batch)).toEqual({ status: 200 });
    }
    const all = batches.flatMap((b) => b.jids);
    expect(await exactlyOnce(db, all)).toEqual({ lost: [], duplicated: [] });
    const { rows } = await db.sql.query<{ n: number }>(
      `select count(*)::int as n from job_events e join jobs j on j.id = e.job_id
       where j.job_class = 'DuringCrash'`,
    );
    expect(rows[0]!.n).toBe(all.length);
  });
});
