import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { TEST_TOKEN, TestApp } from '../support/test-context.js';

// Active Job and Action Mailer on the real stack: Debian's Rails 6.1 (ruby-activejob,
// ruby-actionmailer) with the :sidekiq adapter, a real Sidekiq 6.4.1 and the Ruby client
// (clients/ruby) reporting to this service. An Active Job that succeeds, one that fails and is
// retried by Sidekiq, and two mails (MailDeliveryJob and Rails 6.1's default DeliveryJob) must show
// under their own class and arguments everywhere, never under Sidekiq's wrapper.
const ROOT = resolve(import.meta.dirname, '../..');
const RUN = join(ROOT, 'test/ruby/active_job_run.rb');
// e2e files run one at a time; DB 1 is the Ruby client e2e's, flushed by both
const REDIS_DB = 1;
const INSTANCE = 'rails';
const WRAPPER = 'ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper';

interface RunJob {
  jid: string;
  active_job_id: string;
  payload: string;
}
interface RunManifest {
  sidekiq: string;
  rails: string;
  clean_exit: boolean;
  jobs: Record<'invoice' | 'flaky' | 'mail' | 'legacy_mail', RunJob>;
  performed: unknown[][];
}

/** The value of `args` in a payload's JSON text, exactly as written. */
function argsText(payload: string): string {
  const start = payload.indexOf('"args":') + '"args":'.length;
  return payload.slice(start, payload.indexOf(',"jid":', start));
}

/** Samples of `name` whose labels include `labels` (whatever else they carry). */
function samples(text: string, name: string, labels: Record<string, string>): number[] {
  return text
    .split('\n')
    .filter(
      (line) =>
        line.startsWith(`${name}{`) &&
        Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)),
    )
    .map((line) => Number(line.slice(line.lastIndexOf(' ') + 1)));
}

