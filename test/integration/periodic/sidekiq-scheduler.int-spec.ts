// Periodic jobs of sidekiq-scheduler beside sidekiq-cron's, on the gem's Redis layout written by
// test/factories/scheduler-job.factory.ts as the gem's source writes it (no gem can be installed
// here): the list reads both kinds, enable/disable write sidekiq-scheduler:states as its web UI's
// toggle, enqueue now pushes what its enqueue_job pushes, and the overdue check judges a cron
// schedule by its times and an `every` one by its interval.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import request from 'supertest';
import { TaskScheduler } from '../../../src/scheduler/task.scheduler.js';
import { saveCronJob } from '../../factories/cron-job.factory.js';
import { makeFinishedRunEvents } from '../../factories/job-event.factory.js';
import {
  eoTimeText,
  saveSchedulerJob,
  schedulerKeys,
} from '../../factories/scheduler-job.factory.js';
import { testRedisUrl } from '../../support/app-with-sidekiq.js';
import { TEST_TOKEN, TestApp } from '../../support/test-context.js';

const run = promisify(execFile);
const API = '/api/v1/sidekiq/periodic';

// The real Sidekiq::Client.push (Debian's ruby-sidekiq) of the hash sidekiq-scheduler hands it
// (Utils.enqueue_with_sidekiq after prepare_arguments): the payload it writes, for comparison
const SIDEKIQ_PUSH_RB = `
require "sidekiq"
require "json"
Sidekiq.configure_client { |c| c.redis = { url: ENV.fetch("SIDEKIQ_REDIS_URL") } }
item = JSON.parse(ARGV[0])
queue = item["queue"] || "default"
Sidekiq::Client.push(item)
print Sidekiq.redis { |r| r.lpop("queue:#{queue}") }
`;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

type Json = any;

