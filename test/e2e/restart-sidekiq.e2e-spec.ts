import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import request from 'supertest';
import { makeJid, makeStartedJobEvents } from '../factories/job-event.factory.js';
import { testRedisUrl } from '../support/app-with-sidekiq.js';
import { TEST_TOKEN, TestApp } from '../support/test-context.js';
import { eventually } from '../support/eventually.js';

// The restart end to end: a job that started on a Sidekiq process that is gone is restarted over
// REST, and a real Sidekiq server (Debian's ruby-sidekiq) executes the restarted job.
const REDIS_DB = 2;
const ROOT = resolve(import.meta.dirname, '../..');

describe('restart executed by a real Sidekiq (e2e)', () => {
  let ctx: TestApp;
  let redis: Redis;
  let server: ChildProcess | undefined;
  let redisUrl: string;

  beforeAll(async () => {
    await promisify(execFile)('bash', [join(ROOT, 'scripts/ensure-ruby.sh')]);
    redisUrl = testRedisUrl(REDIS_DB);
    redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    await redis.flushdb();
    ctx = await TestApp.start({ env: { REDIS_URL: redisUrl } });
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => server!.once('exit', r));
    }
    await ctx?.close();
    await redis?.flushdb();
    await redis?.quit();
  });

  it('runs the restarted job once, with the same raw arguments and a link back', async () => {
    const jid = makeJid();
    const args = '["invoice-42",{"total":10.50,"lines":[1,2,3]},null]';
    const tenMinutesAgo = new Date(Date.now() - 600_000).toISOString();
    await ctx.postEvents(
      makeStartedJobEvents({
        jid,
        jobClass: 'ReportJob',
        queue: 'reports',
        arguments: args,
        queuedAt: tenMinutesAgo,
        worker: { hostname: 'gone-host', pid: 4321 },
        tid: 'x1',
      }),
    );

    const res = await request(ctx.http)
      .post('/api/v1/job-manager/restart-uncompleted-jobs')
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .send({ filter: 'invoice-42', dry_run: false })
      .expect(200);
    expect(res.body.restarted).toBe(1);
    const [newJid] = res.body.restarted_jids as string[];

    const log = openSync(join(tmpdir(), `sidekiq-restart-${process.pid}.log`), 'w');
    server = spawn('sidekiq', ['-r', './restart_app.rb', '-q', 'reports', '-c', '1', '-t', '2'], {
      cwd: join(ROOT, 'test/ruby'),
      env: { ...process.env, SIDEKIQ_REDIS_URL: redisUrl, RUBYOPT: '-W0' },
      stdio: ['ignore', log, log],
    });
    const probe = await eventually('the restarted job to run in Sidekiq', async () => {
      const ran = await redis.lrange('restart-probe', 0, -1);
      return ran.length > 0 ? ran : null;
    });
    expect(probe).toHaveLength(1);
    const ran = JSON.parse(probe[0]) as { jid: string; args: unknown[]; restarted_from: string };
    expect(ran).toEqual({ jid: newJid, args: JSON.parse(args), restarted_from: jid });
    expect(await redis.llen('queue:reports')).toBe(0);

    const again = await request(ctx.http)
      .post('/api/v1/job-manager/restart-uncompleted-jobs')
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .send({ filter: 'invoice-42', dry_run: false })
      .expect(200);
    expect(again.body.restarted).toBe(0);
  });
});