describe('Active Job and Action Mailer with a real Sidekiq (e2e)', () => {
  let ctx: TestApp;
  let run: RunManifest;
  const http = () => request(ctx.http);
  const get = (path: string, query: Record<string, string> = {}) =>
    http().get(path).query(query).set('PRIVATE-TOKEN', TEST_TOKEN);

  beforeAll(async () => {
    await promisify(execFile)('bash', [join(ROOT, 'scripts/ensure-ruby.sh')]);
    await promisify(execFile)('bash', [join(ROOT, 'scripts/ensure-activejob.sh')]);
    const redisUrl = new URL(process.env.TEST_REDIS_URL ?? process.env.REDIS_URL!);
    redisUrl.pathname = `/${REDIS_DB}`;
    // the Rails app's Sidekiq is a known instance (JobManager looks there for the job)
    ctx = await TestApp.start({ env: { SIDEKIQ_INSTANCES: `${INSTANCE}=${redisUrl.toString()}` } });
    await ctx.app.listen(0, '127.0.0.1');
    const token = await http()
      .post('/api/v1/tokens')
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .send({ name: 'rails-app', scopes: ['ingest'] })
      .expect(201);
    const { stdout } = await promisify(execFile)('ruby', [RUN], {
      env: {
        ...process.env,
        REDIS_URL: redisUrl.toString(),
        SIDEKIQ_SUPERVISOR_URL: `http://127.0.0.1:${(ctx.http.address() as AddressInfo).port}`,
        SIDEKIQ_SUPERVISOR_TOKEN: token.body.token as string,
        SIDEKIQ_SUPERVISOR_INSTANCE: INSTANCE,
        SIDEKIQ_SUPERVISOR_MODE: 'sync',
      },
    });
    const line = stdout.split('\n').find((l) => l.startsWith('MANIFEST '));
    expect(line, stdout).toBeDefined();
    run = JSON.parse(line!.slice('MANIFEST '.length)) as RunManifest;
  });

  afterAll(async () => {
    await ctx?.close();
  });

  it('ran the jobs on the real stack (Rails 6.1, Sidekiq 6.4, wrapped as Rails wraps them)', () => {
    expect(run.rails).toMatch(/^6\.1\./);
    expect(run.sidekiq).toMatch(/^6\.4\./);
    expect(run.clean_exit).toBe(true);
    for (const job of Object.values(run.jobs)) {
      expect(JSON.parse(job.payload)).toMatchObject({ class: WRAPPER, jid: job.jid });
    }
    // GlobalID located, the float and the big integer arrived intact in Ruby
    expect(run.performed).toEqual([[7, 3.0, '18446744073709551617', 'first']]);
  });

  it('shows an Active Job under its class with its own arguments, the wrapper kept beside', async () => {
    const invoice = run.jobs.invoice;
    const res = await get(`/api/v1/jobs/${invoice.jid}`, { instance: INSTANCE }).expect(200);
    expect(res.body).toMatchObject({
      job_id: invoice.jid,
      status: 'succeeded',
      job_class: 'InvoiceJob',
      // as Sidekiq 7.1+ shows them: the GlobalID as its gid, kwargs without _aj_ keys, 3.0 and
      // 2**64 + 1 exactly as Ruby wrote them
      arguments: '["gid://shop/User/7",3.0,18446744073709551617,{"note":"first"}]',
      wrapper_class: WRAPPER,
      active_job_id: invoice.active_job_id,
      raw_arguments: argsText(invoice.payload),
    });
    const types = (res.body.events as { type: string }[]).map((e) => e.type);
    expect(types).toEqual(['queued', 'started', 'succeeded']);
  });

  it("finds a job by Active Job's job_id as well as by the jid", async () => {
    const invoice = run.jobs.invoice;
    const byActiveJob = await get(`/api/v1/jobs/${invoice.active_job_id}`).expect(200);
    expect(byActiveJob.body).toMatchObject({ job_id: invoice.jid, job_class: 'InvoiceJob' });
    const list = await get('/api/v1/jobs', { active_job_id: invoice.active_job_id }).expect(200);
    expect(list.body.jobs.map((j: { job_id: string }) => j.job_id)).toEqual([invoice.jid]);
    const found = await get(`/api/v1/job-manager/jobs/${invoice.active_job_id}`);
    expect(found.status, JSON.stringify(found.body)).toBe(200);
    expect(found.body).toMatchObject({
      job: { job_id: invoice.jid, job_class: 'InvoiceJob', active_job_id: invoice.active_job_id },
      // done: Sidekiq holds it nowhere (looked up by its jid, not by the id it was asked for)
      sidekiq: { where: 'nowhere' },
    });
    // the status API (sidekiq-status) answers for the jid the Rails app holds as provider_job_id
    const status = await get(`/api/v1/jobs/${invoice.jid}/status`, { instance: INSTANCE }).expect(
      200,
    );
    expect(status.body).toMatchObject({ status: 'complete', job_status: 'succeeded' });
  });

  it('records a failed and retried Active Job under its class through every run', async () => {
    const flaky = run.jobs.flaky;
    const res = await get(`/api/v1/jobs/${flaky.jid}`, { instance: INSTANCE }).expect(200);
    expect(res.body).toMatchObject({
      status: 'succeeded',
      job_class: 'FlakyImportJob',
      arguments: '["batch-42"]',
      wrapper_class: WRAPPER,
      active_job_id: flaky.active_job_id,
      attempt: 1,
    });
    const events = res.body.events as { type: string; error_class: string | null }[];
    expect(events.map((e) => e.type)).toEqual([
      'queued',
      'started',
      'failed',
      'retrying',
      'queued',
      'started',
      'succeeded',
    ]);
    expect(events.find((e) => e.type === 'failed')?.error_class).toBe('IOError');
  });

  it('shows mail deliveries as Mailer#method with the mail arguments (MailDeliveryJob and DeliveryJob)', async () => {
    // the job as stored, after checking that Rails wrapped it in `wrapped`
    const delivery = async (job: RunJob, wrapped: string) => {
      expect(JSON.parse(job.payload)).toMatchObject({ wrapped });
      return (await get(`/api/v1/jobs/${job.jid}`, { instance: INSTANCE }).expect(200)).body;
    };
    expect(await delivery(run.jobs.mail, 'ActionMailer::MailDeliveryJob')).toMatchObject({
      status: 'succeeded',
      job_class: 'UserMailer#welcome',
      queue: 'mailers',
      // MailDeliveryJob: [params, args] (no params here)
      arguments: '[null,["gid://shop/User/9",{"greeting":"hello"}]]',
      wrapper_class: WRAPPER,
      active_job_id: run.jobs.mail.active_job_id,
    });
    expect(await delivery(run.jobs.legacy_mail, 'ActionMailer::DeliveryJob')).toMatchObject({
      status: 'succeeded',
      job_class: 'LegacyMailer#receipt',
      arguments: '["gid://shop/User/11"]',
    });
  });

  it('lists, filters and searches by the real class and arguments; no job under the wrapper', async () => {
    const all = await get('/api/v1/jobs', { instance: INSTANCE }).expect(200);
    const classes = (all.body.jobs as { job_class: string }[]).map((j) => j.job_class).sort();
    expect(classes).toEqual([
      'FlakyImportJob',
      'InvoiceJob',
      'LegacyMailer#receipt',
      'UserMailer#welcome',
    ]);
    const byClass = await get('/api/v1/jobs', { job_class: 'UserMailer#welcome' }).expect(200);
    expect(byClass.body.jobs.map((j: { job_id: string }) => j.job_id)).toEqual([run.jobs.mail.jid]);
    const wrapper = await get('/api/v1/jobs', { job_class: WRAPPER }).expect(200);
    expect(wrapper.body.jobs).toEqual([]);
    // an argument search finds the real arguments (the gid, not the _aj_globalid hash)
    const search = await get('/api/v1/jobs', { arguments: 'gid://shop/User/7' }).expect(200);
    expect(search.body.jobs.map((j: { job_id: string }) => j.job_id)).toEqual([
      run.jobs.invoice.jid,
    ]);
    // JobManager's filter (a substring of the arguments) reads the real arguments too
    const completed = await get('/api/v1/job-manager/completed-jobs', {
      filter: '"batch-42"',
      instance: INSTANCE,
    });
    expect(completed.status, JSON.stringify(completed.body)).toBe(200);
    expect(
      completed.body.jobs.map((j: { job_id: string; job_class: string }) => [
        j.job_id,
        j.job_class,
      ]),
    ).toEqual([[run.jobs.flaky.jid, 'FlakyImportJob']]);
  });

  it('keeps per-class metrics and Prometheus series under the real class', async () => {
    const metrics = await get('/api/v1/metrics/jobs', { instance: INSTANCE });
    expect(metrics.status, JSON.stringify(metrics.body)).toBe(200);
    const rows = metrics.body.classes as { job_class: string; count: number }[];
    const byClass = Object.fromEntries(rows.map((r) => [r.job_class, r]));
    expect(Object.keys(byClass).sort()).toEqual([
      'FlakyImportJob',
      'InvoiceJob',
      'LegacyMailer#receipt',
      'UserMailer#welcome',
    ]);
    expect(byClass.InvoiceJob).toMatchObject({ count: 1 });

    const text = (await get('/metrics').expect(200)).text;
    expect(samples(text, 'sidekiq_jobs_succeeded_total', { job_class: 'InvoiceJob' })).toEqual([1]);
    expect(
      samples(text, 'sidekiq_jobs_succeeded_total', { job_class: 'UserMailer#welcome' }),
    ).toEqual([1]);
    expect(samples(text, 'sidekiq_jobs_failed_total', { job_class: 'FlakyImportJob' })).toEqual([
      1,
    ]);
    expect(samples(text, 'sidekiq_jobs_retried_total', { job_class: 'FlakyImportJob' })).toEqual([
      1,
    ]);
    expect(text).not.toContain(`job_class="${WRAPPER}"`);
  });
});
