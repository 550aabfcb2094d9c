import { payloadSql } from '../../../src/jobs/ingest/payload-args.js';
import { JobsService } from '../../../src/jobs/jobs.service.js';
import { makeJid } from '../../factories/job-event.factory.js';
import { TestApp } from '../../support/test-context.js';

// The job row is a pure function of its set of events (ARCHITECTURE.md). The fold lives in SQL, so
// its state-machine test runs on real Postgres: every order of a realistic event set, each event
// committed on its own, must give the same row.

const T0 = Date.parse('2026-11-20T10:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const worker = { hostname: 'worker-1', pid: 4242 };

// queued → started → failed (will retry) → retrying → queued again by the retry poller →
// started (retry_count 0) → succeeded
const LIFECYCLE: Record<string, unknown>[] = [
  {
    type: 'queued',
    occurred_at: at(0),
    job_class: 'ReportJob',
    queue: 'reports',
    arguments: '[42,"x"]',
  },
  { type: 'started', occurred_at: at(1), ...worker, tid: 't1' },
  {
    type: 'failed',
    occurred_at: at(2),
    ...worker,
    tid: 't1',
    error_class: 'Net::ReadTimeout',
    error_message: 'timed out',
    error_backtrace: ['app/jobs/report_job.rb:3:in `perform`'],
    will_retry: true,
    duration_ms: 1000,
  },
  {
    type: 'retrying',
    occurred_at: at(2.5),
    retry_count: 0,
    error_class: 'Net::ReadTimeout',
    error_message: 'timed out',
  },
  {
    type: 'queued',
    occurred_at: at(30),
    retry_count: 0,
    job_class: 'ReportJob',
    queue: 'reports',
    arguments: '[42,"x"]',
  },
  {
    type: 'started',
    occurred_at: at(31),
    retry_count: 0,
    hostname: 'worker-2',
    pid: 777,
    tid: 't9',
  },
  {
    type: 'succeeded',
    occurred_at: at(32.25),
    retry_count: 0,
    hostname: 'worker-2',
    pid: 777,
    tid: 't9',
    duration_ms: 1250,
  },
];

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) {
    return [items];
  }
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

const FOLDED = `job_class, queue, arguments, status, attempt, created_at, enqueued_at, scheduled_at,
  started_at, completed_at, failed_at, hostname, pid, tid, error_class, error_message,
  error_backtrace, will_retry, duration_ms, event_count, first_event_at, last_event_at`;

