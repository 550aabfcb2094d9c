import pg from 'pg';
import { DeploysService } from '../../../src/findings/deploys/deploys.service.js';
import { FingerprintsService } from '../../../src/findings/fingerprints/fingerprints.service.js';
import { MetricsRegistry } from '../../../src/metrics/metrics-registry.js';
import { makeJid } from '../../factories/job-event.factory.js';
import { TestApp } from '../../support/test-context.js';

const HOUR = 3_600_000;
const hourOf = (ms: number) => Math.floor(ms / HOUR) * HOUR;

// a Capistrano release: the release directory and the line move with every deploy
const trace = (release: string, line: number) => [
  `/home/deploy/app/shared/bundle/ruby/3.2.0/gems/activerecord-7.1.3/lib/active_record/core.rb:253:in \`find'`,
  `/home/deploy/app/releases/${release}/app/jobs/sync_job.rb:${line}:in \`perform'`,
  `/home/deploy/app/shared/bundle/ruby/3.2.0/gems/sidekiq-7.2.4/lib/sidekiq/processor.rb:202:in \`execute_job'`,
];

/**
 * A failed first run as the Ruby client reports it: queued, started, failed, and retrying (same
 * run: Sidekiq's retry_count 0 after the first failure).
 */
function failedRun(opts: {
  jid?: string;
  jobClass?: string;
  at: Date;
  errorClass: string;
  message: string;
  backtrace: string[];
  instance?: string;
}): Record<string, unknown>[] {
  const jid = opts.jid ?? makeJid();
  const base = { job_id: jid, ...(opts.instance ? { instance: opts.instance } : {}) };
  const error = {
    error_class: opts.errorClass,
    error_message: opts.message,
    error_backtrace: opts.backtrace,
  };
  const at = opts.at.toISOString();
  return [
    {
      ...base,
      type: 'queued',
      job_class: opts.jobClass ?? 'SyncJob',
      queue: 'default',
      arguments: '[1]',
      occurred_at: at,
    },
    { ...base, type: 'started', occurred_at: at },
    { ...base, type: 'failed', occurred_at: at, will_retry: true, ...error },
    { ...base, type: 'retrying', occurred_at: at, retry_count: 0, ...error },
  ];
}

