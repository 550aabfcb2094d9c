import request from 'supertest';
import { JobManagerService } from '../../../src/job-manager/job-manager.service.js';
import { TaskScheduler } from '../../../src/scheduler/task.scheduler.js';
import { makeJid, makeStartedJobEvents } from '../../factories/job-event.factory.js';
import { startWithSidekiq, stopWithSidekiq } from '../../support/app-with-sidekiq.js';
import type { SidekiqWriter } from '../../support/sidekiq-writer.js';
import { TEST_TOKEN, type TestApp } from '../../support/test-context.js';

// The processes table on real PostgreSQL: every order of a process life's events, each event sent
// twice, gives one row; and JobManager's lost_jobs judges a running job by its process's life.
const REDIS_DB = 11;

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) {
    return [items];
  }
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('process lives (processes table, lost_jobs)', () => {
  let ctx: TestApp;
  let writer: SidekiqWriter;

  beforeAll(async () => {
    ({ ctx, writer } = await startWithSidekiq(REDIS_DB));
  });

  afterAll(async () => {
    await stopWithSidekiq(ctx, writer);
  });

  const post = (events: Record<string, unknown>[]) =>
    request(ctx.http).post('/api/v1/events').set('PRIVATE-TOKEN', TEST_TOKEN).send({ events });

  async function lives(instance: string): Promise<Record<string, unknown>[]> {
    const found: Record<string, unknown>[] = [];
    let cursor: string | null = null;
    do {
      const res = await request(ctx.http)
        .get('/api/v1/processes')
        .query({ instance, limit: 7, ...(cursor ? { cursor } : {}) })
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .expect(200);
      found.push(...(res.body.processes as Record<string, unknown>[]));
      cursor = res.body.next_cursor as string | null;
    } while (cursor !== null);
    return found;
  }

  it('gives every order of a life, each event twice, the same row; a late heartbeat never undoes a shutdown', async () => {
    const t0 = Date.now() - 30_000;
    const common = {
      type: 'process',
      instance: 'orders',
      hostname: 'web-1',
      pid: 77,
      started_at: iso(t0),
    };
    const life = [
      {
        state: 'startup',
        occurred_at: iso(t0),
        sidekiq_version: '6.4.1',
        client_version: '0.4.0',
        concurrency: 5,
        queues: ['default', 'mail'],
        tag: 'app',
      },
      // a later description (whole): it wins over the startup's in every order
      {
        state: 'heartbeat',
        occurred_at: iso(t0 + 10_000),
        sidekiq_version: '6.4.1',
        client_version: '0.4.0',
        concurrency: 7,
        queues: ['default', 'mail'],
        tag: 'app',
      },
      { state: 'quiet', occurred_at: iso(t0 + 11_000) },
      { state: 'shutdown', occurred_at: iso(t0 + 12_000) },
      // the sender thread beats until the process exits: after its shutdown
      { state: 'heartbeat', occurred_at: iso(t0 + 13_000) },
    ];
    const orders = permutations(life);
    expect(orders).toHaveLength(120);
    for (const [n, order] of orders.entries()) {
      for (const event of [...order, ...order]) {
        await post([{ ...common, ...event, identity: `web-1:77:${n}` }]).expect(200);
      }
    }
    const rows = await lives('orders');
    expect(rows).toHaveLength(120);
    for (const row of rows) {
      expect(row).toEqual({
        instance: 'orders',
        identity: expect.stringMatching(/^web-1:77:\d+$/),
        status: 'stopped',
        hostname: 'web-1',
        pid: 77,
        tag: 'app',
        sidekiq_version: '6.4.1',
        client_version: '0.4.0',
        concurrency: 7,
        queues: ['default', 'mail'],
        started_at: iso(t0),
        last_heartbeat_at: iso(t0 + 13_000),
        quiet_at: iso(t0 + 11_000),
        stopped_at: iso(t0 + 12_000),
      });
    }
    // one batch holding the whole life, in any order, gives the same row too
    await post(orders[77].map((e) => ({ ...common, ...e, identity: 'web-1:77:batch' }))).expect(
      200,
    );
    const [batch] = (await lives('orders')).filter((r) => r.identity === 'web-1:77:batch');
    expect({ ...batch, identity: 'x' }).toEqual({ ...rows[0], identity: 'x' });
  });

  it('takes a newer start of the same identity as a new life and ignores the older life afterwards', async () => {
    const t0 = Date.now() - 100_000;
    const base = {
      type: 'process',
      instance: 'relife',
      identity: 'box:1:n',
      hostname: 'box',
      pid: 1,
    };
    await post([
      { ...base, state: 'startup', started_at: iso(t0), occurred_at: iso(t0) },
      { ...base, state: 'shutdown', started_at: iso(t0), occurred_at: iso(t0 + 1000) },
    ]).expect(200);
    const t1 = Date.now() - 1000;
    await post([{ ...base, state: 'startup', started_at: iso(t1), occurred_at: iso(t1) }]).expect(
      200,
    );
    // a late event of the first life
    await post([
      { ...base, state: 'quiet', started_at: iso(t0), occurred_at: iso(t0 + 500) },
    ]).expect(200);
    const [row] = await lives('relife');
    expect(row).toMatchObject({
      status: 'running',
      started_at: iso(t1),
      stopped_at: null,
      quiet_at: null,
      last_heartbeat_at: iso(t1),
    });
    const silent = await request(ctx.http)
      .get('/api/v1/processes')
      .query({ instance: 'relife', status: 'silent,stopped' })
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(200);
    expect(silent.body.processes).toEqual([]);
  });

  it('refuses a bad process event with the field at fault, and writes nothing of the batch', async () => {
    const res = await post([
      { type: 'process', state: 'napping', identity: 'h:1:x', occurred_at: iso(Date.now()) },
      { type: 'process', state: 'heartbeat', queues: 'default' },
      { type: 'process', state: 'heartbeat', identity: 'h:1:x', nonsense: 1 },
    ]).expect(400);
    const fields = (res.body.details.errors as { field: string }[]).map((e) => e.field).sort();
    expect(fields).toEqual([
      'events[0].state',
      'events[1].identity',
      'events[1].queues',
      'events[2].nonsense',
    ]);
    expect(await lives('default')).toEqual([]);
    await request(ctx.http)
      .get('/api/v1/processes')
      .query({ status: 'asleep', limit: 0 })
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(400);
    await request(ctx.http)
      .get('/api/v1/processes')
      .query({ cursor: 'bm90LWEtY3Vyc29y' })
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(400);
  });

  it('lost_jobs: at once after shutdown, after the heartbeat timeout when silent, never when requeued or still worked on', async () => {
    const sut = ctx.get(JobManagerService);
    const now = Date.now();
    const instance = 'default';
    // one Sidekiq process per case, all still listed in Sidekiq's processes set (its key lives 60 s)
    const cases = {
      shutdown: { identity: 'w-1:11:aa', pid: 11 },
      silent: { identity: 'w-1:12:bb', pid: 12 },
      beating: { identity: 'w-1:13:cc', pid: 13 },
      requeued: { identity: 'w-1:14:dd', pid: 14 },
      draining: { identity: 'w-1:15:ee', pid: 15 },
      pushedAgain: { identity: 'w-1:16:ff', pid: 16 },
    };
    const jids = Object.fromEntries(Object.keys(cases).map((k) => [k, makeJid()])) as Record<
      keyof typeof cases,
      string
    >;
    for (const [name, p] of Object.entries(cases) as [
      keyof typeof cases,
      (typeof cases)['shutdown'],
    ][]) {
      const started = iso(now - 50_000);
      await ctx.postEvents(
        makeStartedJobEvents({
          jid: jids[name],
          jobClass: 'SlowJob',
          queue: 'slow',
          arguments: `["${name}"]`,
          queuedAt: iso(now - 55_000),
          startedAt: started,
          worker: { hostname: 'w-1', pid: p.pid },
        }),
      );
      const base = {
        type: 'process',
        identity: p.identity,
        hostname: 'w-1',
        pid: p.pid,
        started_at: iso(now - 70_000),
      };
      const lastBeat = name === 'silent' ? now - 61_000 : now - 1_000;
      const events: Record<string, unknown>[] = [
        { ...base, state: 'startup', occurred_at: iso(now - 70_000) },
        { ...base, state: 'heartbeat', occurred_at: iso(lastBeat) },
      ];
      if (name !== 'silent' && name !== 'beating') {
        events.push({ ...base, state: 'shutdown', occurred_at: iso(now - 2_000) });
      }
      await ctx.postEvents(events);
      await writer.heartbeat({
        identity: p.identity,
        hostname: 'w-1',
        pid: p.pid,
        startedAt: (now - 60_000) / 1000,
        work:
          name === 'draining' || name === 'silent'
            ? {
                t1: {
                  queue: 'slow',
                  payload: writer.payload({
                    jid: jids[name],
                    class: 'SlowJob',
                    queue: 'slow',
                    retry: true,
                    argsJson: `["${name}"]`,
                    extra: {},
                    createdAtMs: now - 55_000,
                  }),
                  runAt: (now - 50_000) / 1000,
                },
              }
            : {},
      });
    }
    // Sidekiq's shutdown pushes the job in progress back to its queue
    await writer.push(
      { jid: jids.requeued, class: 'SlowJob', queue: 'slow', argsJson: '["requeued"]' },
      now - 55_000,
    );

    // a later queued event of the same run: something pushed it again, it will run again
    await ctx.postEvents([
      { type: 'queued', job_id: jids.pushedAgain, queue: 'slow', occurred_at: iso(now - 1_000) },
    ]);

    const page = await sut.lostJobs(null, { instance });
    const byJid = new Map(page.jobs.map((j) => [j.job_id, j.reason]));
    expect(byJid.get(jids.shutdown)).toBe(`process w-1:11:aa said shutdown at ${iso(now - 2_000)}`);
    // its worker entry is a leftover: the process no longer beats
    expect(byJid.get(jids.silent)).toBe(`no heartbeat from w-1:12:bb since ${iso(now - 61_000)}`);
    expect(byJid.has(jids.beating)).toBe(false);
    expect(byJid.has(jids.requeued)).toBe(false);
    expect(byJid.has(jids.draining)).toBe(false);
    expect(byJid.has(jids.pushedAgain)).toBe(false);
    // (still running in the history: it is left out by the later queued event alone)
    expect((await sut.find(jids.pushedAgain)).job.status).toBe('running');
    expect(page.jobs).toHaveLength(2);

    // the restart rule agrees: the shutdown job is restarted, the beating one is left alone
    const report = await sut.restartUncompletedJobs(null, {
      instance,
      dryRun: true,
      minAgeSeconds: 0,
    });
    const outcome = new Map(report.items.map((i) => [i.job_id, i.outcome]));
    expect(outcome.get(jids.shutdown)).toBe('would_restart');
    expect(outcome.get(jids.silent)).toBe('would_restart');
    expect(outcome.get(jids.beating)).toBe('process_alive');
    expect(outcome.get(jids.requeued)).toBe('held_by_sidekiq');
    expect(outcome.get(jids.draining)).toBe('held_by_sidekiq');
  });

  it('the retention tick removes lives stopped or silent for longer than PROCESS_RETENTION_DAYS', async () => {
    const day = 86_400_000;
    const now = Date.now();
    const life = (identity: string, startedMs: number) => ({
      type: 'process',
      instance: 'kept',
      identity,
      hostname: 'r',
      pid: 1,
      started_at: iso(startedMs),
    });
    await ctx.postEvents([
      {
        ...life('r:1:old-stopped', now - 30 * day),
        state: 'startup',
        occurred_at: iso(now - 30 * day),
      },
      {
        ...life('r:1:old-stopped', now - 30 * day),
        state: 'shutdown',
        occurred_at: iso(now - 8 * day),
      },
      {
        ...life('r:1:old-silent', now - 30 * day),
        state: 'heartbeat',
        occurred_at: iso(now - 8 * day),
      },
      {
        ...life('r:1:new-stopped', now - 3 * day),
        state: 'shutdown',
        occurred_at: iso(now - 6 * day),
      },
      { ...life('r:1:running', now - 3 * day), state: 'heartbeat', occurred_at: iso(now - 1000) },
    ]);
    expect(await ctx.get(TaskScheduler).tick('retention', new Date(now))).toBe('ran');
    expect((await lives('kept')).map((l) => l.identity).sort()).toEqual([
      'r:1:new-stopped',
      'r:1:running',
    ]);
  });
});
