import { FindingsService, type FindingRow } from '../../../src/findings/findings.service.js';
import { MetricsRegistry } from '../../../src/metrics/metrics-registry.js';
import { TaskScheduler } from '../../../src/scheduler/task.scheduler.js';
import { makeJid } from '../../factories/job-event.factory.js';
import { startWithSidekiq, stopWithSidekiq, testRedisUrl } from '../../support/app-with-sidekiq.js';
import type { SidekiqWriter } from '../../support/sidekiq-writer.js';
import { TestApp } from '../../support/test-context.js';

// Every detector on real Postgres and Redis: the history is reported through the ingest route as
// a Sidekiq app reports it, Sidekiq's side written as Sidekiq writes it.
const REDIS_DB = 9;
const LIVE = { identity: 'host-live:100:abc', hostname: 'host-live', pid: 100 };
const OTHER = { identity: 'host-other:200:def', hostname: 'host-other', pid: 200 };

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const MIN = 60_000;

describe('detectors on real Postgres and Redis', () => {
  let ctx: TestApp;
  let writer: SidekiqWriter;
  let sut: FindingsService;
  const stuckJid = makeJid();
  const lostJid = makeJid();
  const requeuedJid = makeJid();
  const youngJid = makeJid();
  const neverJid = makeJid();
  const inQueueJid = makeJid();
  const movingJid = makeJid();
  const dupJid = makeJid();

  const open = async () =>
    (await sut.list({ state: 'open', offset: 0, limit: 100 })).rows.sort((a, b) =>
      a.identity.localeCompare(b.identity),
    );
  const byJid = (rows: FindingRow[], jid: string) => rows.filter((r) => r.jid === jid);

  beforeAll(async () => {
    ({ ctx, writer } = await startWithSidekiq(REDIS_DB));
    sut = ctx.get(FindingsService);
    for (const p of [LIVE, OTHER]) {
      await writer.heartbeat({
        ...p,
        startedAt: Date.now() / 1000 - 3600,
        beat: Date.now() / 1000,
      });
    }

    // FastJob: 30 quick runs in the last hour, its baseline
    const history: Record<string, unknown>[] = [];
    for (let i = 0; i < 30; i++) {
      const jid = makeJid();
      const t = Date.now() - 60 * MIN + i * MIN;
      history.push(
        {
          type: 'queued',
          job_id: jid,
          job_class: 'FastJob',
          queue: 'default',
          arguments: '[]',
          occurred_at: new Date(t).toISOString(),
        },
        {
          type: 'started',
          job_id: jid,
          occurred_at: new Date(t + 100).toISOString(),
          hostname: 'host-live',
          pid: 100,
        },
        {
          type: 'succeeded',
          job_id: jid,
          occurred_at: new Date(t + 100 + 20 + i).toISOString(),
          hostname: 'host-live',
          pid: 100,
        },
      );
    }
    await ctx.postEvents(history);

    const started = (
      jid: string,
      queuedAgo: number,
      startedAgo: number,
      host: string,
      pid: number,
    ) => [
      {
        type: 'queued',
        job_id: jid,
        job_class: 'FastJob',
        queue: 'default',
        arguments: '[1]',
        occurred_at: ago(queuedAgo),
      },
      { type: 'started', job_id: jid, occurred_at: ago(startedAgo), hostname: host, pid },
    ];
    const queued = (jid: string, jobClass: string, queue: string, queuedAgo: number) => ({
      type: 'queued',
      job_id: jid,
      job_class: jobClass,
      queue,
      arguments: '[2]',
      occurred_at: ago(queuedAgo),
    });
    await ctx.postEvents([
      // running for 3 hours on a live process: stuck against its class's p99
      ...started(stuckJid, 192 * MIN, 192 * MIN, 'host-live', 100),
      // running 10 s on a process that is gone: lost
      ...started(lostJid, 10_000, 10_000, 'host-gone', 7),
      // the same, but Sidekiq pushed it back to its queue at shutdown: waiting, not lost
      ...started(requeuedJid, 10_000, 10_000, 'host-gone', 7),
      // running 10 s on the live process: fine
      ...started(youngJid, 10_000, 10_000, 'host-live', 100),
      // queued 20 minutes ago, Sidekiq holds it nowhere
      queued(neverJid, 'MailJob', 'mailers', 20 * MIN),
      // queued 20 minutes ago and still in a queue stalled for 25 minutes
      queued(inQueueJid, 'MailJob', 'slow', 20 * MIN),
      // queued 20 minutes ago, in a queue that moves (its oldest entry is 5 s old): not reported
      queued(movingJid, 'MailJob', 'busy', 20 * MIN),
      // one attempt started on two processes
      queued(dupJid, 'PayJob', 'default', 2 * MIN),
      {
        type: 'started',
        job_id: dupJid,
        occurred_at: ago(90_000),
        hostname: 'host-live',
        pid: 100,
      },
      {
        type: 'started',
        job_id: dupJid,
        occurred_at: ago(85_000),
        hostname: 'host-other',
        pid: 200,
      },
    ]);
    await writer.push({ jid: makeJid(), queue: 'slow', class: 'MailJob' }, Date.now() - 25 * MIN);
    await writer.push({ jid: inQueueJid, queue: 'slow', class: 'MailJob' }, Date.now() - 20 * MIN);
    await writer.push({ jid: movingJid, queue: 'busy', class: 'MailJob' }, Date.now() - 5_000);
    await writer.push(
      { jid: requeuedJid, queue: 'default', class: 'FastJob' },
      Date.now() - 20_000,
    );
  });

  afterAll(() => stopWithSidekiq(ctx, writer));

  it('finds the stuck, the lost, the never started, the stalled and the duplicate jobs', async () => {
    await sut.evaluate(new Date());
    const rows = await open();
    expect(rows.map((r) => [r.detector, r.jid, r.severity])).toEqual(
      [
        ['duplicate', dupJid, 'warning'],
        ['never_started', inQueueJid, 'warning'],
        ['never_started', neverJid, 'critical'],
        ['stuck', lostJid, 'critical'],
        ['stuck', stuckJid, 'warning'],
      ].sort((a, b) => `${a[0]}:default:${a[1]}`.localeCompare(`${b[0]}:default:${b[1]}`)),
    );

    const [stuck] = byJid(rows, stuckJid);
    expect(stuck!.summary).toMatch(
      /^running 3h 1[12]m; this class usually finishes within \d+ ms \(p99 of 30 runs\); no job is called stuck before 1m 00s$/,
    );
    expect(stuck!.evidence).toMatchObject({
      limit_source: 'floor',
      baseline: { samples: 30 },
      process: 'alive',
    });
    expect((stuck!.evidence as { baseline: { p99_ms: number } }).baseline.p99_ms).toBeGreaterThan(
      40,
    );

    expect(byJid(rows, lostJid)[0]!.evidence).toMatchObject({
      reason: 'process gone',
      hostname: 'host-gone',
      pid: 7,
    });
    expect(byJid(rows, neverJid)[0]!.summary).toMatch(/lost between push and fetch$/);
    expect(byJid(rows, neverJid)[0]!.evidence).toMatchObject({ held: 'nowhere', queue: 'mailers' });
    expect(byJid(rows, inQueueJid)[0]!.summary).toMatch(
      /still in queue slow, which has not moved for 2[45]m \d\ds \(2 jobs waiting\)$/,
    );
    expect(byJid(rows, inQueueJid)[0]!.evidence).toMatchObject({ held: 'queue', confirmed: true });
    expect(byJid(rows, dupJid)[0]!.evidence).toMatchObject({
      overlapping: true,
      runs: [
        { hostname: 'host-live', pid: 100 },
        { hostname: 'host-other', pid: 200 },
      ],
    });

    const metrics = await ctx
      .get(MetricsRegistry)
      .registry.getSingleMetricAsString('sidekiq_supervisor_findings_open');
    expect(metrics).toContain(
      'sidekiq_supervisor_findings_open{detector="stuck",sidekiq_instance="default"} 2',
    );
    expect(metrics).toContain(
      'sidekiq_supervisor_findings_open{detector="never_started",sidekiq_instance="default"} 2',
    );
    expect(metrics).toContain(
      'sidekiq_supervisor_findings_open{detector="overdue",sidekiq_instance="default"} 0',
    );
  });

  it('keeps one row per finding while it lasts and ends it when it stops', async () => {
    const before = await open();
    await sut.evaluate(new Date());
    const again = await open();
    expect(again.map((r) => r.id)).toEqual(before.map((r) => r.id));
    expect(again.every((r, i) => r.lastSeenAt > before[i]!.lastSeenAt)).toBe(true);

    // the stuck job finishes, the lost job is started by Sidekiq at last
    await ctx.postEvents([
      { type: 'succeeded', job_id: stuckJid, occurred_at: ago(0), hostname: 'host-live', pid: 100 },
      { type: 'started', job_id: neverJid, occurred_at: ago(0), hostname: 'host-live', pid: 100 },
    ]);
    const now = new Date();
    await sut.evaluate(now);
    const after = await open();
    expect(after.map((r) => r.jid)).not.toContain(stuckJid);
    expect(after.map((r) => r.jid)).not.toContain(neverJid);
    const ended = (await sut.list({ state: 'recent', offset: 0, limit: 10 })).rows;
    expect(ended.map((r) => r.jid).sort()).toEqual([neverJid, stuckJid].sort());
    expect(ended.every((r) => r.endedAt?.getTime() === now.getTime())).toBe(true);
    // the rest are the same rows as before
    expect(after.map((r) => r.id)).toEqual(
      before.filter((r) => r.jid !== stuckJid && r.jid !== neverJid).map((r) => r.id),
    );
  });

  it('runs on the scheduler tick under its lock', async () => {
    expect(await ctx.get(TaskScheduler).tick('detectors', new Date())).toBe('ran');
  });

  it('follows what Sidekiq holds: a stalled job whose queue is gone is lost, on the same row', async () => {
    const before = await open();
    const stalled = byJid(before, inQueueJid)[0]!;
    await writer.redis.flushdb();
    await sut.evaluate(new Date());
    const after = await open();
    const lost = byJid(after, inQueueJid)[0]!;
    expect(lost.id).toBe(stalled.id);
    expect(lost.severity).toBe('critical');
    expect(lost.evidence).toMatchObject({ held: 'nowhere' });
    // with no process left, the young job's process is gone too
    expect(byJid(after, youngJid)[0]?.evidence).toMatchObject({ reason: 'process gone' });
  });
});

