import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { makeJid } from '../factories/job-event.factory.js';
import { testRedisUrl } from '../support/app-with-sidekiq.js';
import { eventually } from '../support/eventually.js';
import { SidekiqWriter } from '../support/sidekiq-writer.js';
import { TEST_TOKEN, TestApp } from '../support/test-context.js';

// Process heartbeats on a real Sidekiq (Debian's ruby-sidekiq 6.4.1) with the gem of clients/ruby:
// a process that shuts down while a job runs pushes the job back to its queue (not lost), and a
// process killed with SIGKILL is lost once its heartbeat is older than PROCESS_HEARTBEAT_TIMEOUT,
// while Sidekiq itself still lists the process (its key lives 60 s).
const REDIS_DB = 13;
const ROOT = resolve(import.meta.dirname, '../..');
const TIMEOUT_S = 3;

interface ProcessLife {
  identity: string;
  status: string;
  pid: number;
  hostname: string;
  started_at: string;
  last_heartbeat_at: string;
  stopped_at: string | null;
  sidekiq_version: string;
  client_version: string;
  queues: string[];
  concurrency: number;
}

describe('process heartbeats from a real Sidekiq (e2e)', () => {
  let ctx: TestApp;
  let writer: SidekiqWriter;
  let redisUrl: string;
  let baseUrl: string;
  let ingestToken: string;
  const servers: ChildProcess[] = [];

  beforeAll(async () => {
    await promisify(execFile)('bash', [join(ROOT, 'scripts/ensure-ruby.sh')]);
    redisUrl = testRedisUrl(REDIS_DB);
    writer = SidekiqWriter.connect(redisUrl);
    await writer.redis.flushdb();
    ctx = await TestApp.start({
      env: { REDIS_URL: redisUrl, PROCESS_HEARTBEAT_TIMEOUT: String(TIMEOUT_S) },
    });
    await ctx.app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(ctx.http.address() as AddressInfo).port}`;
    const token = await request(ctx.http)
      .post('/api/v1/tokens')
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .send({ name: 'heartbeat-app', scopes: ['ingest'] })
      .expect(201);
    ingestToken = token.body.token;
  });

  afterAll(async () => {
    for (const server of servers) {
      if (server.exitCode === null && server.signalCode === null) {
        server.kill('SIGKILL');
        await new Promise((r) => server.once('exit', r));
      }
    }
    await ctx?.close();
    await writer?.redis.flushdb();
    await writer?.close();
  });

  function startSidekiq(name: string): ChildProcess {
    const logPath = join(tmpdir(), `sidekiq-heartbeat-${name}-${process.pid}.log`);
    const log = openSync(logPath, 'w');
    const server = spawn(
      'sidekiq',
      ['-r', './heartbeat_app.rb', '-q', 'naps', '-c', '1', '-t', '1'],
      {
        cwd: join(ROOT, 'test/ruby'),
        env: {
          ...process.env,
          SIDEKIQ_REDIS_URL: redisUrl,
          RUBYOPT: '-W0',
          SIDEKIQ_SUPERVISOR_URL: baseUrl,
          SIDEKIQ_SUPERVISOR_TOKEN: ingestToken,
          SIDEKIQ_SUPERVISOR_MODE: 'async',
          SIDEKIQ_SUPERVISOR_HEARTBEAT_INTERVAL: '1',
          SIDEKIQ_SUPERVISOR_FLUSH_INTERVAL: '0.2',
          SIDEKIQ_SUPERVISOR_STARTED_DELAY: '0.2',
        },
        stdio: ['ignore', log, log],
      },
    );
    server.on('exit', () => undefined);
    servers.push(server);
    (server as ChildProcess & { logPath: string }).logPath = logPath;
    return server;
  }

  const logOf = (server: ChildProcess) =>
    readFileSync((server as ChildProcess & { logPath: string }).logPath, 'utf8').slice(-3000);

  async function lifeOf(pid: number): Promise<ProcessLife | null> {
    const res = await request(ctx.http)
      .get('/api/v1/processes')
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(200);
    return (res.body.processes as ProcessLife[]).find((p) => p.pid === pid) ?? null;
  }

  async function lostJobs(): Promise<{ job_id: string; reason: string }[]> {
    const res = await request(ctx.http)
      .get('/api/v1/job-manager/lost-jobs')
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(200);
    return res.body.jobs as { job_id: string; reason: string }[];
  }

  /** Starts a Sidekiq, waits for its heartbeats, pushes a NapJob and waits until it runs. */
  async function napOn(name: string) {
    const server = startSidekiq(name);
    const life = await eventually(
      `Sidekiq ${name} to report its life with a heartbeat`,
      async () => {
        const l = await lifeOf(server.pid!);
        return l && l.last_heartbeat_at > l.started_at ? l : null;
      },
      { timeoutMs: 60_000 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${logOf(server)}`);
    });
    const jid = makeJid();
    await writer.push({ jid, class: 'NapJob', queue: 'naps', argsJson: '[600]', retry: false });
    await eventually(`job ${jid} to run on ${name}`, async () => {
      const res = await request(ctx.http)
        .get(`/api/v1/jobs/${jid}`)
        .set('PRIVATE-TOKEN', TEST_TOKEN);
      return res.status === 200 && res.body.status === 'running' && res.body.pid === server.pid;
    });
    return { server, life, jid };
  }

  it('reports the life of a Sidekiq process with its own identity, versions and queues', async () => {
    const { server, life, jid } = await napOn('identity');
    const identities = await writer.redis.smembers('processes');
    expect(identities).toContain(life.identity);
    expect(life).toMatchObject({
      status: 'running',
      pid: server.pid,
      sidekiq_version: '6.4.1',
      client_version: expect.any(String),
      queues: ['naps'],
      concurrency: 1,
      stopped_at: null,
    });
    // a beating process keeps its running job off the lost list
    expect((await lostJobs()).map((j) => j.job_id)).not.toContain(jid);
    server.kill('SIGKILL');
    await new Promise((r) => server.once('exit', r));
  });

  it('a job running when its process shuts down is pushed back to its queue by Sidekiq: not lost; lost at once if that copy is gone', async () => {
    const { server, life, jid } = await napOn('term');
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    const stopped = await eventually('the shutdown to be recorded', async () => {
      const l = await lifeOf(server.pid!);
      return l?.status === 'stopped' ? l : null;
    });
    expect(stopped.identity).toBe(life.identity);
    // Sidekiq 6.4.1 hard_shutdown: BasicFetch#bulk_requeue after the -t 1 s timeout
    const queue = await writer.redis.lrange('queue:naps', 0, -1);
    expect(queue.some((raw) => raw.includes(jid))).toBe(true);
    // the gem reported the run interrupted (Sidekiq::Shutdown in the job's thread)
    const job = await request(ctx.http)
      .get(`/api/v1/jobs/${jid}`)
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(200);
    expect(job.body.status).toBe('interrupted');
    expect((await lostJobs()).map((j) => j.job_id)).not.toContain(jid);
    const dryRun = () =>
      request(ctx.http)
        .post('/api/v1/job-manager/restart-uncompleted-jobs')
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .send({ dry_run: true, min_age_seconds: 0 })
        .expect(200);
    const outcome = async () =>
      ((await dryRun()).body.items as { job_id: string; outcome: string }[]).find(
        (i) => i.job_id === jid,
      )?.outcome;
    expect(await outcome()).toBe('held_by_sidekiq');

    // had the pushed-back copy been lost (Redis failover, a cleared queue), the job is lost at
    // once: its process said shutdown, no heartbeat timeout to wait for
    await writer.redis.del('queue:naps');
    const lost = (await lostJobs()).find((j) => j.job_id === jid);
    expect(lost?.reason).toBe(`process ${life.identity} said shutdown at ${stopped.stopped_at}`);
    expect(await outcome()).toBe('would_restart');
  });

  it('a job on a process killed with SIGKILL is lost once its heartbeat is older than the timeout, while Sidekiq still lists the process', async () => {
    const { server, life, jid } = await napOn('kill');
    server.kill('SIGKILL');
    await new Promise((r) => server.once('exit', r));
    const killedAt = Date.now();
    const lost = await eventually('the job to be lost', async () =>
      (await lostJobs()).find((j) => j.job_id === jid),
    );
    const last = await lifeOf(server.pid!);
    expect(last).toMatchObject({ identity: life.identity, status: 'silent', stopped_at: null });
    expect(lost.reason).toBe(`no heartbeat from ${life.identity} since ${last!.last_heartbeat_at}`);
    // lost only after the timeout has passed since the last heartbeat ...
    expect(Date.now() - Date.parse(last!.last_heartbeat_at)).toBeGreaterThanOrEqual(
      TIMEOUT_S * 1000,
    );
    // ... and long before Sidekiq's own process key (60 s) expires: it still lists the process
    expect(await writer.redis.sismember('processes', life.identity)).toBe(1);
    expect(await writer.redis.exists(life.identity)).toBe(1);
    expect(Date.now() - killedAt).toBeLessThan(60_000);
  });

  it('a stopped process (SIGSTOP) is silent after the timeout and its job lost; once it beats again (SIGCONT) it is running and the job is not lost', async () => {
    const { server, life, jid } = await napOn('stop');
    server.kill('SIGSTOP');
    const lost = await eventually('the job of the stopped process to be lost', async () =>
      (await lostJobs()).find((j) => j.job_id === jid),
    );
    expect(lost.reason).toMatch(new RegExp(`^no heartbeat from ${life.identity} since `));
    expect((await lifeOf(server.pid!))?.status).toBe('silent');
    server.kill('SIGCONT');
    await eventually('the process to beat again', async () => {
      const l = await lifeOf(server.pid!);
      return l?.status === 'running' ? l : null;
    });
    expect((await lostJobs()).map((j) => j.job_id)).not.toContain(jid);
    server.kill('SIGKILL');
    await new Promise((r) => server.once('exit', r));
  });
});