describe('job fold (state machine) on real Postgres', () => {
  let ctx: TestApp;

  beforeAll(async () => {
    ctx = await TestApp.start();
  });

  afterAll(async () => {
    await ctx?.close();
  });

  /** A job row the fast path does not expect: no stored events, so it would insert the row again. */
  const insertRowWithoutEvents = (jid: string) =>
    ctx.db.sql.query(
      `insert into jobs (instance, jid, status, attempt, event_count, first_event_at, last_event_at)
       values ('default', $1, 'queued', 0, 0, now(), now())`,
      [jid],
    );

  it('gives the same row for all 5040 orders of a retried job, one commit per event', async () => {
    const sut = ctx.get(JobsService);
    const orders = permutations(LIFECYCLE.map((_, i) => i));
    expect(orders).toHaveLength(5040);
    const jids = orders.map(() => makeJid());
    // every job's events go in its own order, one request after another; jobs run side by side
    await Promise.all(
      orders.map(async (order, j) => {
        for (const i of order) {
          await sut.recordEvent({ ...LIFECYCLE[i], job_id: jids[j] }, { form: false });
        }
      }),
    );
    const { rows } = await ctx.db.sql.query(
      `select jid, ${FOLDED} from jobs where jid = any($1) order by jid`,
      [jids],
    );
    expect(rows).toHaveLength(5040);
    const distinct = new Set(rows.map(({ jid: _jid, ...rest }) => JSON.stringify(rest)));
    expect(distinct.size).toBe(1);
    const row = rows[0];
    expect(row).toMatchObject({
      job_class: 'ReportJob',
      queue: 'reports',
      arguments: '[42,"x"]',
      status: 'succeeded',
      attempt: 1,
      hostname: 'worker-2',
      pid: 777,
      tid: 't9',
      error_class: 'Net::ReadTimeout',
      will_retry: true,
      duration_ms: 1250,
      event_count: 7,
    });
    expect(row.enqueued_at.toISOString()).toBe(at(0));
    expect(row.started_at.toISOString()).toBe(at(31));
    expect(row.completed_at.toISOString()).toBe(at(32.25));
    expect(row.failed_at.toISOString()).toBe(at(2));
    expect(row.last_event_at.toISOString()).toBe(at(32.25));
  });

  it('ignores repeated events and gives the same row as one delivery of each', async () => {
    const sut = ctx.get(JobsService);
    const once = makeJid();
    const repeated = makeJid();
    for (const event of LIFECYCLE) {
      await sut.recordEvent({ ...event, job_id: once }, { form: false });
    }
    const duplicates: boolean[] = [];
    for (const event of [...LIFECYCLE].reverse().concat(LIFECYCLE, LIFECYCLE.slice(2, 5))) {
      duplicates.push(
        (await sut.recordEvent({ ...event, job_id: repeated }, { form: false })).duplicate,
      );
    }
    expect(duplicates.filter((d) => !d)).toHaveLength(LIFECYCLE.length);
    const { rows } = await ctx.db.sql.query(`select jid, ${FOLDED} from jobs where jid = any($1)`, [
      [once, repeated],
    ]);
    const [a, b] = rows.map(({ jid: _jid, ...rest }) => JSON.stringify(rest));
    expect(a).toBe(b);
    const events = await ctx.db.sql.query(
      'select (count(*) + count(e.started_at))::int as n from job_events e join jobs j on j.id = e.job_id where j.jid = $1',
      [repeated],
    );
    expect(events.rows[0].n).toBe(LIFECYCLE.length);
  });

  it('gives the same row from one batch (new job, events repeated) as from one commit per event', async () => {
    const sut = ctx.get(JobsService);
    const once = makeJid();
    const batched = makeJid();
    for (const event of LIFECYCLE) {
      await sut.recordEvent({ ...event, job_id: once }, { form: false });
    }
    // a brand-new job: its row is folded from the batch's own events, repeats left out in memory
    const events = [...LIFECYCLE].reverse().concat(LIFECYCLE.slice(1, 4));
    const result = await sut.recordBatch(
      { events: events.map((e) => ({ ...e, job_id: batched })) },
      false,
    );
    expect(result).toEqual({ accepted: events.length, duplicates: 3 });
    // the same events again, with one job that exists and one that does not: all repeats
    const other = makeJid();
    const again = await sut.recordBatch(
      {
        events: [
          ...LIFECYCLE.map((e) => ({ ...e, job_id: batched })),
          { ...LIFECYCLE[0], job_id: other },
        ],
      },
      false,
    );
    expect(again).toEqual({ accepted: LIFECYCLE.length + 1, duplicates: LIFECYCLE.length });
    const { rows } = await ctx.db.sql.query(`select jid, ${FOLDED} from jobs where jid = any($1)`, [
      [once, batched],
    ]);
    expect(rows).toHaveLength(2);
    const [a, b] = rows.map(({ jid: _jid, ...rest }) => JSON.stringify(rest));
    expect(a).toBe(b);
    const stored = await ctx.db.sql.query(
      'select j.jid, (count(*) + count(e.started_at))::int as n from job_events e join jobs j on j.id = e.job_id where j.jid = any($1) group by j.jid',
      [[batched, other]],
    );
    expect(Object.fromEntries(stored.rows.map((r) => [r.jid, r.n]))).toEqual({
      [batched]: LIFECYCLE.length,
      [other]: 1,
    });
  });

  it('stores values exactly on both paths: new job in one batch, known job event by event', async () => {
    const sut = ctx.get(JobsService);
    const payload = '{"class":"ReportJob","args":[1.50,"é\\u00e9"],"jid":"x","retry":true}';
    const events = [
      {
        type: 'queued',
        occurred_at: '2026-11-20T10:00:00.123456Z',
        job_class: 'ReportJob',
        queue: 'reports',
        arguments: '[1.50, "é"]',
        payload,
      },
      {
        type: 'failed',
        occurred_at: '2026-11-20T11:00:00.000001+01:00',
        error_class: 'E',
        error_message: 'boom',
        error_backtrace: ['a.rb:1', 'b.rb:2'],
        will_retry: false,
        duration_ms: 0.1 + 0.2,
      },
    ];
    const batched = makeJid();
    const oneByOne = makeJid();
    await sut.recordBatch({ events: events.map((e) => ({ ...e, job_id: batched })) }, false);
    for (const e of events) {
      await sut.recordEvent({ ...e, job_id: oneByOne }, { form: false });
    }
    const { rows } = await ctx.db.sql.query(
      `select jid, ${payloadSql('jobs')} as payload, arguments, error_backtrace, duration_ms, status,
         to_char(enqueued_at at time zone 'UTC', 'HH24:MI:SS.US') as enqueued,
         to_char(failed_at at time zone 'UTC', 'HH24:MI:SS.US') as failed
       from jobs where jid = any($1)`,
      [[batched, oneByOne]],
    );
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row).toMatchObject({
        payload,
        arguments: '[1.50, "é"]',
        error_backtrace: ['a.rb:1', 'b.rb:2'],
        duration_ms: 0.1 + 0.2,
        status: 'failed',
        enqueued: '10:00:00.123456',
        failed: '10:00:00.000001',
      });
    }
  });

  it('stores a payload once, without the args it shares with the arguments, and gives it back whole', async () => {
    const sut = ctx.get(JobsService);
    const jid = makeJid();
    const args = '[7,"ünïcödé 😀",{"k":[1.50]}]';
    const payload = `{"retry":true,"queue":"q","class":"C","args":${args},"jid":"${jid}"}`;
    await sut.recordEvent(
      { type: 'queued', job_id: jid, job_class: 'C', queue: 'q', arguments: args, payload },
      { form: false },
    );
    await sut.recordEvent({ type: 'started', job_id: jid, hostname: 'w' }, { form: false });
    const { rows } = await ctx.db.sql.query(
      `select payload_rest, payload_args_at, ${payloadSql('jobs')} as payload from jobs where jid = $1`,
      [jid],
    );
    expect(rows[0].payload_rest).not.toContain(args);
    expect(rows[0].payload_args_at).not.toBeNull();
    expect(rows[0].payload).toBe(payload);
    expect((await sut.detail(jid)).payload).toBe(payload);
  });

  it('takes events for a job whose row exists without events (upsert fallback)', async () => {
    const sut = ctx.get(JobsService);
    const jid = makeJid();
    await insertRowWithoutEvents(jid);
    const result = await sut.recordEvent({ ...LIFECYCLE[1], job_id: jid }, { form: false });
    expect(result.duplicate).toBe(false);
    const { rows } = await ctx.db.sql.query(
      'select status, event_count, hostname from jobs where jid = $1',
      [jid],
    );
    expect(rows).toEqual([{ status: 'running', event_count: 1, hostname: 'worker-1' }]);
    const again = await sut.recordEvent({ ...LIFECYCLE[1], job_id: jid }, { form: false });
    expect(again.duplicate).toBe(true);
  });

  it('counts the first copy of a repeated event as stored on the upsert fallback too', async () => {
    const sut = ctx.get(JobsService);
    const jid = makeJid();
    await insertRowWithoutEvents(jid);
    const events = [LIFECYCLE[0], LIFECYCLE[1], LIFECYCLE[0]].map((e) => ({ ...e, job_id: jid }));
    expect(await sut.recordBatch({ events }, false)).toEqual({ accepted: 3, duplicates: 1 });
    expect(await sut.recordBatch({ events }, false)).toEqual({ accepted: 3, duplicates: 3 });
  });

  it('stores each event once when concurrent requests carry the same ones', async () => {
    const sut = ctx.get(JobsService);
    const jid = makeJid();
    const events = LIFECYCLE.slice(0, 4).map((e) => ({ ...e, job_id: jid }));
    const results = await Promise.all([0, 1, 2, 3].map(() => sut.recordBatch({ events }, false)));
    const stored = results.reduce((n, r) => n + r.accepted - r.duplicates, 0);
    expect(stored).toBe(events.length);
    const { rows } = await ctx.db.sql.query(
      'select (count(*) + count(e.started_at))::int as n from job_events e join jobs j on j.id = e.job_id where j.jid = $1',
      [jid],
    );
    expect(rows[0].n).toBe(events.length);
  });

  it.each([
    [
      'a dead job',
      [
        { type: 'failed', retry_count: 3, will_retry: false, error_class: 'E' },
        { type: 'dead', retry_count: 4, error_class: 'E' },
      ],
      'dead',
    ],
    [
      'a failure without retry',
      [{ type: 'failed', will_retry: false, error_class: 'E' }],
      'failed',
    ],
    [
      'a failure that will be retried',
      [{ type: 'failed', will_retry: true, error_class: 'E' }],
      'retrying',
    ],
    ['a scheduled job', [{ type: 'scheduled', scheduled_at: at(3600) }], 'scheduled'],
    [
      'a scheduled job moved to its queue',
      [{ type: 'scheduled', scheduled_at: at(60) }, { type: 'queued' }],
      'queued',
    ],
    ['an interrupted job', [{ type: 'started' }, { type: 'interrupted' }], 'interrupted'],
    [
      'an interrupted job started again',
      [
        { type: 'started', occurred_at: at(1) },
        { type: 'interrupted', occurred_at: at(2) },
        { type: 'started', occurred_at: at(3) },
      ],
      'running',
    ],
    ['a started event that beat its queued', [{ type: 'started', occurred_at: at(1) }], 'running'],
  ])('derives the status of %s', async (_name, events, status) => {
    const sut = ctx.get(JobsService);
    const jid = makeJid();
    for (const [i, event] of (events as Record<string, unknown>[]).entries()) {
      await sut.recordEvent({ occurred_at: at(i), ...event, job_id: jid }, { form: false });
    }
    const { rows } = await ctx.db.sql.query('select status from jobs where jid = $1', [jid]);
    expect(rows[0].status).toBe(status);
  });
});