describe('detectors when a Sidekiq instance is out of reach', () => {
  let ctx: TestApp;
  let sut: FindingsService;
  const jid = makeJid();

  beforeAll(async () => {
    ctx = await TestApp.start({
      env: {
        REDIS_URL: testRedisUrl(REDIS_DB),
        // nothing listens on port 1: every read of "down" fails
        SIDEKIQ_INSTANCES: 'down=redis://127.0.0.1:1/0',
      },
    });
    sut = ctx.get(FindingsService);
    await ctx.postEvents([
      {
        type: 'queued',
        instance: 'down',
        job_id: jid,
        job_class: 'SlowJob',
        queue: 'default',
        arguments: '[]',
        occurred_at: ago(3 * 3600_000),
      },
      {
        type: 'started',
        instance: 'down',
        job_id: jid,
        occurred_at: ago(2 * 3600_000),
        hostname: 'h',
        pid: 1,
      },
    ]);
  });

  afterAll(() => ctx?.close());

  it('still judges what the history alone shows, and ends nothing it could not check', async () => {
    await sut.evaluate(new Date());
    const [stuck] = (await sut.list({ state: 'open', offset: 0, limit: 10 })).rows;
    expect(stuck).toMatchObject({ detector: 'stuck', jid, instance: 'down' });
    expect(stuck!.evidence).toMatchObject({ process: 'unknown', limit_source: 'default' });

    // a lost finding of that instance from an earlier evaluation: not seen now (the processes
    // cannot be read), so it must stay open rather than end on no evidence
    await ctx.db.sql.query(
      `insert into findings (detector, identity, instance, jid, severity, summary, started_at, last_seen_at)
       values ('stuck', 'stuck:down:earlier', 'down', 'earlier', 'critical', 'lost', now(), now())`,
    );
    await sut.evaluate(new Date());
    const open = (await sut.list({ state: 'open', offset: 0, limit: 10 })).rows;
    expect(open.map((r) => r.identity).sort()).toEqual(
      ['stuck:down:earlier', `stuck:down:${jid}`].sort(),
    );
  });
});
