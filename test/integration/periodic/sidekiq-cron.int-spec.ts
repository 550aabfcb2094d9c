// Periodic jobs against the real sidekiq-cron (Debian's ruby-sidekiq-cron 1.8 on ruby-sidekiq
// 6.4.1): the gem creates the cron jobs (test/ruby/sidekiq_cron.rb), the service lists them with
// the job history, its enable/disable are read back through the gem, its enqueue is run by a real
// Sidekiq server, and the overdue check opens and ends findings.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import request from 'supertest';
import { TaskScheduler } from '../../../src/scheduler/task.scheduler.js';
import { makeFinishedRunEvents } from '../../factories/job-event.factory.js';
import { testRedisUrl } from '../../support/app-with-sidekiq.js';
import { eventually } from '../../support/eventually.js';
import { TEST_TOKEN, TestApp } from '../../support/test-context.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const RUBY_DIR = join(ROOT, 'test/ruby');
const API = '/api/v1/sidekiq/periodic';

type Json = any;

describe('periodic jobs on a real sidekiq-cron layout', () => {
  let ctx: TestApp;
  let redis: Redis;
  let redisUrl: string;
  let server: ChildProcess | null = null;
  const http = () => request(ctx.http);

  async function ruby(cmd: string, args: Record<string, unknown> = {}): Promise<Json> {
    const { stdout } = await run('ruby', ['sidekiq_cron.rb', cmd, JSON.stringify(args)], {
      cwd: RUBY_DIR,
      env: { ...process.env, SIDEKIQ_REDIS_URL: redisUrl, RUBYOPT: '-W0' },
    });
    return JSON.parse(stdout);
  }

  /** A run of `jobClass` that ended `agoMs` before now, reported as the Ruby client does. */
  async function ran(jobClass: string, agoMs: number, outcome = 'succeeded'): Promise<void> {
    await ctx.postEvents(makeFinishedRunEvents(jobClass, new Date(Date.now() - agoMs), outcome));
  }

  const openFindings = async () =>
    (
      await ctx.db.sql.query(
        `select identity, severity, summary, evidence from findings
         where detector = 'overdue' and ended_at is null and instance = 'default'
         order by identity`,
      )
    ).rows;

  beforeAll(async () => {
    await run('bash', [join(ROOT, 'scripts/ensure-sidekiq-cron.sh')]);
    redisUrl = testRedisUrl(12);
    redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    await redis.flushdb();
    expect(await ruby('seed')).toHaveLength(4);
    // "down": an instance whose Redis never answers
    ctx = await TestApp.start({
      env: {
        REDIS_URL: redisUrl,
        SIDEKIQ_INSTANCES: 'down=redis://127.0.0.1:1/0',
        // a class that is overdue sooner than PERIODIC_OVERDUE_INTERVALS says
        DETECTOR_OVERRIDES: '{"BillingJob": {"overdue_intervals": 2}}',
      },
    });
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

  it('lists every cron job as the gem reads it, with next run and history status', async () => {
    await ran('HourlyReportJob', 4 * 3600_000 + 60_000);
    await ran('MinuteSweepJob', 20_000);
    const theirs: Json[] = await ruby('all');
    const res = await http().get(API).set('PRIVATE-TOKEN', TEST_TOKEN).expect(200);
    expect(res.body).toMatchObject({ instance: 'default', page: 1, per_page: 25, total: 4 });
    const jobs: Json[] = res.body.jobs;
    expect(jobs.map((j) => j.name)).toEqual(theirs.map((t) => t.name));
    for (const [i, t] of theirs.entries()) {
      expect(jobs[i]).toMatchObject({
        name: t.name,
        cron: t.cron,
        class: t.class,
        queue: t.queue,
        enabled: t.status === 'enabled',
      });
      // Ruby's iso8601 has whole seconds, as the gem stores them
      expect(jobs[i].last_enqueue_time?.replace('.000Z', 'Z') ?? null).toBe(t.last_enqueue_time);
      expect(JSON.parse(jobs[i].args)).toEqual(t.args);
    }
    const byName = Object.fromEntries(jobs.map((j) => [j.name, j]));
    expect(byName.hourly_report).toMatchObject({ status: 'overdue', last_run_status: 'succeeded' });
    expect(byName.hourly_report.missed_runs).toBeGreaterThanOrEqual(3);
    expect(byName.minute_sweep).toMatchObject({ status: 'ok', missed_runs: expect.any(Number) });
    expect(byName.paused_cleanup.status).toBe('disabled');
    expect(byName.nightly_paris).toMatchObject({ status: 'never_run', last_run_at: null });
    // 02:30 in Paris is 01:30 UTC in winter, 00:30 in summer
    expect(byName.nightly_paris.next_run).toMatch(/T0[01]:30:00\.000Z$/);
    const nextMinute = new Date(byName.minute_sweep.next_run).getTime();
    expect(nextMinute % 60_000).toBe(0);
    expect(nextMinute - Date.now()).toBeLessThanOrEqual(60_000);

    const page2 = await http()
      .get(`${API}?instance=default&per_page=3&page=2`)
      .set('PRIVATE-TOKEN', TEST_TOKEN);
    expect(page2.body.jobs.map((j: Json) => j.name)).toEqual(['paused_cleanup']);
  });

  it('disables and enables a job so that the gem reads the change', async () => {
    const off = await http()
      .post(`${API}/minute_sweep/disable`)
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(200);
    expect(off.body).toMatchObject({ name: 'minute_sweep', enabled: false, status: 'disabled' });
    expect((await ruby('find', { name: 'minute_sweep' })).status).toBe('disabled');
    await http().post(`${API}/paused_cleanup/enable`).set('PRIVATE-TOKEN', TEST_TOKEN).expect(200);
    expect((await ruby('find', { name: 'paused_cleanup' })).status).toBe('enabled');
    await http().post(`${API}/minute_sweep/enable`).set('PRIVATE-TOKEN', TEST_TOKEN).expect(200);
    expect((await ruby('find', { name: 'minute_sweep' })).status).toBe('enabled');
    const missing = await http()
      .post(`${API}/no_such_job/disable`)
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(404);
    expect(missing.body.code).toBe('PERIODIC_JOB_NOT_FOUND');
    expect(await redis.exists('cron_job:no_such_job')).toBe(0);
  });

  it('enqueues a job now as enque! does, and a real Sidekiq runs it', async () => {
    const res = await http()
      .post(`${API}/hourly_report/enqueue`)
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(200);
    expect(res.body).toMatchObject({ name: 'hourly_report', queue: 'low' });
    const theirs = await ruby('find', { name: 'hourly_report' });
    expect(theirs.last_enqueue_time).toBe(res.body.last_enqueue_time.replace('.000Z', 'Z'));
    expect(theirs.jid_history[0]).toEqual({
      jid: res.body.jid,
      enqueued: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000$/),
    });
    // the gem's own message for the class (its sidekiq_options: queue low, retry 3)
    const [payload] = await redis.lrange('queue:low', 0, 0);
    expect(JSON.parse(payload!)).toMatchObject({
      retry: 3,
      queue: 'low',
      class: 'HourlyReportJob',
      args: [{ format: 'pdf' }],
      jid: res.body.jid,
    });

    const log = openSync(join(tmpdir(), `sidekiq-cron-${process.pid}.log`), 'w');
    server = spawn('sidekiq', ['-r', './cron_app.rb', '-q', 'low', '-q', 'default', '-c', '2'], {
      cwd: RUBY_DIR,
      env: { ...process.env, SIDEKIQ_REDIS_URL: redisUrl, RUBYOPT: '-W0' },
      stdio: ['ignore', log, log],
    });
    const performed = await eventually('the server to run the pushed job', async () => {
      const runs = (await redis.lrange('cron_test:performed', 0, -1)).map((r) => JSON.parse(r));
      expect(runs).toHaveLength(1);
      return runs[0];
    });
    expect(performed).toEqual({
      class: 'HourlyReportJob',
      jid: res.body.jid,
      args: [{ format: 'pdf' }],
    });
  });

  it('opens an overdue finding per overdue cron job and ends it once the job succeeds', async () => {
    // a finding of an instance that cannot be checked now stays as it was
    await ctx.db.sql.query(
      `insert into findings (detector, identity, instance, summary, started_at, last_seen_at)
       values ('overdue', 'overdue:down:nightly', 'down', 'earlier', now(), now())`,
    );
    const scheduler = ctx.get(TaskScheduler);
    expect(await scheduler.tick('periodic', new Date())).toBe('ran');
    const [finding, ...others] = await openFindings();
    expect(others).toEqual([]);
    expect(finding).toMatchObject({
      identity: 'overdue:default:hourly_report',
      severity: 'warning',
      summary: expect.stringMatching(
        /^Cron job "hourly_report" \(HourlyReportJob, "0 \* \* \* \*"\) has not succeeded since .*: [345] scheduled runs went by \(overdue after 3\)$/,
      ),
      evidence: expect.objectContaining({ source: 'sidekiq-cron', cron: '0 * * * *' }),
    });
    // a second check keeps the same finding open
    expect(await scheduler.tick('periodic', new Date())).toBe('ran');
    const { rows } = await ctx.db.sql.query(
      "select count(*)::int as n from findings where identity = 'overdue:default:hourly_report'",
    );
    expect(rows[0].n).toBe(1);

    await ran('HourlyReportJob', 0);
    expect(await scheduler.tick('periodic', new Date())).toBe('ran');
    expect(await openFindings()).toEqual([]);
    const ended = await ctx.db.sql.query(
      "select ended_at from findings where identity = 'overdue:default:hourly_report'",
    );
    expect(ended.rows[0].ended_at).toBeInstanceOf(Date);
    const down = await ctx.db.sql.query(
      "select ended_at from findings where identity = 'overdue:down:nightly'",
    );
    expect(down.rows).toEqual([{ ended_at: null }]);
  });

  it('flags a class without a cron definition that stopped succeeding at its learned interval', async () => {
    const hour = 3600_000;
    for (let i = 0; i < 12; i++) {
      // hourly, give or take a minute, the newest 3.5 hours ago
      await ran('SyncJob', 3.5 * hour + i * hour + (i % 2) * 60_000);
      // a class run on demand: gaps all over the place
      await ran('ReportOnDemandJob', (3 + i * i) * hour);
      // hourly too, the newest 2.5 hours ago: overdue by its own limit of 2, not by the default 3
      await ran('BillingJob', 2.5 * hour + i * hour);
    }
    // a busy class: every 5 s
    for (let i = 0; i < 12; i++) {
      await ran('BusyJob', 3 * hour + i * 5000);
    }
    // a failed run does not count as a success
    await ran('SyncJob', 60_000, 'failed');
    const scheduler = ctx.get(TaskScheduler);
    expect(await scheduler.tick('periodic', new Date())).toBe('ran');
    const findings = await openFindings();
    expect(findings.map((f: Json) => f.identity).sort()).toEqual([
      'overdue:default:class:BillingJob',
      'overdue:default:class:SyncJob',
    ]);
    expect(findings[0].summary).toMatch(
      /^BillingJob usually succeeds every 1h \(median of its last 11 gaps\) and has not since .*: 2 intervals went by \(overdue after 2, its own limit\)$/,
    );
    expect(findings[0].evidence).toMatchObject({ overdue_intervals: 2, limit_source: 'override' });
    expect(findings[1].summary).toMatch(
      /^SyncJob usually succeeds every 1h( \d+m)? \(median of its last 11 gaps\) and has not since .*: 3 intervals went by \(overdue after 3\)$/,
    );
  });
});
