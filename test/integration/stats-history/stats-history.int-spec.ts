import pg from 'pg';
import request from 'supertest';
import { ADVISORY_LOCKS } from '../../../src/database/advisory-locks.js';
import { JobsService } from '../../../src/jobs/jobs.service.js';
import { TaskScheduler } from '../../../src/scheduler/task.scheduler.js';
import { eventually } from '../../support/eventually.js';
import { SidekiqWriter } from '../../support/sidekiq-writer.js';
import { TcpProxy } from '../../support/tcp-proxy.js';
import { startBehindDatabaseProxy, TEST_TOKEN, TestApp } from '../../support/test-context.js';

// Ticks are driven with a controllable clock (tick(name, now)); Redis holds data shaped exactly
// like Sidekiq's (SidekiqWriter) in this file's own DB index.
const REDIS_DB = 14;
const T0 = new Date('2026-11-23T08:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

describe('stats-history scheduler', () => {
  let ctx: TestApp;
  let redisProxy: TcpProxy;
  let writer: SidekiqWriter;
  let scheduler: TaskScheduler;

  beforeAll(async () => {
    const redisUrl = new URL(process.env.TEST_REDIS_URL ?? process.env.REDIS_URL!);
    redisProxy = new TcpProxy(redisUrl.hostname, Number(redisUrl.port));
    const port = await redisProxy.start();
    redisUrl.pathname = `/${REDIS_DB}`;
    writer = SidekiqWriter.connect(redisUrl.toString());
    await writer.redis.flushdb();
    const proxied = new URL(redisUrl);
    proxied.port = String(port);
    ctx = await TestApp.start({ env: { REDIS_URL: proxied.toString(), RETENTION_BATCH: '100' } });
    scheduler = ctx.get(TaskScheduler);
  });

  afterAll(async () => {
    await ctx?.close();
    await writer?.redis.flushdb();
    await writer?.close();
    await redisProxy?.stop();
  });

  const snapshots = async () =>
    (await ctx.db.sql.query('select * from stats_snapshots order by taken_at')).rows;

  it('snapshots stats and queue depth; the history shows gaps as nulls, throughput and drain', async () => {
    for (let i = 0; i < 10; i++) {
      await writer.push({ queue: 'critical' });
    }
    await writer.push({ queue: 'default' });
    await writer.stat('processed', 100);
    await writer.stat('failed', 3);
    expect(await scheduler.tick('snapshot', at(0))).toBe('ran');

    // one minute later: 4 jobs of "critical" done, 40 more processed
    await writer.redis.rpop('queue:critical', 4);
    await writer.stat('processed', 40);
    expect(await scheduler.tick('snapshot', at(1.5))).toBe('ran'); // lands in minute 1
    // minute 2: no snapshot (the service was down); minute 3: another
    await writer.stat('processed', 60);
    expect(await scheduler.tick('snapshot', at(3))).toBe('ran');

    const rows = await snapshots();
    expect(rows.map((r) => r.taken_at.toISOString())).toEqual(
      [at(0), at(1), at(3)].map((d) => d.toISOString()),
    );
    expect(rows[0]).toMatchObject({ processed: '100', failed: '3', enqueued: '11' });
    expect(rows[1].queues.critical.size).toBe(6);

    const res = await request(ctx.http)
      .get('/api/v1/stats/history')
      .query({ from: at(0).toISOString(), to: at(4).toISOString(), resolution: 'minute' })
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(200);
    const points = res.body.points as {
      at: string;
      processed: number | null;
      throughput: number | null;
    }[];
    expect(points.map((p) => p.processed)).toEqual([100, 140, null, 200]);
    expect(points.map((p) => p.throughput)).toEqual([null, 40, null, null]);
    expect(res.body.queues.critical.map((p: { size: number | null }) => p.size)).toEqual([
      10,
      6,
      null,
      6,
    ]);
    // critical shrank 4 jobs in the 60 s between its last two known points... then stood still
    expect(res.body.drain.critical).toEqual({ size: 6, rate_per_second: null, eta_seconds: null });
    expect(res.body.drain.default.size).toBe(1);

    const hourly = await request(ctx.http)
      .get('/api/v1/stats/history')
      .query({ from: at(0).toISOString(), to: at(60).toISOString(), resolution: 'hour' })
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(200);
    expect(hourly.body.points).toHaveLength(1);
    expect(hourly.body.points[0].processed).toBe(200); // the hour's last snapshot
  });

  it('estimates the time to drain from the last two points', async () => {
    await writer.redis.rpop('queue:critical', 3);
    expect(await scheduler.tick('snapshot', at(4))).toBe('ran');
    const res = await request(ctx.http)
      .get('/api/v1/stats/history')
      .query({ from: at(0).toISOString(), to: at(5).toISOString(), resolution: 'minute' })
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(200);
    expect(res.body.drain.critical).toEqual({ size: 3, rate_per_second: 3 / 60, eta_seconds: 60 });
  });

  it('does nothing while another copy holds the tick lock, and never overlaps itself', async () => {
    const other = new pg.Client({ connectionString: ctx.db.url });
    await other.connect();
    try {
      await other.query('begin');
      await other.query('select pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.statsSnapshot]);
      expect(await scheduler.tick('snapshot', at(10))).toBe('skipped');
      await other.query('commit');
    } finally {
      await other.end();
    }
    const [a, b] = await Promise.all([
      scheduler.tick('snapshot', at(11)),
      scheduler.tick('snapshot', at(11)),
    ]);
    expect([a, b].sort()).toEqual(['overlap', 'ran']);
    const taken = (await snapshots()).map((r) => r.taken_at.toISOString());
    expect(taken).not.toContain(at(10).toISOString());
    expect(taken.filter((t) => t === at(11).toISOString())).toHaveLength(1);
  });

  it('lets only one of two service copies write a tick', async () => {
    // a second copy of the service on the same database and Redis
    const twin = await TestApp.startOn(ctx.db, { env: { REDIS_URL: process.env.REDIS_URL! } });
    try {
      const results = await Promise.all([
        scheduler.tick('snapshot', at(20)),
        twin.get(TaskScheduler).tick('snapshot', at(20)),
      ]);
      expect(results).toContain('ran');
      const rows = (await snapshots()).filter(
        (r) => r.taken_at.toISOString() === at(20).toISOString(),
      );
      expect(rows).toHaveLength(1);
    } finally {
      await twin.closeApp();
    }
  });

  it('skips a tick while Redis is unreachable and works again at the next one', async () => {
    await redisProxy.cut();
    try {
      expect(await scheduler.tick('snapshot', at(30))).toBe('ran');
    } finally {
      await redisProxy.restore();
    }
    let taken = (await snapshots()).map((r) => r.taken_at.toISOString());
    expect(taken).not.toContain(at(30).toISOString());
    const result = await eventually('a snapshot once Redis is back', async () => {
      const outcome = await scheduler.tick('snapshot', at(31));
      taken = (await snapshots()).map((r) => r.taken_at.toISOString());
      return taken.includes(at(31).toISOString()) ? outcome : null;
    });
    expect(result).toBe('ran');
  });

  it("imports Sidekiq's own daily counters, keeping the larger value", async () => {
    await writer.stat('processed', 7, '2026-11-21');
    await writer.stat('failed', 2, '2026-11-21');
    await writer.stat('processed', 9, '2026-11-22');
    expect(await scheduler.tick('import', new Date('2026-11-22T23:00:00Z'))).toBe('ran');
    await ctx.db.sql.query(`update stats_daily set processed = 1000 where day = '2026-11-22'`);
    expect(await scheduler.tick('import', new Date('2026-11-22T23:30:00Z'))).toBe('ran');
    const rows = (
      await ctx.db.sql.query(
        `select to_char(day, 'YYYY-MM-DD') as day, processed::int, failed::int from stats_daily
         where day in ('2026-11-21', '2026-11-22') order by day`,
      )
    ).rows;
    expect(rows).toEqual([
      { day: '2026-11-21', processed: 7, failed: 2 },
      { day: '2026-11-22', processed: 1000, failed: 0 },
    ]);
  });

  it('removes old snapshots and old jobs in batches, keeping recent ones', async () => {
    const now = new Date();
    await ctx.db.sql.query(
      `insert into stats_snapshots (instance, taken_at, processed, failed, enqueued, scheduled, retry, dead,
         busy, processes, default_latency, queues)
       select 'default', now() - interval '200 days' - g * interval '1 minute', 0, 0, 0, 0, 0, 0, 0, 0, 0, '{}'
       from generate_series(1, 250) g`,
    );
    const old = {
      job_id: 'oldjob1',
      type: 'succeeded',
      occurred_at: new Date(now.getTime() - 200 * 86_400_000).toISOString(),
    };
    const recent = { job_id: 'newjob1', type: 'succeeded', occurred_at: now.toISOString() };
    await request(ctx.http)
      .post('/api/v1/events')
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .send({ events: [old, recent] })
      .expect(200);
    const oldJobId = (await ctx.db.sql.query(`select id from jobs where jid = 'oldjob1'`)).rows[0]
      .id;
    const before = (await snapshots()).length;
    expect(await scheduler.tick('retention', now)).toBe('ran');
    expect((await snapshots()).length).toBe(before - 250);
    const jobs = (
      await ctx.db.sql.query(`select jid from jobs where jid in ('oldjob1', 'newjob1')`)
    ).rows;
    expect(jobs.map((j) => j.jid)).toEqual(['newjob1']);
    // its event was received today: it goes when today's partition expires, not row by row
    const events = (
      await ctx.db.sql.query(`select count(*)::int as n from job_events where job_id = $1`, [
        oldJobId,
      ])
    ).rows;
    expect(events[0].n).toBe(1);
  });

  it('prunes jobs on one copy only (the retention lock), and keeps a job that gets an event meanwhile', async () => {
    const jobs = ctx.get(JobsService);
    const now = new Date();
    const longAgo = new Date(now.getTime() - 300 * 86_400_000).toISOString();
    await request(ctx.http)
      .post('/api/v1/events')
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .send({
        events: ['pruneme1', 'pruneme2', 'keepme1'].map((job_id) => ({
          job_id,
          type: 'succeeded',
          occurred_at: longAgo,
        })),
      })
      .expect(200);
    const cutoff = new Date(now.getTime() - 90 * 86_400_000);
    const other = new pg.Client({ connectionString: ctx.db.url });
    await other.connect();
    try {
      // another copy is pruning: this one skips and deletes nothing
      await other.query('begin');
      await other.query('select pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.retention]);
      expect(await jobs.pruneOlderThan(cutoff, 100)).toBeNull();
      await other.query('commit');
      // the writer holds keepme1's ingest lock and stores a new event for it: pruning waits for
      // that lock, then sees the new activity and keeps the job and its events whole
      await other.query('begin');
      await other.query(`select pg_advisory_xact_lock(hashtextextended('default/keepme1', 0))`);
      const pruning = jobs.pruneOlderThan(cutoff, 100);
      // the update below must come while pruning waits for the lock, not before it asks
      await eventually('pruning to wait for the ingest lock', async () => {
        const { rows } = await ctx.db.sql.query<{ waiting: number }>(
          `select count(*)::int as waiting from pg_locks where locktype = 'advisory' and not granted`,
        );
        return rows[0].waiting > 0;
      });
      await other.query(`update jobs set last_event_at = now() where jid = 'keepme1'`);
      await other.query('commit');
      expect(await pruning).toBe(2);
    } finally {
      await other.end();
    }
    const left = await ctx.db.sql.query<{ jid: string; n: number }>(
      `select j.jid, (select count(*)::int from job_events e where e.job_id = j.id) as n
       from jobs j where j.jid in ('pruneme1', 'pruneme2', 'keepme1')`,
    );
    expect(left.rows).toEqual([{ jid: 'keepme1', n: 1 }]);
  });

  it('leaves snapshots and status data alone while another copy holds the retention lock', async () => {
    await ctx.db.sql.query(
      `insert into stats_snapshots (instance, taken_at, processed, failed, enqueued, scheduled, retry, dead,
         busy, processes, default_latency, queues)
       values ('default', now() - interval '400 days', 0, 0, 0, 0, 0, 0, 0, 0, 0, '{}')`,
    );
    await ctx.db.sql.query(
      `insert into job_status_data (instance, jid, at, updated_at)
       values ('default', 'orphan-locked', 1, now() - interval '400 days')`,
    );
    const count = async () =>
      (
        await ctx.db.sql.query<{ s: number; d: number }>(
          `select (select count(*)::int from stats_snapshots where taken_at < now() - interval '399 days') as s,
             (select count(*)::int from job_status_data where jid = 'orphan-locked') as d`,
        )
      ).rows[0];
    const other = new pg.Client({ connectionString: ctx.db.url });
    await other.connect();
    try {
      await other.query('begin');
      await other.query('select pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.retention]);
      expect(await scheduler.tick('retention', new Date())).toBe('ran');
      expect(await count()).toEqual({ s: 1, d: 1 });
      await other.query('commit');
    } finally {
      await other.end();
    }
    expect(await scheduler.tick('retention', new Date())).toBe('ran');
    expect(await count()).toEqual({ s: 0, d: 0 });
  });

  it('validates the history query', async () => {
    const res = await request(ctx.http)
      .get('/api/v1/stats/history')
      .query({ from: '2026-01-01T00:00:00Z', to: '2026-06-01T00:00:00Z', resolution: 'minute' })
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(400);
    expect(res.body.details.errors[0].field).toBe('resolution');
    await request(ctx.http)
      .get('/api/v1/stats/history')
      .query({ resolution: 'week' })
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(400);
    await request(ctx.http)
      .get('/api/v1/stats/history')
      .query({ instance: 'nope' })
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(404);
  });
});

describe('stats-history scheduler with Postgres unreachable', () => {
  let ctx: TestApp;
  let proxy: TcpProxy;

  beforeAll(async () => {
    ({ ctx, proxy } = await startBehindDatabaseProxy());
  });

  afterAll(async () => {
    await ctx?.close();
    await proxy?.stop();
  });

  it('fails the tick with a warning, and the next tick writes', async () => {
    const scheduler = ctx.get(TaskScheduler);
    await proxy.cut();
    try {
      expect(await scheduler.tick('snapshot', at(100))).toBe('failed');
    } finally {
      await proxy.restore();
    }
    await eventually(
      'a snapshot once Postgres is back',
      async () => (await scheduler.tick('snapshot', at(101))) === 'ran',
    );
    const rows = (await ctx.db.sql.query('select taken_at from stats_snapshots')).rows;
    expect(rows.map((r) => r.taken_at.toISOString())).toEqual([at(101).toISOString()]);
  });
});
