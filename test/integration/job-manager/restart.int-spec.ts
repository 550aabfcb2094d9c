import request from 'supertest';
import { JobManagerService } from '../../../src/job-manager/job-manager.service.js';
import { makeJid, makeStartedJobEvents } from '../../factories/job-event.factory.js';
import { startWithSidekiq, stopWithSidekiq } from '../../support/app-with-sidekiq.js';
import type { SidekiqWriter } from '../../support/sidekiq-writer.js';
import { TEST_TOKEN, type TestApp } from '../../support/test-context.js';

// Restart and lost-job detection on real Postgres (our history) and real Redis (data shaped exactly
// like Sidekiq's, in this file's own DB index).
const REDIS_DB = 3;
const LIVE = { identity: 'web-1:100:abc123', hostname: 'web-1', pid: 100 };
const DEAD = { hostname: 'web-2', pid: 200 }; // no heartbeat: gone

describe('JobManager restart and lost jobs', () => {
  let ctx: TestApp;
  let writer: SidekiqWriter;
  let sut: JobManagerService;
  const marker = `restart-${makeJid().slice(0, 8)}`;
  const tenMinutesAgo = new Date(Date.now() - 600_000).toISOString();
  const jids: Record<string, string> = {};

  /** queued + started for a job, as the Ruby client reports them */
  const startedJob = async (
    name: string,
    worker: { hostname: string; pid: number } | null,
    startedAt = tenMinutesAgo,
  ) => {
    const jid = makeJid();
    jids[name] = jid;
    await ctx.postEvents(
      makeStartedJobEvents({
        jid,
        jobClass: 'ReportJob',
        queue: 'reports',
        arguments: `["${marker}","${name}",1.50]`,
        queuedAt: tenMinutesAgo,
        startedAt,
        worker,
        tid: 'tid1',
      }),
    );
    return jid;
  };

  beforeAll(async () => {
    ({ ctx, writer } = await startWithSidekiq(REDIS_DB));
    sut = ctx.get(JobManagerService);

    const working = await startedJob('working', LIVE);
    await startedJob('alive', LIVE);
    await startedJob('lost', DEAD);
    const inRetry = await startedJob('retry', DEAD);
    const inQueue = await startedJob('queue', DEAD);
    await startedJob('recent', DEAD, new Date().toISOString());
    const queuedOnly = makeJid();
    jids.queued = queuedOnly;
    await ctx.postEvents([
      {
        type: 'queued',
        job_id: queuedOnly,
        job_class: 'ReportJob',
        queue: 'reports',
        arguments: `["${marker}","queued"]`,
        occurred_at: tenMinutesAgo,
      },
    ]);
    const anonymous = makeJid();
    jids.anonymous = anonymous;
    await ctx.postEvents([
      {
        type: 'started',
        job_id: anonymous,
        occurred_at: tenMinutesAgo,
        arguments: `["${marker}"]`,
      },
    ]);

    const runningPayload = writer.payload({
      jid: working,
      class: 'ReportJob',
      queue: 'reports',
      retry: true,
      argsJson: '[]',
      extra: {},
      createdAtMs: Date.now(),
    });
    await writer.heartbeat({
      ...LIVE,
      startedAt: Date.now() / 1000 - 3600,
      work: { tid1: { queue: 'reports', payload: runningPayload, runAt: Date.now() / 1000 - 600 } },
    });
    await writer.retry(
      { jid: inRetry, class: 'ReportJob', queue: 'reports' },
      Date.now() / 1000 + 60,
    );
    await writer.push({ jid: inQueue, class: 'ReportJob', queue: 'reports' });
  });

  afterAll(() => stopWithSidekiq(ctx, writer));

  it('finds lost jobs: started on a process that is gone, not running anywhere, not held by Sidekiq', async () => {
    const page = await sut.lostJobs(marker);
    const lost = page.jobs.map((j) => j.job_id).sort();
    // the jobs Sidekiq holds again (back in their queue, or in the retry set) will run: not lost
    expect(lost).toEqual([jids.lost, jids.recent].sort());
    expect(page.jobs[0]).toMatchObject({ reason: expect.stringContaining('web-2:200') });
  });

  it('tells where Sidekiq holds a job', async () => {
    expect((await sut.find(jids.retry)).sidekiq).toMatchObject({ where: 'retry' });
    expect((await sut.find(jids.queue)).sidekiq).toEqual({ where: 'queue', queue: 'reports' });
    expect((await sut.find(jids.working)).sidekiq).toMatchObject({
      where: 'working',
      process: LIVE.identity,
    });
    const lost = await sut.find(jids.lost);
    expect(lost.sidekiq).toEqual({ where: 'nowhere' });
    expect(lost.job.events.map((e) => e.type)).toEqual(['queued', 'started']);
  });

  it('dry run lists what would happen and changes nothing', async () => {
    const before = await writer.redis.llen('queue:reports');
    const dry = await sut.restartUncompletedJobs(marker, { dryRun: true });
    const outcome = Object.fromEntries(dry.items.map((i) => [i.job_id, i.outcome]));
    expect(outcome).toEqual({
      [jids.working]: 'held_by_sidekiq',
      [jids.alive]: 'process_alive',
      [jids.lost]: 'would_restart',
      [jids.retry]: 'held_by_sidekiq',
      [jids.queue]: 'held_by_sidekiq',
      [jids.recent]: 'too_recent',
      [jids.anonymous]: 'incomplete_record',
    });
    expect(dry).toMatchObject({ dry_run: true, restarted: 1, restarted_jids: [] });
    expect(await writer.redis.llen('queue:reports')).toBe(before);
    expect((await sut.find(jids.lost)).job.status).toBe('running');
  });

  it('pushes a Sidekiq-shaped job first, then links old and new; a second run restarts nothing', async () => {
    const result = await sut.restartUncompletedJobs(marker);
    expect(result.restarted).toBe(1);
    const [newJid] = result.restarted_jids;
    expect(newJid).toMatch(/^[0-9a-f]{24}$/);

    // the payload Sidekiq will run: same class, queue and raw arguments text, a link back
    const raws = await writer.redis.lrange('queue:reports', 0, -1);
    const raw = raws.find((r) => r.includes(newJid))!;
    expect(raw).toContain(`"args":["${marker}","lost",1.50]`);
    const payload = JSON.parse(raw) as Record<string, unknown>;
    expect(payload).toMatchObject({
      class: 'ReportJob',
      queue: 'reports',
      jid: newJid,
      restarted_from: jids.lost,
    });
    expect(typeof payload.enqueued_at).toBe('number');
    expect(await writer.redis.sismember('queues', 'reports')).toBe(1);

    const old = await sut.find(jids.lost);
    expect(old.job).toMatchObject({ status: 'restarted', restarted_as: newJid });
    expect(old.job.events.map((e) => e.type)).toEqual(['queued', 'started', 'restarted']);
    const created = await sut.find(newJid);
    expect(created.job).toMatchObject({
      status: 'queued',
      restarted_from: jids.lost,
      job_class: 'ReportJob',
      arguments: `["${marker}","lost",1.50]`,
    });
    expect(created.sidekiq).toEqual({ where: 'queue', queue: 'reports' });

    const again = await sut.restartUncompletedJobs(marker);
    expect(again.restarted).toBe(0);
    expect(await writer.redis.llen('queue:reports')).toBe(raws.length);
    expect((await sut.lostJobs(marker)).jobs.map((j) => j.job_id)).not.toContain(jids.lost);
  });

  it('restarts queued jobs only when asked, and only over REST with the admin scope', async () => {
    const without = await sut.restartUncompletedJobs(marker, { dryRun: true });
    expect(without.items.map((i) => i.job_id)).not.toContain(jids.queued);
    const read = await request(ctx.http)
      .post('/api/v1/tokens')
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .send({ name: 'r', scopes: ['read'] })
      .expect(201);
    await request(ctx.http)
      .post('/api/v1/job-manager/restart-uncompleted-jobs')
      .set('PRIVATE-TOKEN', read.body.token)
      .send({ filter: marker })
      .expect(403);
    const res = await request(ctx.http)
      .post('/api/v1/job-manager/restart-uncompleted-jobs')
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .send({ filter: `"${marker}","queued"`, include_queued: true, dry_run: false })
      .expect(200);
    expect(res.body).toMatchObject({ restarted: 1, considered: 1 });
    expect(res.body.items[0]).toMatchObject({ job_id: jids.queued, outcome: 'restarted' });
    await request(ctx.http)
      .post('/api/v1/job-manager/restart-uncompleted-jobs')
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .send({ dry_run: 'yes' })
      .expect(400);
  });

  it('validates REPL-style arguments', async () => {
    await expect(sut.restartUncompletedJobs(marker, { minAgeSeconds: -1 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(sut.find('bad jid')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