describe('failure fingerprints (integration)', () => {
  let ctx: TestApp;
  let sut: FingerprintsService;
  const now = Date.now();

  beforeAll(async () => {
    ctx = await TestApp.start();
    sut = ctx.get(FingerprintsService);
  });

  afterAll(async () => {
    await ctx?.close();
  });

  const list = async () => (await sut.list({ sort: 'count', limit: 100, offset: 0 })).groups;
  const newGauge = async () =>
    (await ctx.get(MetricsRegistry).failureFingerprintsNew.get()).values.map((v) => [
      v.labels.sidekiq_instance,
      v.value,
    ]);

  it('groups failed runs by error class, masked message and application frame, each run once', async () => {
    await ctx.postEvents([
      ...failedRun({
        at: new Date(now - 3 * HOUR),
        errorClass: 'ActiveRecord::RecordNotFound',
        message: "Couldn't find User with 'id'=17",
        backtrace: trace('20261201090000', 12),
      }),
      ...failedRun({
        at: new Date(now - 2 * HOUR),
        errorClass: 'ActiveRecord::RecordNotFound',
        message: "Couldn't find User with 'id'=9001",
        backtrace: trace('20261203170000', 14),
      }),
      ...failedRun({
        jid: 'reportjob000000000000001',
        jobClass: 'ReportJob',
        at: new Date(now - 2 * HOUR + 60_000),
        errorClass: 'ActiveRecord::RecordNotFound',
        message: "Couldn't find User with 'id'=5",
        backtrace: trace('20261203170000', 14),
      }),
      ...failedRun({
        at: new Date(now - 2 * HOUR),
        errorClass: 'Redis::TimeoutError',
        message: 'Connection timed out',
        backtrace: trace('20261203170000', 30),
      }),
    ]);

    const result = await sut.tick(new Date(now));
    expect(result).toMatchObject({ ran: true, failures: 4 });

    const groups = await list();
    expect(groups).toHaveLength(2);
    const [notFound, timeout] = groups;
    expect(notFound).toMatchObject({
      instance: 'default',
      errorClass: 'ActiveRecord::RecordNotFound',
      message: "Couldn't find User with 'id'=<n>",
      frame: '/home/deploy/app/releases/<n>/app/jobs/sync_job.rb in perform',
      count: 3,
      jobClasses: ['ReportJob', 'SyncJob'],
      sampleJid: 'reportjob000000000000001',
      sampleMessage: "Couldn't find User with 'id'=5",
      newSinceDeploy: false,
      lastDeploy: null,
    });
    expect(notFound.firstSeenAt.getTime()).toBe(now - 3 * HOUR);
    expect(notFound.lastSeenAt.getTime()).toBe(now - 2 * HOUR + 60_000);
    expect(timeout).toMatchObject({ errorClass: 'Redis::TimeoutError', count: 1 });

    // the last 24 hours, oldest first, ending with the current hour
    expect(notFound.trend).toHaveLength(24);
    expect(notFound.trend.at(-1)!.hour.getTime()).toBe(hourOf(now));
    const byHour = new Map(notFound.trend.map((t) => [t.hour.getTime(), t.count]));
    expect(byHour.get(hourOf(now - 3 * HOUR))).toBe(1);
    expect(notFound.trend.reduce((sum, t) => sum + t.count, 0)).toBe(3);
  });

  it('reads only what is new on the next tick, and moves last seen and the sample forward', async () => {
    expect((await sut.tick(new Date(now))).failures).toBe(0);
    await ctx.postEvents(
      failedRun({
        jid: 'syncjob00000000000000042',
        at: new Date(now - HOUR),
        errorClass: 'ActiveRecord::RecordNotFound',
        message: "Couldn't find User with 'id'=42",
        backtrace: trace('20261204080000', 13),
      }),
    );
    expect((await sut.tick(new Date(now))).failures).toBe(1);
    const [notFound] = await list();
    expect(notFound).toMatchObject({ count: 4, sampleJid: 'syncjob00000000000000042' });
    expect(notFound.lastSeenAt.getTime()).toBe(now - HOUR);
    expect(notFound.firstSeenAt.getTime()).toBe(now - 3 * HOUR);
  });

  it('marks fingerprints first seen after the last deploy, opens a finding for each and ends it at the next deploy', async () => {
    const deploys = ctx.get(DeploysService);
    await deploys.mark({ revision: 'v1', deployedAt: new Date(now - 90 * 60_000) });
    await ctx.postEvents(
      failedRun({
        at: new Date(now - 30 * 60_000),
        errorClass: 'NoMethodError',
        message: "undefined method `email' for nil",
        backtrace: trace('20261204120000', 7),
      }),
    );
    await sut.tick(new Date(now));

    const groups = await list();
    const fresh = groups.filter((g) => g.newSinceDeploy);
    expect(fresh.map((g) => g.errorClass)).toEqual(['NoMethodError']);
    expect(fresh[0].lastDeploy).toMatchObject({ revision: 'v1' });
    const open = await ctx.db.sql.query(
      `select detector, identity, instance, jid, summary, evidence from findings where ended_at is null`,
    );
    expect(open.rows).toHaveLength(1);
    expect(open.rows[0]).toMatchObject({
      detector: 'new_failure',
      identity: `new_failure:default:${fresh[0].fingerprint}`,
      instance: 'default',
      jid: fresh[0].sampleJid,
    });
    expect(open.rows[0].summary).toContain(
      "New failure since deploy v1: NoMethodError: undefined method `email' for nil",
    );
    expect(await newGauge()).toEqual([['default', 1]]);

    // the same state on the next tick: still one open finding, not a second one
    await sut.tick(new Date(now));
    expect((await ctx.db.sql.query(`select id from findings`)).rows).toHaveLength(1);

    await deploys.mark({ revision: 'v2', deployedAt: new Date(now - 10 * 60_000) });
    const tick = await sut.tick(new Date(now));
    expect(tick.findings.ended).toBe(1);
    expect(
      (await ctx.db.sql.query(`select id from findings where ended_at is null`)).rows,
    ).toHaveLength(0);
    expect(await newGauge()).toEqual([['default', 0]]);
  });

  it('waits for a transaction that holds a smaller event id, then reads it', async () => {
    const slow = new pg.Client({ connectionString: ctx.db.url });
    await slow.connect();
    try {
      await slow.query('begin');
      await slow.query(
        `with j as (
           insert into jobs (instance, jid, job_class, queue, status, attempt, event_count,
             first_event_at, last_event_at)
           values ('default', $1, 'SlowJob', 'q', 'failed', 0, 1, now(), now()) returning id)
         insert into job_events (job_id, type, occurred_at, client_time, attempt, error_class,
           error_message)
         select id, 'failed', now(), true, 0, 'SlowCommitError', 'late' from j`,
        [makeJid()],
      );
      await ctx.postEvents(
        failedRun({
          at: new Date(now),
          errorClass: 'FastCommitError',
          message: 'early',
          backtrace: trace('20261204120000', 7),
        }),
      );
      // the slow transaction could still commit an id below the fast one's: neither is read yet
      expect((await sut.tick(new Date(now))).failures).toBe(0);
      await slow.query('commit');
      expect((await sut.tick(new Date(now))).failures).toBe(2);
    } finally {
      await slow.end();
    }
    const classes = (await list()).map((g) => g.errorClass);
    expect(classes).toEqual(expect.arrayContaining(['SlowCommitError', 'FastCommitError']));
  });

  it('skips the tick while another copy holds the lock', async () => {
    const other = new pg.Client({ connectionString: ctx.db.url });
    await other.connect();
    try {
      await other.query('begin');
      await other.query('select pg_advisory_xact_lock(7301006)');
      expect((await sut.tick(new Date(now))).ran).toBe(false);
      await other.query('commit');
    } finally {
      await other.end();
    }
    expect((await sut.tick(new Date(now))).ran).toBe(true);
  });
});

