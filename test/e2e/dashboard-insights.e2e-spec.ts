import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import { TaskScheduler } from '../../src/scheduler/task.scheduler.js';
import { saveCronJob } from '../factories/cron-job.factory.js';
import { saveSchedulerJob } from '../factories/scheduler-job.factory.js';
import { makeJid } from '../factories/job-event.factory.js';
import { flushDb, redisUrlForDb } from '../integration/sidekiq/sidekiq-test-app.js';
import { openDashboardPage, requireChromium } from '../support/browser.js';
import { TEST_TOKEN, TestApp } from '../support/test-context.js';

// The dashboard's Metrics, Findings, Periodic and Failures pages in a real browser (Debian's
// Chromium, as dashboard.e2e-spec.ts) over seeded history and Sidekiq data: a job running for 3 h
// (stuck), one queued 20 minutes ago that Sidekiq does not hold (never started), a sidekiq-cron job
// due every 5 minutes whose class last succeeded an hour ago (overdue), a failure first seen after
// a deploy (a new fingerprint), and ReportJob's runs for the Metrics page; the detectors, the
// periodic check and the fingerprint scan run once, as their scheduler ticks do.
const REDIS = redisUrlForDb(2);
const BACKTRACE = [
  "/usr/local/bundle/gems/faraday-2.9.0/lib/faraday/response/raise_error.rb:30:in `on_complete'",
  "/app/app/services/stripe_client.rb:41:in `charge'",
];

const iso = (ms: number) => new Date(ms).toISOString();

/** A run of `jobClass` ending at `end`: queued `waitMs` before its start, `runMs` long. */
function run(
  jobClass: string,
  end: number,
  runMs: number,
  waitMs: number,
  outcome: 'succeeded' | 'dead',
): Record<string, unknown>[] {
  const jid = makeJid();
  return [
    {
      type: 'queued',
      job_id: jid,
      job_class: jobClass,
      queue: 'default',
      occurred_at: iso(end - runMs - waitMs),
    },
    { type: 'started', job_id: jid, occurred_at: iso(end - runMs) },
    outcome === 'succeeded'
      ? { type: 'succeeded', job_id: jid, occurred_at: iso(end), duration_ms: runMs }
      : { type: 'dead', job_id: jid, occurred_at: iso(end), error_class: 'KeyError' },
  ];
}

