import pg from 'pg';
import { ADVISORY_LOCKS } from '../../../src/database/advisory-locks.js';
import { JobsService } from '../../../src/jobs/jobs.service.js';
import { EventPartitions } from '../../../src/jobs/storage/event-partitions.js';
import { partitionName, utcDay } from '../../../src/jobs/storage/partition-sql.js';
import { TaskScheduler } from '../../../src/scheduler/task.scheduler.js';
import { makeEvent, makeJid } from '../../factories/job-event.factory.js';
import { eventually } from '../../support/eventually.js';
import { TestApp } from '../../support/test-context.js';

// job_events' daily partitions on real Postgres: made ahead of time and on demand (events of a
// day without a partition wait in the default one, never lost), and expired by dropping whole
// days under the retention lock, with two copies of the service on one database. The tests run in
// order on one database: each leaves the partitions the next one expects.

const DAY = 86_400_000;

describe('job_events partitions', () => {
  let ctx: TestApp;
  let twin: TestApp;
  let sut: EventPartitions;
  let jobs: JobsService;

  beforeAll(async () => {
    ctx = await TestApp.start();
    twin = await TestApp.startOn(ctx.db);
    sut = ctx.get(EventPartitions);
    jobs = ctx.get(JobsService);
  });

  afterAll(async () => {
    await twin?.close();
    await ctx?.close();
  });

  const partitions = async () =>
    (
      await ctx.db.sql.query<{ name: string }>(
        `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
         where i.inhparent = 'job_events'::regclass order by 1`,
      )
    ).rows.map((r) => r.name);

  const tablesNamed = async (names: string[]) =>
    (
      await ctx.db.sql.query<{ relname: string }>(
        'select relname from pg_class where relname = any($1)',
        [names],
      )
    ).rows.map((r) => r.relname);

  // events in `table` (a row that ends a run with its start, started_at, is two)
  const count = async (table: string, jobId?: string) =>
    (
      await ctx.db.sql.query<{ n: number }>(
        `select (count(*) + count(started_at))::int as n from "${table}"${jobId ? ' where job_id = $1' : ''}`,
        jobId ? [jobId] : [],
      )
    ).rows[0].n;

  const jobIdOf = async (jid: string) =>
    (await ctx.db.sql.query<{ id: string }>('select id::text from jobs where jid = $1', [jid]))
      .rows[0].id;

  /** Stores an event of job `jobId` as if received at `receivedAt` (the writer stamps now()). */
  const insertEvent = (jobId: string, type: string, receivedAt: Date) =>
    ctx.db.sql.query(
      `insert into job_events (job_id, type, occurred_at, received_at, attempt, client_time)
       values ($1, $2, $3, $3, 0, true)`,
      [jobId, type, receivedAt.toISOString()],
    );

  const days = (from: Date, count: number) =>
    Array.from({ length: count }, (_, i) => utcDay(new Date(from.getTime() + i * DAY)));

  it('stores an event for a day without a partition in the default one, then moves it into the day made for it', async () => {
    const now = new Date();
    const today = partitionName(utcDay(now));
    // the scheduler never ran today (the migration made today's partition: undo that)
    await ctx.db.sql.query(`drop table if exists "${today}"`);
    const jid = makeJid();
    const t0 = now.getTime();
    await ctx.postEvents([
      makeEvent({ job_id: jid, occurred_at: new Date(t0 - 2000).toISOString() }),
      { job_id: jid, type: 'started', occurred_at: new Date(t0 - 1000).toISOString() },
      { job_id: jid, type: 'succeeded', occurred_at: new Date(t0).toISOString() },
    ]);
    const jobId = await jobIdOf(jid);
    expect(await count('job_events_default', jobId)).toBe(3);
    const before = await jobs.detail(jid);
    expect(before.events.map((e) => e.type)).toEqual(['queued', 'started', 'succeeded']);

    const made = await sut.ensure(now, 3);

    // the migration made the next days' partitions already
    expect(made?.created).toContain(utcDay(now));
    // rows: the run's start rides on its end's row (two events, one row)
    expect(made?.moved).toBe(2);
    expect(await count('job_events_default', jobId)).toBe(0);
    expect(await count(today, jobId)).toBe(3);
    expect(await partitions()).toEqual(expect.arrayContaining(days(now, 4).map(partitionName)));
    const after = await jobs.detail(jid);
    expect(after.events).toEqual(before.events);
    expect(after.events_expired).toBe(0);
    // nothing is missing any more: a second run makes and moves nothing
    expect(await twin.get(EventPartitions).ensure(now, 3)).toEqual({ created: [], moved: 0 });
  });

  it('makes the partitions ahead of time on one copy at a time, and skips while another holds the lock', async () => {
    const later = new Date(Date.now() + 100 * DAY);
    const ahead = days(later, 4).map(partitionName);
    const other = new pg.Client({ connectionString: ctx.db.url });
    await other.connect();
    try {
      await other.query('begin');
      await other.query('select pg_advisory_xact_lock($1)', [ADVISORY_LOCKS.partitions]);
      expect(await sut.ensure(later, 3)).toBeNull();
      expect(await ctx.get(TaskScheduler).tick('partitions', later)).toBe('skipped');
      expect(await tablesNamed(ahead)).toEqual([]);
      await other.query('commit');
    } finally {
      await other.end();
    }

    const both = await Promise.all([
      sut.ensure(later, 3),
      twin.get(EventPartitions).ensure(later, 3),
    ]);

    // whichever copy came second skipped on the lock or found nothing left to make
    expect(both.flatMap((made) => made?.created ?? [])).toEqual(days(later, 4));
    expect((await tablesNamed(ahead)).sort()).toEqual(ahead);
    expect(await partitions()).toEqual(expect.arrayContaining(ahead));
  });

  it('expires events by dropping whole days on one copy while the other skips, leaving no dead rows', async () => {
    const now = new Date();
    const jid = makeJid();
    await ctx.postEvents([makeEvent({ job_id: jid })]);
    const jobId = await jobIdOf(jid);
    const old = [now.getTime() - 20 * DAY, now.getTime() - 19 * DAY].map((t) => new Date(t));
    for (const receivedAt of old) {
      await insertEvent(jobId, 'started', receivedAt);
      await insertEvent(jobId, 'succeeded', receivedAt);
    }
    expect(await sut.ensure(now, 3)).toEqual({ created: old.map(utcDay), moved: 4 });
    // the scheduler has not run since this event came: it is still in the default partition
    await insertEvent(jobId, 'retrying', new Date(now.getTime() - 30 * DAY));
    const expired = old.map((d) => partitionName(utcDay(d)));
    const total = await count('job_events');

    // copy one holds the retention lock while its DROP waits for a reader of the oldest day
    const reader = new pg.Client({ connectionString: ctx.db.url });
    await reader.connect();
    let dropping: ReturnType<EventPartitions['dropExpired']> | undefined;
    try {
      await reader.query('begin');
      await reader.query(`lock table "${expired[0]}" in access share mode`);
      dropping = sut.dropExpired(now, 10);
      await eventually('the drop to wait for the reader', async () => {
        const { rows } = await ctx.db.sql.query<{ waiting: number }>(
          `select count(*)::int as waiting from pg_locks where locktype = 'relation' and not granted`,
        );
        return rows[0].waiting > 0;
      });
      expect(await twin.get(EventPartitions).dropExpired(now, 10)).toBeNull();
      await reader.query('commit');
    } finally {
      await reader.end();
    }

    expect(await dropping).toEqual({ dropped: old.map(utcDay), defaultDeleted: 1 });
    expect(await tablesNamed(expired)).toEqual([]);
    expect(await count('job_events')).toBe(total - 5);
    expect(await count('job_events', jobId)).toBe(1);
    // the day's rows went with its table: the partitions left were never deleted from
    const { rows } = await ctx.db.sql.query<{ relname: string; dead: number; deleted: number }>(
      `select relname, n_dead_tup::int as dead, n_tup_del::int as deleted from pg_stat_user_tables
       where relname like 'job_events_p%'`,
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.dead > 0 || r.deleted > 0)).toEqual([]);
  });

  it("keeps one timeline in order across a job's days, and says how many of its events expired", async () => {
    const jid = makeJid();
    const t0 = Date.now();
    // sent apart, so that the start is a row of its own (sent with its end it would ride on its row)
    await ctx.postEvents([
      makeEvent({ job_id: jid, occurred_at: new Date(t0 - 5 * DAY).toISOString() }),
      { job_id: jid, type: 'started', occurred_at: new Date(t0 - 4 * DAY).toISOString() },
    ]);
    await ctx.postEvents([
      { job_id: jid, type: 'succeeded', occurred_at: new Date(t0).toISOString() },
    ]);
    const jobId = await jobIdOf(jid);
    // its first two events were received on the days they happened (the row moves to the
    // default partition: those days have none yet)
    const { rows: moved } = await ctx.db.sql.query<{ type: string; received_at: Date }>(
      `update job_events set received_at = received_at - case type
         when 'queued' then interval '5 days' else interval '4 days' end
       where job_id = $1 and type in ('queued', 'started') returning type, received_at`,
      [jobId],
    );
    const queuedAt = moved.find((r) => r.type === 'queued')!.received_at;
    await ctx.db.sql.query('update jobs set first_received_at = $2 where id = $1', [
      jobId,
      queuedAt,
    ]);
    const { rows: succeeded } = await ctx.db.sql.query<{ received_at: Date }>(
      `select received_at from job_events where job_id = $1 and type = 'succeeded'`,
      [jobId],
    );
    const receivedNow = succeeded[0].received_at;
    const made = await sut.ensure(receivedNow, 3);
    expect(made?.created).toEqual(
      [queuedAt, new Date(queuedAt.getTime() + DAY)].map((d) => utcDay(d)),
    );

    const whole = await jobs.detail(jid);
    expect(whole.events.map((e) => [e.type, utcDay(new Date(e.received_at))])).toEqual([
      ['queued', utcDay(new Date(receivedNow.getTime() - 5 * DAY))],
      ['started', utcDay(new Date(receivedNow.getTime() - 4 * DAY))],
      ['succeeded', utcDay(receivedNow)],
    ]);
    expect(whole.events_expired).toBe(0);

    const expired = await sut.dropExpired(receivedNow, 4);

    expect(expired?.dropped).toEqual([utcDay(queuedAt)]);
    const rest = await jobs.detail(jid);
    expect(rest.status).toBe('succeeded');
    expect(rest.events.map((e) => e.type)).toEqual(['started', 'succeeded']);
    expect(rest.events_expired).toBe(1);
  });

  it('runs both from the scheduler: the partitions tick makes days on demand, retention drops expired ones', async () => {
    const scheduler = ctx.get(TaskScheduler);
    const now = new Date();
    const jid = makeJid();
    await ctx.postEvents([makeEvent({ job_id: jid })]);
    const jobId = await jobIdOf(jid);
    // EVENT_RETENTION_DAYS is 30 by default: the first day expires, the second is kept
    const kept = new Date(now.getTime() - 29 * DAY);
    const gone = new Date(now.getTime() - 31 * DAY);
    await insertEvent(jobId, 'started', gone);
    await insertEvent(jobId, 'succeeded', kept);
    const [goneName, keptName] = [gone, kept].map((d) => partitionName(utcDay(d)));

    expect(await scheduler.tick('partitions', now)).toBe('ran');
    expect((await tablesNamed([goneName, keptName])).sort()).toEqual([goneName, keptName]);
    expect(await count('job_events_default')).toBe(0);

    expect(await scheduler.tick('retention', now)).toBe('ran');
    expect(await tablesNamed([goneName, keptName])).toEqual([keptName]);
    expect(await count('job_events', jobId)).toBe(2);
  });
});