describe('deploy regressions (integration)', () => {
  let ctx: TestApp;
  const deployedAt = new Date(Date.now() - 2 * HOUR);

  beforeAll(async () => {
    ctx = await TestApp.start();
  });

  afterAll(async () => {
    await ctx?.close();
  });

  // `count` terminal jobs of a class ending `minutesFromDeploy` after the deploy, `failed` of them dead
  const jobs = (
    jobClass: string,
    minutesFromDeploy: number,
    count: number,
    failed: number,
    ms: number,
  ) =>
    ctx.db.sql.query(
      `insert into jobs (instance, jid, job_class, queue, status, attempt, event_count,
         first_event_at, last_event_at, started_at, completed_at, failed_at, duration_ms)
       select 'default', $1 || g, $2, 'q', case when g <= $4 then 'dead' else 'succeeded' end, 0, 2,
         t, t, t, case when g > $4 then t end, case when g <= $4 then t end, $5
       from generate_series(1, $3) g, (select $6::timestamptz as t) x`,
      [
        makeJid(),
        jobClass,
        count,
        failed,
        ms,
        new Date(deployedAt.getTime() + minutesFromDeploy * 60_000),
      ],
    );

  it('compares each class before and after the deploy, flags regressions and opens findings for them', async () => {
    await jobs('ChargeJob', -30, 40, 0, 100);
    await jobs('ChargeJob', 30, 40, 10, 100);
    await jobs('ExportJob', -30, 30, 0, 200);
    await jobs('ExportJob', 30, 30, 0, 900);
    await jobs('SteadyJob', -30, 30, 1, 50);
    await jobs('SteadyJob', 30, 30, 1, 50);
    // outside both windows: not counted
    await jobs('SteadyJob', -90, 30, 30, 50);

    const deploys = ctx.get(DeploysService);
    await deploys.mark({ revision: 'r42', deployedAt });
    const page = await deploys.list({ limit: 10, offset: 0 });
    expect(page.deploys).toHaveLength(1);
    const [deploy] = page.deploys;
    expect(deploy).toMatchObject({ windowMinutes: 60, afterComplete: true, regressions: 2 });
    const byClass = Object.fromEntries(deploy.classes.map((c) => [c.jobClass, c]));
    expect(byClass.ChargeJob).toMatchObject({
      before: { count: 40, failed: 0 },
      after: { count: 40, failed: 10 },
      failureRateChange: 25,
    });
    expect(byClass.ChargeJob.reasons).toEqual([
      'failure rate 0% → 25% (10 of 40 failed; threshold +5 points)',
    ]);
    expect(byClass.ExportJob.reasons).toEqual([
      'run-time p95 200 ms → 900 ms (+350%; threshold +50%)',
    ]);
    expect(byClass.SteadyJob).toMatchObject({
      before: { count: 30, failed: 1 },
      reasons: [],
    });

    await ctx.get(FingerprintsService).tick(new Date());
    const open = await ctx.db.sql.query(
      `select identity, job_class, summary, evidence from findings
       where detector = 'deploy_regression' and ended_at is null order by job_class`,
    );
    expect(open.rows.map((r) => r.identity)).toEqual([
      'deploy_regression:default:r42:ChargeJob',
      'deploy_regression:default:r42:ExportJob',
    ]);
    expect(open.rows[0].summary).toBe(
      'ChargeJob regressed after deploy r42: failure rate 0% → 25% (10 of 40 failed; threshold +5 points)',
    );
    expect(open.rows[0].evidence).toMatchObject({ revision: 'r42', window_minutes: 60 });
  });
});