describe('dashboard: metrics, findings, periodic jobs, failures (headless Chromium)', () => {
  let ctx: TestApp;
  let base: string;
  let browser: Browser;
  let page: Page;
  let redis: Redis;
  let readToken: string;
  const errors: string[] = [];
  const stuckJid = makeJid();
  const waitingJid = makeJid();
  const failedJid = makeJid();
  const now = Date.now();

  beforeAll(async () => {
    requireChromium();
    await flushDb(REDIS);
    ctx = await TestApp.start({ env: { REDIS_URL: REDIS } });
    await ctx.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(ctx.http.address() as AddressInfo).port}`;
    redis = new Redis(REDIS);
    const token = async (name: string, scopes: string[]) =>
      (
        await request(ctx.http)
          .post('/api/v1/tokens')
          .set('PRIVATE-TOKEN', TEST_TOKEN)
          .send({ name, scopes })
          .expect(201)
      ).body.token as string;
    readToken = await token('insights reader', ['read']);
    const ingestToken = await token('insights app', ['ingest']);

    await saveCronJob(redis, { name: 'cleanup', cron: '*/5 * * * *', klass: 'CleanupJob' });
    // a sidekiq-scheduler schedule that has never run: listed, no finding
    await saveSchedulerJob(redis, { name: 'ping', config: { every: '10m', class: 'PingJob' } });
    await request(ctx.http)
      .post('/api/v1/deploys')
      .set('PRIVATE-TOKEN', ingestToken)
      .send({ revision: 'rev-42', deployed_at: iso(now - 30 * 60_000) })
      .expect(201);
    await ctx.postEvents([
      // ReportJob: 10 runs of 0.1 … 1.0 s, 2 s in the queue, the last 2 dead
      ...Array.from({ length: 10 }, (_, i) =>
        run('ReportJob', now - 10 * 60_000, (i + 1) * 100, 2_000, i >= 8 ? 'dead' : 'succeeded'),
      ).flat(),
      // the cron job's class: last success an hour ago (12 of its 5-minute runs went by)
      ...run('CleanupJob', now - 60 * 60_000, 50, 10, 'succeeded'),
      {
        type: 'queued',
        job_id: stuckJid,
        job_class: 'ImportJob',
        queue: 'default',
        occurred_at: iso(now - 3 * 3600_000 - 1000),
      },
      { type: 'started', job_id: stuckJid, occurred_at: iso(now - 3 * 3600_000) },
      {
        type: 'queued',
        job_id: waitingJid,
        job_class: 'MailJob',
        queue: 'default',
        occurred_at: iso(now - 20 * 60_000),
      },
      {
        type: 'queued',
        job_id: failedJid,
        job_class: 'ChargeJob',
        queue: 'default',
        occurred_at: iso(now - 5 * 60_000),
      },
      {
        type: 'failed',
        job_id: failedJid,
        occurred_at: iso(now - 5 * 60_000 + 100),
        will_retry: false,
        error_class: 'Faraday::ServerError',
        error_message: 'the server responded with status 502 for order 12345',
        error_backtrace: BACKTRACE,
      },
    ]);
    const scheduler = ctx.get(TaskScheduler);
    expect(await scheduler.tick('fingerprints', new Date())).toBe('ran');
    expect(await scheduler.tick('periodic', new Date())).toBe('ran');
    expect(await scheduler.tick('detectors', new Date())).toBe('ran');

    ({ browser, page } = await openDashboardPage(errors));
  });

  afterAll(async () => {
    await browser?.close();
    redis?.disconnect();
    await ctx?.close();
  });

  async function signIn(token: string): Promise<void> {
    if (await page.isVisible('#signout')) {
      await page.click('#signout');
    } else {
      await page.goto(`${base}/sidekiq`);
    }
    await page.waitForSelector('#signin-view:not([hidden])');
    await page.fill('#token', token);
    await page.click('#signin button[type=submit]');
    await page.waitForSelector('#nav:not([hidden])');
  }

  const cells = (selector: string) =>
    page.$$eval(selector, (tds) => tds.map((td) => td.textContent?.trim() ?? ''));

  it("shows a class's counts and percentiles on the Metrics page, and clicks through to its jobs", async () => {
    await signIn(readToken);
    await page.click('#nav a[href="#/metrics"]');
    const row = 'tr[data-class="ReportJob"]';
    await page.waitForSelector(row);
    expect(await page.textContent(`${row} [data-field="processed"]`)).toBe('10');
    expect(await page.textContent(`${row} [data-field="failed"]`)).toBe('2');
    expect(await page.textContent(`${row} [data-field="p50"]`)).toBe('550 ms');
    expect(await page.textContent(`${row} [data-field="p95"]`)).toBe('955 ms');
    // the stuck and waiting jobs have not finished: not on the page
    expect(await page.$('tr[data-class="ImportJob"]')).toBeNull();

    await page.click(`${row} a`);
    await page.waitForSelector('#chart-class-counts canvas');
    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/dashboard-metrics-class.png', fullPage: true });
    const stat = (key: string) => page.textContent(`[data-stat="${key}"]`);
    expect(await page.textContent('#view h1')).toBe('ReportJob');
    expect(await stat('processed')).toBe('10');
    expect(await stat('failed')).toBe('2');
    expect(await stat('failure_rate')).toBe('20.0 %');
    expect(await stat('run_p50')).toBe('550 ms');
    expect(await stat('run_p99')).toBe('991 ms');
    expect(await stat('wait_p50')).toBe('2.00 s');
    // the histogram: 100 ms in [100, 150), 800 … 1000 ms in [750, 1100)
    expect(await page.getAttribute('[data-bucket="< 150 ms"]', 'title')).toBe('< 150 ms: 1');
    expect(await page.getAttribute('[data-bucket="< 1.10 s"]', 'title')).toBe('< 1.10 s: 3');
    // a wider window reads again
    await page.selectOption('#metrics-window', '7d');
    await page.waitForSelector('#view p.muted:has-text("buckets of 240 min")');

    await page.click('#class-jobs');
    await page.waitForSelector('#job-filters');
    await page.waitForSelector('tr[data-jid]');
    expect(page.url()).toMatch(/#\/jobs$/);
    expect(await page.inputValue('#job-filters input[name="job_class"]')).toBe('ReportJob');
    const classes = await cells('tr[data-jid] td:nth-child(3)');
    expect(classes).toHaveLength(10);
    expect(new Set(classes)).toEqual(new Set(['ReportJob']));
  });

  it('shows the stuck, never-started, overdue and new-failure findings, filtered by detector', async () => {
    await page.click('#nav a[href="#/findings"]');
    await page.waitForSelector('tr[data-detector="stuck"]');
    const stuck = 'tr[data-detector="stuck"]';
    expect(await page.textContent(`${stuck} td.why .summary`)).toMatch(/^running 3h/);
    expect(await page.textContent(`${stuck} td.jobs a`)).toBe(stuckJid);
    const never = 'tr[data-detector="never_started"]';
    expect(await page.textContent(`${never} td.why .summary`)).toMatch(
      /lost between push and fetch$/,
    );
    expect(await page.textContent(`${never} td.jobs a`)).toBe(waitingJid);
    expect(await page.textContent('tr[data-detector="overdue"] td.why .summary')).toContain(
      'Cron job "cleanup" (CleanupJob',
    );
    // ChargeJob's failure, and ReportJob's KeyError (its two dead runs)
    expect((await cells('tr[data-detector="new_failure"] td:nth-child(4)')).sort()).toEqual([
      'ChargeJob',
      'ReportJob',
    ]);
    // the evidence behind the summary
    await page.click(`${never} details summary`);
    expect(await page.textContent(`${never} pre.evidence`)).toContain('"held": "nowhere"');

    await page.selectOption('#finding-detector', 'stuck');
    // (not waitForFunction: polling a predicate needs eval, which the dashboard's CSP refuses)
    await page.waitForSelector('tr[data-detector]:not([data-detector="stuck"])', {
      state: 'detached',
    });
    await page.waitForSelector('tr[data-detector="stuck"]');
    expect(await page.$$('tr[data-detector]')).toHaveLength(1);
    // the job link leads to the job
    await page.click('tr[data-detector="stuck"] td.jobs a');
    await page.waitForSelector(`#view h1:has-text("${stuckJid}")`);
  });

  it('shows the periodic jobs with their status, without actions for a read token', async () => {
    await page.click('#nav a[href="#/periodic"]');
    const row = 'tr[data-cron="cleanup"]';
    await page.waitForSelector(row);
    expect(await page.textContent(`${row} [data-field="status"]`)).toBe('overdue');
    expect(await page.textContent(`${row} td:nth-child(3)`)).toBe('*/5 * * * *');
    expect(await page.$$(`${row} button`)).toHaveLength(0);
    const ping = 'tr[data-cron="ping"]';
    expect(await page.textContent(`${ping} td:nth-child(1)`)).toBe('pingsidekiq-scheduler');
    expect(await page.textContent(`${ping} td:nth-child(3)`)).toBe('every 10m');
    expect(await page.textContent(`${ping} [data-field="status"]`)).toBe('never_run');
  });

  it('shows the new failure fingerprint with its trend, classes and sample job', async () => {
    await page.click('#nav a[href="#/failures"]');
    await page.waitForSelector('tr[data-fingerprint]');
    // newest failure first: ChargeJob's (5 minutes ago), then ReportJob's KeyError
    expect(await cells('tr[data-fingerprint] td.error strong')).toEqual([
      'Faraday::ServerError',
      'KeyError',
    ]);
    const row = 'tr[data-fingerprint]:first-child';
    expect(await page.textContent(`${row} td.error .badge.new`)).toBe('new since deploy');
    const masked = await page.textContent(`${row} td.error code`);
    expect(masked).toContain('the server responded with status');
    expect(masked).not.toContain('12345');
    expect(await page.textContent(`${row} [data-field="count"]`)).toBe('1');
    expect(await page.textContent(`${row} td:nth-child(6)`)).toBe('ChargeJob');
    expect(await page.textContent(`${row} td.sample a`)).toBe(failedJid);
    expect(await page.$(`${row} td.trend svg.sparkline polyline`)).not.toBeNull();
  });

  it('lets an admin enqueue a cron job now: the job lands in its Redis queue', async () => {
    await signIn(TEST_TOKEN);
    await page.click('#nav a[href="#/periodic"]');
    const row = 'tr[data-cron="cleanup"]';
    await page.waitForSelector(`${row} button[data-action="enqueue"]`);
    expect(await page.$(`${row} button[data-action="disable"]`)).not.toBeNull();
    expect(await redis.llen('queue:default')).toBe(0);
    await page.click(`${row} button[data-action="enqueue"]`);
    await page.waitForSelector('#flash.ok:not([hidden])');
    expect(await page.textContent('#flash')).toBe('Enqueue now: done');
    const queued = await redis.lrange('queue:default', 0, -1);
    expect(queued).toHaveLength(1);
    expect(JSON.parse(queued[0])).toMatchObject({ class: 'CleanupJob', queue: 'default' });
    // the page drawn again shows the enqueue time sidekiq-cron recorded
    await page.waitForSelector(
      'tr[data-cron="cleanup"] [data-field="last-enqueue"]:not(:text-is("—"))',
    );
  });

  it('in read-only mode offers the cron actions disabled, saying why', async () => {
    const ro = await TestApp.startOn(ctx.db, {
      env: { REDIS_URL: REDIS, SIDEKIQ_READ_ONLY: 'true' },
    });
    try {
      await ro.app.listen(0, '127.0.0.1');
      const roBase = `http://127.0.0.1:${(ro.http.address() as AddressInfo).port}`;
      await page.click('#signout');
      await page.goto(`${roBase}/sidekiq#/periodic`);
      await page.fill('#token', TEST_TOKEN);
      await page.click('#signin button[type=submit]');
      await page.waitForSelector('#read-only:not([hidden])');
      const enqueue = 'tr[data-cron="cleanup"] button[data-action="enqueue"]';
      await page.waitForSelector(enqueue);
      expect(await page.isDisabled(enqueue)).toBe(true);
      expect(await page.isDisabled('tr[data-cron="cleanup"] button[data-action="disable"]')).toBe(
        true,
      );
      expect(await page.getAttribute(enqueue, 'title')).toContain('SIDEKIQ_READ_ONLY=true');
    } finally {
      await ro.closeApp();
      delete process.env.SIDEKIQ_READ_ONLY;
    }
  });

  it('logged no browser errors and no failed requests', () => {
    expect(errors).toEqual([]);
  });
});
