import request from 'supertest';
import { TaskScheduler } from '../../src/scheduler/task.scheduler.js';
import { makeJid } from '../factories/job-event.factory.js';
import { flushDb, redisUrlForDb } from '../integration/sidekiq/sidekiq-test-app.js';
import { TEST_TOKEN, TestApp } from '../support/test-context.js';

// GET /api/v1/findings and /:id over what a detectors tick found: three jobs queued 20 minutes
// ago that Sidekiq (an empty Redis) does not hold.
const REDIS = redisUrlForDb(10);

describe('findings API (e2e)', () => {
  let ctx: TestApp;
  const admin = { 'PRIVATE-TOKEN': TEST_TOKEN };
  let read: Record<string, string>;
  let ingest: Record<string, string>;
  const http = () => request(ctx.http);
  const jids = [makeJid(), makeJid(), makeJid()];

  const token = async (scopes: string[]) => ({
    'PRIVATE-TOKEN': (
      await http()
        .post('/api/v1/tokens')
        .set(admin)
        .send({ name: `findings-${scopes.join('-')}`, scopes })
        .expect(201)
    ).body.token as string,
  });

  beforeAll(async () => {
    await flushDb(REDIS);
    ctx = await TestApp.start({ env: { REDIS_URL: REDIS } });
    read = await token(['read']);
    ingest = await token(['ingest']);
    const queuedAt = new Date(Date.now() - 20 * 60_000);
    await ctx.postEvents(
      jids.map((jid, i) => ({
        type: 'queued',
        job_id: jid,
        job_class: i === 0 ? 'ReportJob' : 'MailJob',
        queue: 'default',
        arguments: '[]',
        occurred_at: new Date(queuedAt.getTime() + i * 1000).toISOString(),
      })),
    );
    expect(await ctx.get(TaskScheduler).tick('detectors', new Date())).toBe('ran');
  });

  afterAll(() => ctx?.close());

  it('needs a token with the read scope', async () => {
    await http().get('/api/v1/findings').expect(401);
    await http().get('/api/v1/findings').set(ingest).expect(403);
  });

  it('lists open findings, newest first, with why they fired', async () => {
    const res = await http().get('/api/v1/findings?state=open').set(read).expect(200);
    expect(res.body).toMatchObject({ page: 1, per_page: 25, next_page: null });
    expect(res.body.findings.map((f: { job_id: string }) => f.job_id)).toEqual([...jids].reverse());
    expect(res.body.findings[2]).toMatchObject({
      detector: 'never_started',
      identity: `never_started:default:${jids[0]}`,
      instance: 'default',
      job_class: 'ReportJob',
      severity: 'critical',
      state: 'open',
      ended_at: null,
      evidence: { held: 'nowhere', queue: 'default' },
    });
    expect(res.body.findings[2].summary).toMatch(
      /^queued 20m 0\ds ago and not started; .*lost between push and fetch$/,
    );
  });

  it('filters by detector, state, instance and class, and pages', async () => {
    const get = async (query: string) =>
      (await http().get(`/api/v1/findings?${query}`).set(read).expect(200)).body as {
        findings: { job_id: string }[];
        next_page: number | null;
      };
    expect((await get('detector=stuck')).findings).toEqual([]);
    expect((await get('state=recent')).findings).toEqual([]);
    expect((await get('instance=other')).findings).toEqual([]);
    expect((await get('job_class=ReportJob')).findings.map((f) => f.job_id)).toEqual([jids[0]]);
    const first = await get('detector=never_started&per_page=2');
    expect(first.findings.map((f) => f.job_id)).toEqual([jids[2], jids[1]]);
    expect(first.next_page).toBe(2);
    const second = await get('detector=never_started&per_page=2&page=2');
    expect(second.findings.map((f) => f.job_id)).toEqual([jids[0]]);
    expect(second.next_page).toBeNull();
  });

  it('refuses bad filters and page sizes, naming the field', async () => {
    for (const [query, field] of [
      ['detector=slow', 'detector'],
      ['state=closed', 'state'],
      ['per_page=101', 'per_page'],
      ['page=0', 'page'],
    ]) {
      const res = await http().get(`/api/v1/findings?${query}`).set(read).expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(JSON.stringify(res.body.details)).toContain(field);
    }
  });

  it('shows one finding by id, and 404 for one that does not exist', async () => {
    const list = await http().get('/api/v1/findings').set(read).expect(200);
    const { id } = list.body.findings[0] as { id: string };
    const res = await http().get(`/api/v1/findings/${id}`).set(read).expect(200);
    expect(res.body).toMatchObject({ id, detector: 'never_started', job_id: jids[2] });
    for (const missing of ['999999999', 'abc', '99999999999999999999999']) {
      const notFound = await http().get(`/api/v1/findings/${missing}`).set(read).expect(404);
      expect(notFound.body.code).toBe('NOT_FOUND');
    }
  });
});
