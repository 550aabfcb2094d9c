import { mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import { makeJid, makeStartedJobEvents } from '../factories/job-event.factory.js';
import { flushDb, redisUrlForDb } from '../integration/sidekiq/sidekiq-test-app.js';
import { openDashboardPage, requireChromium } from '../support/browser.js';
import { SidekiqWriter } from '../support/sidekiq-writer.js';
import { TEST_TOKEN, TestApp } from '../support/test-context.js';

// The /sidekiq page in a real browser (Debian's Chromium, driven by playwright-core) against the
// running service with seeded Sidekiq data, history and jobs. Writes a screenshot of the
// overview to test-results/dashboard-overview.png for review.
const REDIS = redisUrlForDb(0);
const SHOT = 'test-results/dashboard-overview.png';
// a second Sidekiq instance in the same Redis DB, under a namespace
const EU = `${REDIS}?namespace=eu`;

describe('dashboard at /sidekiq (headless Chromium)', () => {
  let ctx: TestApp;
  let base: string;
  let browser: Browser;
  let page: Page;
  let writer: SidekiqWriter;
  let euWriter: SidekiqWriter;
  let redis: Redis;
  let readToken: string;
  let readId: string;
  let ingestToken: string;
  const errors: string[] = [];
  const jid = makeJid();
  let retryJid: string;

  beforeAll(async () => {
    requireChromium();
    await flushDb(REDIS);
    ctx = await TestApp.start({ env: { REDIS_URL: REDIS, SIDEKIQ_INSTANCES: `eu=${EU}` } });
    await ctx.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(ctx.http.address() as AddressInfo).port}`;
    writer = SidekiqWriter.connect(REDIS);
    euWriter = SidekiqWriter.connect(REDIS, 'v6', 'eu');
    redis = new Redis(REDIS);

    // Sidekiq's side: counters, queues, a scheduled, a retry, a dead entry, a busy process
    await writer.stat('processed', 1234);
    await writer.stat('failed', 56);
    for (let i = 0; i < 3; i++) {
      await writer.push({ class: 'MailJob', queue: 'default' });
    }
    await writer.push({ class: 'BillingJob', queue: 'critical' });
    const now = Math.floor(Date.now() / 1000);
    await writer.schedule({ class: 'ReminderJob', queue: 'default' }, now + 3600);
    retryJid = (
      await writer.retry({ class: 'SyncJob', queue: 'critical' }, now + 600, {
        errorClass: 'Net::ReadTimeout',
        message: 'timed out',
      })
    ).spec.jid;
    await writer.dead({ class: 'ImportJob' }, now - 60, { errorClass: 'KeyError' });
    await writer.dead({ class: 'ExportJob' }, now - 30, { errorClass: 'IOError' });
    await euWriter.stat('processed', 777);
    await euWriter.push({ class: 'EuJob', queue: 'eu-only' });
    await euWriter.push({ class: 'EuJob', queue: 'eu-only' });
    await writer.heartbeat({
      identity: 'worker-1:4242:abc',
      hostname: 'worker-1',
      pid: 4242,
      startedAt: now - 3600,
      queues: ['default', 'critical'],
    });
    // our history: a snapshot a minute for the last half hour (counters only grow)
    let processed = 1000;
    let failed = 40;
    for (let m = 30; m >= 1; m--) {
      processed += 20 + ((m * 37) % 50);
      failed += m % 4 === 0 ? 3 : m % 3 === 0 ? 1 : 0;
      const at = new Date(Math.floor(Date.now() / 60_000) * 60_000 - m * 60_000);
      await ctx.db.sql.query(
        `insert into stats_snapshots (instance, taken_at, processed, failed, enqueued, scheduled,
           retry, dead, busy, processes, default_latency, queues)
         values ('default', $1, $2, $3, $4, 1, 1, 1, 2, 1, 0.5, $5::jsonb)`,
        [
          at,
          processed,
          failed,
          4 + (m % 5),
          JSON.stringify({
            default: { size: 3 + (m % 4), latency: 1 },
            critical: { size: 1 + (m % 3), latency: 0.2 },
          }),
        ],
      );
    }
    // our jobs: one that ran start to finish
    await ctx.postEvents([
      ...makeStartedJobEvents({
        jid,
        jobClass: 'MailJob',
        queue: 'default',
        arguments: '["a@b.c"]',
        queuedAt: '2026-11-23T10:00:00Z',
        startedAt: '2026-11-23T10:00:01Z',
        worker: { hostname: 'worker-1', pid: 4242 },
      }),
      { type: 'succeeded', job_id: jid, occurred_at: '2026-11-23T10:00:02Z' },
    ]);
    // and 55 more, so the history has a second page
    await ctx.postEvents(
      Array.from({ length: 55 }, (_, i) => ({
        type: 'queued',
        job_id: makeJid(),
        job_class: 'PageJob',
        occurred_at: `2026-11-23T09:00:${String(i).padStart(2, '0')}Z`,
      })),
    );
    ({ token: readToken, id: readId } = (
      await request(ctx.http)
        .post('/api/v1/tokens')
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .send({ name: 'dashboard reader', scopes: ['read'] })
        .expect(201)
    ).body);
    ingestToken = (
      await request(ctx.http)
        .post('/api/v1/tokens')
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .send({ name: 'billing app', scopes: ['ingest'] })
        .expect(201)
    ).body.token;

    ({ browser, page } = await openDashboardPage(errors));
  });

  afterAll(async () => {
    await browser?.close();
    await writer?.close();
    await euWriter?.close();
    delete process.env.SIDEKIQ_INSTANCES;
    delete process.env.SIDEKIQ_READ_ONLY;
    redis?.disconnect();
    await ctx?.close();
  });

  async function signIn(token: string): Promise<void> {
    await page.goto(`${base}/sidekiq`);
    await page.fill('#token', token);
    await page.click('#signin button[type=submit]');
    await page.waitForSelector('#nav:not([hidden])');
  }

  it('serves the shell publicly with a strict CSP, and asks for a token', async () => {
    const res = await request(ctx.http).get('/sidekiq').expect(200);
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).not.toContain('unsafe-inline');
    await page.goto(`${base}/sidekiq`);
    await page.waitForSelector('#signin-view:not([hidden])');
    expect(await page.isHidden('#nav')).toBe(true);
  });

  it('serves the page modules (dashboard/ and dashboard/views/) as JavaScript, and nothing else', async () => {
    for (const [url, file] of [
      ['/sidekiq/assets/api.js', 'dashboard/api.js'],
      ['/sidekiq/assets/views/overview.js', 'dashboard/views/overview.js'],
    ]) {
      const res = await request(ctx.http).get(url).expect(200);
      expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.text).toBe(readFileSync(file, 'utf8'));
    }
    for (const url of [
      '/sidekiq/assets/nope.js',
      '/sidekiq/assets/views/app.js', // app.js lives in dashboard/, not in views/
      '/sidekiq/assets/index.html',
      '/sidekiq/assets/..%2Fpackage.json',
      '/sidekiq/assets/views/..%2Fapi.js',
      '/sidekiq/assets/views/..%2F..%2Fpackage.json',
      '/sidekiq/assets/%2E%2E%2Fsrc%2Fmain.ts',
    ]) {
      await request(ctx.http).get(url).expect(404);
    }
  });

  it('shows the overview: Sidekiq numbers and charts from our history', async () => {
    await signIn(TEST_TOKEN);
    await page.waitForSelector('#chart-throughput canvas');
    await page.waitForSelector('#chart-queues canvas');
    const stat = (key: string) => page.textContent(`[data-stat="${key}"]`);
    expect(await stat('processed')).toBe('1,234');
    expect(await stat('failed')).toBe('56');
    expect(await stat('enqueued')).toBe('4');
    expect(await stat('scheduled_size')).toBe('1');
    expect(await stat('retry_size')).toBe('1');
    expect(await stat('dead_size')).toBe('2');
    expect(await stat('processes_size')).toBe('1');
    // both queues appear in the depth chart's legend
    const legend = await page.textContent('#chart-queues');
    expect(legend).toContain('critical');
    expect(legend).toContain('default');
    // the queue summary, largest first, with latency and time to drain
    const summary = await page.$$eval('tr[data-summary]', (rows) =>
      rows.map((tr) => [...tr.querySelectorAll('td')].slice(0, 2).map((td) => td.textContent)),
    );
    expect(summary).toEqual([
      ['default', '3'],
      ['critical', '1'],
    ]);
    // live: Sidekiq counts 66 more, the tile follows without a reload
    await writer.stat('processed', 66);
    await page.waitForSelector('[data-stat="processed"]:text-is("1,300")');
    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: SHOT, fullPage: true });
    // eslint-disable-next-line no-console -- the run names the screenshot it wrote for review
    console.log(`dashboard screenshot: ${SHOT}`);
    // the token is in this tab's session, never in the URL
    expect(page.url()).not.toContain(TEST_TOKEN);
    expect(await page.evaluate<string[]>('Object.values(sessionStorage)')).toContain(TEST_TOKEN);
  });

  it('switches to another Sidekiq instance (SIDEKIQ_INSTANCES) and back', async () => {
    const known = await request(ctx.http)
      .get('/api/v1/sidekiq/instances')
      .set('PRIVATE-TOKEN', readToken)
      .expect(200);
    expect(known.body).toEqual({ instances: ['default', 'eu'], read_only: false });
    expect(await page.isVisible('#instance-pick')).toBe(true);
    await page.goto(`${base}/sidekiq#/queues`);
    await page.waitForSelector('tr[data-queue="critical"]');
    await page.selectOption('#instance', 'eu');
    await page.waitForSelector('tr[data-queue="eu-only"]');
    expect(await page.$$('tr[data-queue="critical"]')).toHaveLength(0);
    expect(await page.textContent('tr[data-queue="eu-only"] td:nth-child(2)')).toBe('2');
    await page.goto(`${base}/sidekiq#/overview`);
    await page.waitForSelector('[data-stat="processed"]:text-is("777")');
    expect(await page.textContent('[data-stat="enqueued"]')).toBe('2');
    await page.selectOption('#instance', 'default');
    await page.waitForSelector('[data-stat="processed"]:text-is("1,300")');
  });

  it('retries a retry-set entry from the page, and Sidekiq has it in its queue', async () => {
    await page.goto(`${base}/sidekiq#/retry`);
    const row = `tr[data-jid="${retryJid}"]`;
    await page.waitForSelector(row);
    expect(await page.textContent(row)).toContain('Net::ReadTimeout');
    await page.click(`${row} button[data-action="retry"]`);
    await page.waitForSelector('#flash.ok');
    expect(await page.textContent('#flash')).toContain('Retry now: done');
    expect(await redis.zcard('retry')).toBe(0);
    const queued = await redis.lrange('queue:critical', 0, -1);
    expect(queued.some((raw) => JSON.parse(raw).jid === retryJid)).toBe(true);
    await page.waitForSelector(`${row}`, { state: 'detached' });
  });

  it('clears a queue only after the operator confirms, and sends that confirmation to the API', async () => {
    await writer.push({ class: 'DoomedJob', queue: 'doomed' });
    await writer.push({ class: 'DoomedJob', queue: 'doomed' });
    await page.goto(`${base}/sidekiq#/queues`);
    const clear = 'tr[data-queue="doomed"] button[data-action="clear"]';
    await page.waitForSelector(clear);
    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.click(clear);
    expect(await redis.llen('queue:doomed')).toBe(2);
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click(clear);
    await page.waitForSelector('#flash.ok');
    expect(await page.textContent('#flash')).toContain('Clear: done');
    expect(await redis.llen('queue:doomed')).toBe(0);
  });

  it('searches the dead set', async () => {
    await page.goto(`${base}/sidekiq#/dead`);
    await page.waitForSelector('#view table tbody tr[data-jid]');
    expect(await page.$$('#view tbody tr[data-jid]')).toHaveLength(2);
    await page.fill('#search', 'ExportJob');
    await page.click('#view form button[type=submit]');
    // waits by selector: a predicate would be eval'd in the page, which its CSP forbids
    await page.waitForSelector('#view tbody tr[data-jid]:only-child');
    expect(await page.textContent('#view tbody')).toContain('ExportJob');
    expect(await page.textContent('#view tbody')).not.toContain('ImportJob');
  });

  it("shows a job's arguments exactly as Ruby holds them (2**64+1, 3.0, 1.0e+20)", async () => {
    const args = '[18446744073709551617,3.0,1.0e+20,{"n":[1180591620717411303424]}]';
    const { spec } = await writer.push({ class: 'ExactJob', queue: 'exact', argsJson: args });
    await page.goto(`${base}/sidekiq#/queues/exact`);
    await page.waitForSelector(`tr[data-jid="${spec.jid}"]`);
    expect(await page.textContent(`tr[data-jid="${spec.jid}"] td.args`)).toBe(args);
  });

  it('lists queues, busy processes, and a job with its timeline', async () => {
    await page.goto(`${base}/sidekiq#/queues`);
    await page.waitForSelector('tr[data-queue="critical"]');
    expect(await page.textContent('tr[data-queue="default"]')).toContain('3');
    await page.goto(`${base}/sidekiq#/busy`);
    await page.waitForSelector('tr[data-identity="worker-1:4242:abc"]');
    // 56 jobs: the newest 50, then the rest
    await page.goto(`${base}/sidekiq#/jobs`);
    await page.waitForSelector('#view tbody tr[data-jid]');
    expect(await page.$$('#view tbody tr[data-jid]')).toHaveLength(50);
    await page.click('#older');
    await page.waitForSelector('#view tbody tr[data-jid]:nth-child(6):last-child');
    expect(await page.isDisabled('#older')).toBe(true);
    // the first job reported is the oldest: on this last page
    await page.click(`tr[data-jid="${jid}"] a`);
    await page.waitForSelector('#timeline li');
    const types = await page.$$eval('#timeline li', (items) =>
      items.map((li) => li.getAttribute('data-type')),
    );
    expect(types).toEqual(['queued', 'started', 'succeeded']);
  });

  it('lists the tokens for an admin, the bootstrap one first, and shows a rotated secret once', async () => {
    await page.click('#nav-tokens');
    const bootstrap = 'tr[data-token="bootstrap"]';
    const reader = `tr[data-token="${readId}"]`;
    await page.waitForSelector(reader);
    expect(await page.textContent(bootstrap)).toContain('bootstrap (PRIVATE_TOKEN env)');
    expect(await page.$$(`${bootstrap} button`)).toHaveLength(0);
    expect(await page.textContent(reader)).toContain('dashboard reader');
    expect(await page.getAttribute(reader, 'data-state')).toBe('active');

    page.once('dialog', (dialog) => void dialog.accept());
    await page.click(`${reader} button[data-action="rotate"]`);
    await page.waitForSelector('#new-secret code');
    const secret = (await page.textContent('#new-secret code'))!;
    expect(secret).toMatch(/^sks_/);
    expect(secret).not.toBe(readToken);
    expect(await page.getAttribute(reader, 'data-state')).toBe('rotating');
    const self = await request(ctx.http)
      .get('/api/v1/tokens/self')
      .set('PRIVATE-TOKEN', secret)
      .expect(200);
    expect(self.body.id).toBe(readId);
    // the old secret keeps working for the grace period (the read-only test below signs in with it)
    await request(ctx.http).get('/api/v1/tokens/self').set('PRIVATE-TOKEN', readToken).expect(200);

    // shown once: the page drawn again has the list without it
    await page.goto(`${base}/sidekiq#/overview`);
    await page.goto(`${base}/sidekiq#/tokens`);
    await page.waitForSelector(reader);
    expect(await page.$('#new-secret')).toBeNull();
  });

  it("shows the audit log to an admin (the page's own actions in it) and a job's actions on its page", async () => {
    await page.click('#nav-audit');
    await page.waitForSelector('tr[data-action="token.rotate"]');
    const retried = `tr[data-action="sidekiq.set.job.retry"]`;
    expect(await page.textContent(retried)).toContain(retryJid);
    expect(await page.textContent(retried)).toContain('PRIVATE_TOKEN');
    expect(await page.textContent('tr[data-action="sidekiq.queue.clear"]')).toContain('doomed');
    await page.fill('#audit-filters input[name="action"]', 'token.rotate');
    await page.click('#audit-filters button[type=submit]');
    await page.waitForSelector('#view tbody tr[data-audit]:only-child');
    expect(await page.getAttribute('#view tbody tr', 'data-action')).toBe('token.rotate');

    // a job's page: the actions naming its jid (a refused cancel: it was never scheduled)
    await page.goto(`${base}/sidekiq#/jobs/${jid}`);
    await page.waitForSelector('#job-actions');
    expect(await page.textContent('#job-actions')).toContain('No action was taken');
    await request(ctx.http)
      .post(`/api/v1/jobs/${jid}/cancel`)
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(409);
    await page.goto(`${base}/sidekiq#/overview`);
    await page.goto(`${base}/sidekiq#/jobs/${jid}`);
    await page.waitForSelector('#job-actions tr[data-action="job_status.cancel"]');
    expect(await page.textContent('#job-actions tr[data-action]')).toContain('error NOT_SCHEDULED');
  });

  it('hides every action from a read-only token', async () => {
    await page.click('#signout');
    await page.waitForSelector('#signin-view:not([hidden])');
    expect(await page.evaluate<string[]>('Object.values(sessionStorage)')).not.toContain(
      TEST_TOKEN,
    );
    await signIn(readToken);
    expect(await page.textContent('#who-name')).toContain('read');
    expect(await page.isHidden('#nav-tokens')).toBe(true);
    expect(await page.isHidden('#nav-audit')).toBe(true);
    for (const view of ['scheduled', 'dead', 'queues', 'busy']) {
      await page.goto(`${base}/sidekiq#/${view}`);
      await page.waitForSelector('#view table tbody tr');
      expect(await page.$$('button[data-action]')).toHaveLength(0);
    }
    // a token that may only ingest is told so and stays signed out
    await page.click('#signout');
    await page.fill('#token', ingestToken);
    await page.click('#signin button[type=submit]');
    await page.waitForSelector('#flash:text("needs the read scope")');
    expect(await page.isHidden('#nav')).toBe(true);
    expect(await page.evaluate<string[]>('Object.values(sessionStorage)')).toEqual([]);
    // nothing failed in the page all along: no script error, no failed request
    expect(errors).toEqual([]);
  });

  it('in read-only mode shows why an action is refused (the 403 message of the API)', async () => {
    const ro = await TestApp.startOn(ctx.db, {
      env: { REDIS_URL: REDIS, SIDEKIQ_READ_ONLY: 'true' },
    });
    try {
      await ro.app.listen(0, '127.0.0.1');
      const roBase = `http://127.0.0.1:${(ro.http.address() as AddressInfo).port}`;
      await page.goto(`${roBase}/sidekiq`);
      await page.fill('#token', TEST_TOKEN);
      await page.click('#signin button[type=submit]');
      await page.waitForSelector('#read-only:not([hidden])');
      await page.goto(`${roBase}/sidekiq#/dead`);
      await page.waitForSelector('#view tbody tr[data-jid] button[data-action="retry"]');
      await page.click('#view tbody tr[data-jid] button[data-action="retry"]');
      await page.waitForSelector('#flash:not([hidden]):not(.ok)');
      expect(await page.textContent('#flash')).toBe(
        'Retry now: Sidekiq is read-only here (SIDEKIQ_READ_ONLY=true)',
      );
      expect(await redis.zcard('dead')).toBe(2);
    } finally {
      await ro.closeApp();
    }
  });
});