describe('periodic jobs on the sidekiq-scheduler layout, beside sidekiq-cron', () => {
  let ctx: TestApp;
  let redis: Redis;
  const http = () => request(ctx.http);
  const keys = schedulerKeys();
  // the next run the scheduler wrote for hourly_sync, in a process at UTC+1
  const hourlyNext = new Date(Math.ceil(Date.now() / HOUR) * HOUR);

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

  const list = async (query = '') =>
    (await http().get(`${API}?per_page=100${query}`).set('PRIVATE-TOKEN', TEST_TOKEN).expect(200))
      .body;

  beforeAll(async () => {
    const url = testRedisUrl(13);
    redis = new Redis(url, { maxRetriesPerRequest: 1 });
    await redis.flushdb();
    await saveCronJob(redis, { name: 'cron_cleanup', klass: 'CronCleanupJob', args: '[1]' });
    await saveSchedulerJob(redis, {
      name: 'hourly_sync',
      config: {
        cron: '0 * * * *',
        class: 'HourlySyncJob',
        queue: 'low',
        args: [{ full: true }],
        description: 'Sync every hour',
      },
      nextTime: hourlyNext,
      lastTime: new Date(hourlyNext.getTime() - HOUR),
      offsetMinutes: 60,
    });
    await saveSchedulerJob(redis, {
      name: 'every_ping',
      config: { every: '10m', class: 'PingJob', args: 'host-1', include_metadata: true },
      lastTime: new Date(Date.now() - 5 * MINUTE),
    });
    await saveSchedulerJob(redis, {
      name: 'stale_every',
      // RufusUtils.normalize_schedule_options: [schedule, options]
      config: { every: ['30m', { first_in: '1m' }], class: 'StaleJob' },
    });
    await saveSchedulerJob(redis, {
      name: 'paused',
      config: { cron: '*/5 * * * *', class: 'PausedJob' },
      state: { enabled: false },
    });
    await saveSchedulerJob(redis, {
      name: 'off_in_config',
      config: { every: '1h', class: 'OffJob', enabled: false },
    });
    await saveSchedulerJob(redis, {
      name: 'on_by_state',
      config: { every: '1h', class: 'OnJob', enabled: false },
      state: { enabled: true },
    });
    // rufus reads a cron without a zone in the scheduler process's time: here UTC+1
    await saveSchedulerJob(redis, {
      name: 'daily_local',
      config: { cron: '0 3 * * *', class: 'DailyLocalJob' },
      lastTime: new Date('2026-12-04T02:00:00Z'),
      offsetMinutes: 60,
    });
    await saveSchedulerJob(redis, {
      name: 'once',
      config: { at: '2030-01-01 00:00:00 +0000', class: 'OnceJob', args: { a: 1 } },
    });
    // an app with RedisManager.key_prefix = "app" on the same Redis
    await saveSchedulerJob(redis, {
      name: 'prefixed_job',
      config: { cron: '0 0 * * *', class: 'PrefixedJob' },
      keyPrefix: 'app',
    });
    ctx = await TestApp.start({
      env: {
        REDIS_URL: url,
        SIDEKIQ_INSTANCES: `prefixed=${url}?scheduler_key_prefix=app`,
      },
    });
    await ran('HourlySyncJob', 4 * HOUR + MINUTE);
    await ran('PingJob', 5 * MINUTE);
    await ran('StaleJob', 2 * HOUR);
    await ran('PausedJob', 3 * HOUR);
    await ran('OffJob', 5 * HOUR);
    await ran('OnJob', 10 * MINUTE);
  });

  afterAll(async () => {
    await ctx?.close();
    await redis?.flushdb();
    await redis?.quit();
  });

  it('lists sidekiq-cron jobs, then sidekiq-scheduler schedules, each as its gem reads it', async () => {
    const body = await list();
    expect(body).toMatchObject({ instance: 'default', total: 9, truncated: false });
    expect(body.jobs.map((j: Json) => [j.source, j.name])).toEqual([
      ['sidekiq-cron', 'cron_cleanup'],
      ['sidekiq-scheduler', 'daily_local'],
      ['sidekiq-scheduler', 'every_ping'],
      ['sidekiq-scheduler', 'hourly_sync'],
      ['sidekiq-scheduler', 'off_in_config'],
      ['sidekiq-scheduler', 'on_by_state'],
      ['sidekiq-scheduler', 'once'],
      ['sidekiq-scheduler', 'paused'],
      ['sidekiq-scheduler', 'stale_every'],
    ]);
    const by = Object.fromEntries(body.jobs.map((j: Json) => [j.name, j]));
    expect(by.cron_cleanup).toMatchObject({
      schedule_type: 'cron',
      schedule: '*/5 * * * *',
      cron: '*/5 * * * *',
      status: 'never_run',
    });
    expect(by.hourly_sync).toMatchObject({
      schedule_type: 'cron',
      schedule: '0 * * * *',
      cron: '0 * * * *',
      class: 'HourlySyncJob',
      queue: 'low',
      args: '[{"full":true}]',
      description: 'Sync every hour',
      enabled: true,
      status: 'overdue',
      // next_times / last_times as the scheduler wrote them ("… +0100")
      next_run: hourlyNext.toISOString(),
      last_enqueue_time: new Date(hourlyNext.getTime() - HOUR).toISOString(),
      last_run_status: 'succeeded',
    });
    expect(by.hourly_sync.missed_runs).toBeGreaterThanOrEqual(3);
    expect(by.every_ping).toMatchObject({
      schedule_type: 'every',
      schedule: '10m',
      cron: null,
      queue: 'default',
      args: '"host-1"',
      status: 'ok',
      missed_runs: 0,
      schedule_error: null,
    });
    // no next_times: the last trigger plus the interval
    expect(new Date(by.every_ping.next_run).getTime()).toBe(
      new Date(by.every_ping.last_enqueue_time).getTime() + 10 * MINUTE,
    );
    expect(by.stale_every).toMatchObject({
      schedule_type: 'every',
      schedule: '30m',
      status: 'overdue',
      missed_runs: 4,
      next_run: null,
    });
    // states win over the schedule's own `enabled`, which wins over the default (enabled)
    expect(by.paused).toMatchObject({ enabled: false, status: 'disabled' });
    expect(by.off_in_config).toMatchObject({ enabled: false, status: 'disabled' });
    expect(by.on_by_state).toMatchObject({ enabled: true, status: 'ok' });
    expect(by.once).toMatchObject({
      schedule_type: 'at',
      schedule: '2030-01-01 00:00:00 +0000',
      status: 'never_run',
      missed_runs: null,
    });
    // no next_times: from the expression, at 03:00 in UTC+1
    expect(by.daily_local.next_run).toMatch(/T02:00:00\.000Z$/);
    // the key_prefix app's schedules are only the prefixed instance's
    expect(by.prefixed_job).toBeUndefined();
    const prefixed = await list('&instance=prefixed');
    expect(prefixed.jobs.map((j: Json) => [j.source, j.name])).toEqual([
      ['sidekiq-cron', 'cron_cleanup'],
      ['sidekiq-scheduler', 'prefixed_job'],
    ]);
  });

  it('pages across the two kinds', async () => {
    const page1 = await http().get(`${API}?per_page=3`).set('PRIVATE-TOKEN', TEST_TOKEN);
    expect(page1.body.jobs.map((j: Json) => j.name)).toEqual([
      'cron_cleanup',
      'daily_local',
      'every_ping',
    ]);
    const page3 = await http().get(`${API}?per_page=3&page=3`).set('PRIVATE-TOKEN', TEST_TOKEN);
    expect(page3.body.jobs.map((j: Json) => j.name)).toEqual(['once', 'paused', 'stale_every']);
    const past = await http().get(`${API}?per_page=3&page=4`).set('PRIVATE-TOKEN', TEST_TOKEN);
    expect(past.body).toMatchObject({ total: 9, jobs: [] });
  });

  it('disables and enables a schedule by writing sidekiq-scheduler:states as the web UI does', async () => {
    const off = await http()
      .post(`${API}/every_ping/disable`)
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(200);
    expect(off.body).toMatchObject({
      source: 'sidekiq-scheduler',
      name: 'every_ping',
      enabled: false,
      status: 'disabled',
    });
    // JSON.generate(state) of schedule_state(name) with `enabled` set
    expect(await redis.hget(keys.states, 'every_ping')).toBe('{"enabled":false}');
    await http().post(`${API}/every_ping/enable`).set('PRIVATE-TOKEN', TEST_TOKEN).expect(200);
    expect(await redis.hget(keys.states, 'every_ping')).toBe('{"enabled":true}');

    // other keys of a stored state stay, in their order
    await redis.hset(keys.states, 'paused', '{"enabled":false,"by":"ops"}');
    const on = await http()
      .post(`${API}/paused/enable?source=sidekiq-scheduler`)
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(200);
    // enabled again, its every-5-minutes schedule has not succeeded for 3 hours
    expect(on.body).toMatchObject({ enabled: true, status: 'overdue' });
    expect(await redis.hget(keys.states, 'paused')).toBe('{"enabled":true,"by":"ops"}');
    await http().post(`${API}/paused/disable`).set('PRIVATE-TOKEN', TEST_TOKEN).expect(200);
    expect(await redis.hget(keys.states, 'paused')).toBe('{"enabled":false,"by":"ops"}');
    // the schedule itself is untouched, as the gem leaves it
    expect(JSON.parse((await redis.hget(keys.schedules, 'paused'))!)).toEqual({
      cron: '*/5 * * * *',
      class: 'PausedJob',
    });

    // a state for a schedule name that does not exist is never written
    const gone = await http()
      .post(`${API}/nope/disable?source=sidekiq-scheduler`)
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(404);
    expect(gone.body).toMatchObject({ code: 'PERIODIC_JOB_NOT_FOUND' });
    expect(await redis.hexists(keys.states, 'nope')).toBe(0);

    const audit = await ctx.db.sql.query(
      `select action, targets, result from audit_log
       where action = 'sidekiq.periodic.disable' and outcome = 'ok' order by id desc limit 1`,
    );
    expect(audit.rows[0]).toMatchObject({
      targets: expect.objectContaining({ periodic_job: 'paused' }),
      result: { source: 'sidekiq-scheduler' },
    });
  });

  it('enqueues now what the gem pushes: the config without rufus keys, args as an Array', async () => {
    await redis.del('queue:low', 'queue:default');
    const res = await http()
      .post(`${API}/hourly_sync/enqueue`)
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(200);
    expect(res.body).toMatchObject({
      source: 'sidekiq-scheduler',
      name: 'hourly_sync',
      queue: 'low',
      jid: expect.stringMatching(/^[0-9a-f]{24}$/),
    });
    expect(await redis.sismember('queues', 'low')).toBe(1);
    const [raw] = await redis.lrange('queue:low', 0, -1);
    const pushed = JSON.parse(raw!);
    // normalize_item: retry and queue first (default_job_options.merge), then the config's keys
    expect(Object.keys(pushed)).toEqual([
      'retry',
      'queue',
      'class',
      'args',
      'jid',
      'created_at',
      'enqueued_at',
    ]);
    expect(pushed).toMatchObject({
      retry: true,
      queue: 'low',
      class: 'HourlySyncJob',
      args: [{ full: true }],
      jid: res.body.jid,
    });
    expect(typeof pushed.created_at).toBe('number');
    // the same hash pushed by the real Sidekiq client: the same keys, in the same order
    const { stdout } = await run(
      'ruby',
      [
        '-e',
        SIDEKIQ_PUSH_RB,
        JSON.stringify({ class: 'HourlySyncJob', queue: 'low', args: [{ full: true }] }),
      ],
      { env: { ...process.env, SIDEKIQ_REDIS_URL: testRedisUrl(13), RUBYOPT: '-W0' } },
    );
    const theirs = JSON.parse(stdout);
    expect(Object.keys(pushed)).toEqual(Object.keys(theirs));
    expect({ ...pushed, jid: 0, created_at: 0, enqueued_at: 0 }).toEqual({
      ...theirs,
      jid: 0,
      created_at: 0,
      enqueued_at: 0,
    });
    // the gem writes no time of its own for an enqueue now
    expect(await redis.hget(keys.lastTimes, 'hourly_sync')).toBe(
      eoTimeText(new Date(hourlyNext.getTime() - HOUR), 60),
    );

    // Array("host-1"), plus {"scheduled_at": …} for include_metadata, which is not pushed
    const before = Date.now() / 1000;
    await http().post(`${API}/every_ping/enqueue`).set('PRIVATE-TOKEN', TEST_TOKEN).expect(200);
    const ping = JSON.parse((await redis.lindex('queue:default', 0))!);
    expect(ping.args[0]).toBe('host-1');
    expect(ping.args[1].scheduled_at).toBeGreaterThanOrEqual(Math.floor(before));
    expect(ping).not.toHaveProperty('include_metadata');
    expect(ping).not.toHaveProperty('every');
    expect(ping).toMatchObject({ class: 'PingJob', queue: 'default', retry: true });

    // Hash args: Sidekiq::Client.push would raise; nothing is pushed
    const length = await redis.llen('queue:default');
    const hash = await http()
      .post(`${API}/once/enqueue`)
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(409);
    expect(hash.body.code).toBe('SIDEKIQ_OPERATION_NOT_ALLOWED');
    expect(await redis.llen('queue:default')).toBe(length);
  });

  it('asks which gem when both have a job of that name', async () => {
    await saveSchedulerJob(redis, { name: 'cron_cleanup', config: { every: '1h', class: 'X' } });
    try {
      const both = await http()
        .post(`${API}/cron_cleanup/disable`)
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .expect(409);
      expect(both.body).toMatchObject({ code: 'CONFLICT', details: { field: 'source' } });
      await http()
        .post(`${API}/cron_cleanup/disable?source=sidekiq-cron`)
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .expect(200);
      expect(await redis.hget('cron_job:cron_cleanup', 'status')).toBe('disabled');
      expect(await redis.hexists(keys.states, 'cron_cleanup')).toBe(0);
      await http()
        .post(`${API}/cron_cleanup/enable?source=sidekiq-cron`)
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .expect(200);
    } finally {
      await redis.hdel(keys.schedules, 'cron_cleanup');
    }
  });

  it('opens an overdue finding for a cron schedule and an every one, and ends them on success', async () => {
    const scheduler = ctx.get(TaskScheduler);
    expect(await scheduler.tick('periodic', new Date())).toBe('ran');
    const findings = await openFindings();
    expect(findings.map((f: Json) => f.identity)).toEqual([
      'overdue:default:sidekiq-scheduler:hourly_sync',
      'overdue:default:sidekiq-scheduler:stale_every',
    ]);
    expect(findings[0]).toMatchObject({
      severity: 'warning',
      summary: expect.stringMatching(
        /^sidekiq-scheduler job "hourly_sync" \(HourlySyncJob, cron "0 \* \* \* \*"\) has not succeeded since .*: [345] scheduled runs went by \(overdue after 3\)$/,
      ),
      evidence: expect.objectContaining({
        source: 'sidekiq-scheduler',
        schedule_type: 'cron',
        next_run: hourlyNext.toISOString(),
      }),
    });
    expect(findings[1]).toMatchObject({
      severity: 'warning',
      summary: expect.stringMatching(
        /^sidekiq-scheduler job "stale_every" \(StaleJob, every "30m"\) has not succeeded since .*: 4 intervals went by \(overdue after 3\)$/,
      ),
      evidence: expect.objectContaining({ schedule_type: 'every', missed_runs: 4 }),
    });

    await ran('HourlySyncJob', 0);
    await ran('StaleJob', 0);
    expect(await scheduler.tick('periodic', new Date())).toBe('ran');
    expect(await openFindings()).toEqual([]);
  });

  it('reads at most 5000 schedules and says the list is truncated', async () => {
    const other = new Redis(testRedisUrl(14), { maxRetriesPerRequest: 1 });
    try {
      await other.flushdb();
      const fields: string[] = [];
      for (let i = 0; i < 5001; i++) {
        fields.push(`job_${String(i).padStart(5, '0')}`, '{"every":"1h","class":"ManyJob"}');
      }
      await other.hset('schedules', ...fields);
      const many = await TestApp.startOn(ctx.db, { env: { REDIS_URL: testRedisUrl(14) } });
      try {
        const res = await request(many.http)
          .get(`${API}?per_page=2&page=1000`)
          .set('PRIVATE-TOKEN', TEST_TOKEN)
          .expect(200);
        expect(res.body).toMatchObject({ total: 5000, truncated: true });
        expect(res.body.jobs).toHaveLength(2);
      } finally {
        await many.closeApp();
      }
    } finally {
      await other.flushdb();
      await other.quit();
    }
  });
});
