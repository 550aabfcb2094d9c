import { payloadSql } from '../../src/jobs/ingest/payload-args.js';
import request from 'supertest';
import { makeEvent, makeJid } from '../factories/job-event.factory.js';
import type { TcpProxy } from '../support/tcp-proxy.js';
import { startBehindDatabaseProxy, TEST_TOKEN, TestApp } from '../support/test-context.js';
import { eventually } from '../support/eventually.js';

const auth = { 'PRIVATE-TOKEN': TEST_TOKEN };

describe('lifecycle ingestion (e2e)', () => {
  let ctx: TestApp;
  let proxy: TcpProxy;

  beforeAll(async () => {
    ({ ctx, proxy } = await startBehindDatabaseProxy({
      env: { INGEST_MAX_BATCH: '50', BODY_LIMIT: '64kb' },
    }));
  });

  afterAll(async () => {
    await ctx?.close();
    await proxy?.stop();
  });

  // events stored for the job: job_events rows carry their job's id, not its jid, and a run's end
  // stored with its start (started_at) is two events
  const count = async (table: 'jobs' | 'job_events', jid: string) =>
    (
      await ctx.db.sql.query(
        table === 'jobs'
          ? 'select count(*)::int as n from jobs where jid = $1'
          : `select (count(*) + count(e.started_at))::int as n
             from job_events e join jobs j on j.id = e.job_id where j.jid = $1`,
        [jid],
      )
    ).rows[0].n as number;

  it('takes the seed routes form-encoded, as the original Ruby client posts them', async () => {
    const jid = makeJid();
    const args = JSON.stringify(['x'.repeat(1000), { nested: [1, 2, 3] }]);
    const form = { arguments: args, job_class: 'HardWorker', queue: 'critical' };
    await request(ctx.http)
      .post('/api/v1/jobs')
      .set(auth)
      .type('form')
      .send({ job_id: jid, ...form })
      .expect(201, { job_id: jid, type: 'queued', duplicate: false });
    await request(ctx.http)
      .post(`/api/v1/jobs/${jid}/started`)
      .set(auth)
      .type('form')
      .send(form)
      .expect(201);
    await request(ctx.http)
      .post(`/api/v1/jobs/${jid}/complete`)
      .set(auth)
      .type('form')
      .send(form)
      .expect(201);
    const res = await request(ctx.http).get(`/api/v1/jobs/${jid}`).set(auth).expect(200);
    expect(res.body).toMatchObject({
      job_id: jid,
      status: 'succeeded',
      job_class: 'HardWorker',
      queue: 'critical',
      arguments: args,
      event_count: 3,
    });
    expect(res.body.arguments).toHaveLength(args.length); // no 255-character truncation
    expect(res.body.events.map((e: { type: string }) => e.type)).toEqual([
      'queued',
      'started',
      'succeeded',
    ]);
  });

  it('takes extended events as JSON, with failure details', async () => {
    const jid = makeJid();
    await request(ctx.http)
      .post(`/api/v1/jobs/${jid}/events`)
      .set(auth)
      .send({
        type: 'failed',
        occurred_at: 1_795_000_000.5,
        error_class: 'RuntimeError',
        error_message: 'boom',
        error_backtrace: ['a.rb:1', 'b.rb:2'],
        will_retry: false,
        hostname: 'h1',
        pid: 12,
        tid: 'abc',
      })
      .expect(201);
    const res = await request(ctx.http).get(`/api/v1/jobs/${jid}`).set(auth).expect(200);
    expect(res.body).toMatchObject({
      status: 'failed',
      error_class: 'RuntimeError',
      error_message: 'boom',
      hostname: 'h1',
      pid: 12,
      tid: 'abc',
      failed_at: new Date(1_795_000_000_500).toISOString(),
    });
    expect(res.body.events[0].error_backtrace).toEqual(['a.rb:1', 'b.rb:2']);
  });

  it('writes a batch all at once and reports duplicates', async () => {
    const jid = makeJid();
    const events = [
      makeEvent({ job_id: jid, occurred_at: '2026-11-23T10:00:00Z' }),
      makeEvent({ job_id: jid, type: 'started', occurred_at: '2026-11-23T10:00:01Z' }),
    ];
    await request(ctx.http)
      .post('/api/v1/events')
      .set(auth)
      .send({ events })
      .expect(200, { accepted: 2, duplicates: 0 });
    await request(ctx.http)
      .post('/api/v1/events')
      .set(auth)
      .send({ events: [...events, events[0]] })
      .expect(200, { accepted: 3, duplicates: 3 });
    expect(await count('job_events', jid)).toBe(2);
    const list = await request(ctx.http)
      .get('/api/v1/jobs')
      .query({ status: 'running', arguments: 'two' })
      .set(auth)
      .expect(200);
    expect(list.body.jobs.map((j: { job_id: string }) => j.job_id)).toContain(jid);
  });

  it('stores text with backslashes, tabs, newlines and non-ASCII exactly as sent, payload included', async () => {
    // the writer sends new events and new jobs' rows in COPY's text format, where these characters
    // (and a literal \N, its null marker) must be escaped
    const [a, b] = [makeJid(), makeJid()];
    const args = JSON.stringify(['C:\\temp\\N', 'tab\there', 'line\nbreak\r\n', '\\N', 'ü €', '𝄞']);
    const payload = JSON.stringify({ class: 'Esc', args: ['a\\b\tc\nd'], jid: a, retry: true });
    const message = 'multi\nline\tmessage \\ with \\N';
    const backtrace = ['app/x.rb:1:in `a\\b`', 'tab\tline'];
    await request(ctx.http)
      .post('/api/v1/events')
      .set(auth)
      .send({
        events: [
          { type: 'queued', job_id: a, job_class: 'Esc', queue: 'q\\1', arguments: args, payload },
          {
            type: 'failed',
            job_id: b,
            occurred_at: '2026-11-23T10:00:00Z',
            error_class: 'Err',
            error_message: message,
            error_backtrace: backtrace,
            hostname: 'host\\name',
            tid: '\\N',
          },
        ],
      })
      .expect(200, { accepted: 2, duplicates: 0 });
    const first = await request(ctx.http).get(`/api/v1/jobs/${a}`).set(auth).expect(200);
    expect(first.body).toMatchObject({ arguments: args, queue: 'q\\1' });
    expect(first.body.payload).toBe(payload);
    const second = await request(ctx.http).get(`/api/v1/jobs/${b}`).set(auth).expect(200);
    expect(second.body).toMatchObject({
      error_message: message,
      hostname: 'host\\name',
      tid: '\\N',
      payload: null,
      arguments: null,
    });
    expect(second.body.events[0]).toMatchObject({ error_message: message });
    expect(second.body.events[0].error_backtrace).toEqual(backtrace);
    const stored = await ctx.db.sql.query(
      `select ${payloadSql('j')} as job, j.arguments, e.type,
         (select x.tid from job_events x join jobs y on y.id = x.job_id where y.jid = $2) as tid
       from jobs j join job_events e on e.job_id = j.id where j.jid = $1`,
      [a, b],
    );
    // the payload and arguments once, on the job; the event holds what it adds
    expect(stored.rows).toEqual([{ job: payload, arguments: args, type: 'queued', tid: '\\N' }]);
  });

  it('takes the compact form (columns + rows + defaults) as the same events as objects', async () => {
    const [a, b] = [makeJid(), makeJid()];
    const started = 1_795_000_000_250_001;
    const columns = ['type', 'job_id', 'occurred_at_us', 'job_class', 'arguments', 'duration_us'];
    await request(ctx.http)
      .post('/api/v1/events')
      .set(auth)
      .send({
        events: [{ type: 'queued', job_id: b, job_class: 'Obj', arguments: '[2]' }],
        columns,
        defaults: { hostname: 'w1', pid: 7, queue: 'critical' },
        rows: [
          ['started', a, started, 'Row', '[1, "x"]', null],
          ['succeeded', a, started + 1500, 'Row', '[1, "x"]', 1500],
        ],
      })
      .expect(200, { accepted: 3, duplicates: 0 });
    const res = await request(ctx.http).get(`/api/v1/jobs/${a}`).set(auth).expect(200);
    expect(res.body).toMatchObject({
      status: 'succeeded',
      job_class: 'Row',
      queue: 'critical',
      arguments: '[1, "x"]',
      hostname: 'w1',
      event_count: 2,
    });
    expect(res.body.events).toMatchObject([
      { type: 'started', occurred_at: '2026-11-18T11:06:40.250Z' },
      { type: 'succeeded', occurred_at: '2026-11-18T11:06:40.251Z', duration_ms: 1.5 },
    ]);
    expect(await count('job_events', b)).toBe(1);
    // the same run again, as objects: nothing new
    await request(ctx.http)
      .post('/api/v1/events')
      .set(auth)
      .send({
        events: [
          {
            type: 'started',
            job_id: a,
            occurred_at: '2026-11-18T11:06:40.250001Z',
            job_class: 'Row',
            arguments: '[1, "x"]',
            hostname: 'w1',
            pid: 7,
            queue: 'critical',
          },
        ],
      })
      .expect(200, { accepted: 1, duplicates: 1 });
    expect(await count('job_events', a)).toBe(2);
  });

  it('records the run started event from started_at_us on the row that ends it', async () => {
    const jid = makeJid();
    const columns = [
      'type',
      'job_id',
      'occurred_at_us',
      'arguments',
      'duration_us',
      'started_at_us',
    ];
    const t0 = 1_795_000_000_250_001;
    await request(ctx.http)
      .post('/api/v1/events')
      .set(auth)
      .send({
        columns,
        defaults: { hostname: 'w1', tid: 't7' },
        rows: [['succeeded', jid, t0 + 2000, '[1]', 2000, t0]],
      })
      .expect(200, { accepted: 1, duplicates: 0 });
    const res = await request(ctx.http).get(`/api/v1/jobs/${jid}`).set(auth).expect(200);
    expect(res.body).toMatchObject({ status: 'succeeded', event_count: 2, arguments: '[1]' });
    expect(res.body.events).toMatchObject([
      { type: 'started', tid: 't7', hostname: 'w1', duration_ms: null },
      { type: 'succeeded', duration_ms: 2 },
    ]);
    // the started event sent on its own (a long job's, announced while it ran) is the same event
    await request(ctx.http)
      .post(`/api/v1/jobs/${jid}/events`)
      .set(auth)
      .send({ type: 'started', occurred_at_us: t0, arguments: '[1]', hostname: 'w1', tid: 't7' })
      .expect(201, { job_id: jid, type: 'started', duplicate: true });
    expect(await count('job_events', jid)).toBe(2);
  });

  it('names the row at fault in a compact batch and writes nothing', async () => {
    const good = makeJid();
    const res = await request(ctx.http)
      .post('/api/v1/events')
      .set(auth)
      .send({
        columns: ['type', 'job_id', 'occurred_at_us'],
        rows: [['started', good, 1_795_000_000_000_000], ['started', 'bad jid', 1.5], ['started']],
      })
      .expect(400);
    const fields = res.body.details.errors.map((e: { field: string }) => e.field).sort();
    expect(fields).toEqual(['rows[1].job_id', 'rows[1].occurred_at_us', 'rows[2]']);
    expect(await count('job_events', good)).toBe(0);
    // rows count against INGEST_MAX_BATCH (50 here) together with events
    const many = Array.from({ length: 30 }, () => ['queued', makeJid(), null]);
    await request(ctx.http)
      .post('/api/v1/events')
      .set(auth)
      .send({
        events: Array.from({ length: 21 }, () => makeEvent()),
        columns: ['type', 'job_id', 'occurred_at_us'],
        rows: many,
      })
      .expect(413);
  });

  it('rejects a batch with one bad event, names the field, and writes nothing', async () => {
    const good = makeEvent();
    const res = await request(ctx.http)
      .post('/api/v1/events')
      .set(auth)
      .send({
        events: [
          good,
          makeEvent({ occurred_at: '23/11/2026', arguments: '[1,' }),
          makeEvent({ pid: 'abc', color: 'red' }),
        ],
      })
      .expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
    const fields = res.body.details.errors.map((e: { field: string }) => e.field).sort();
    expect(fields).toEqual([
      'events[1].arguments',
      'events[1].occurred_at',
      'events[2].color',
      'events[2].pid',
    ]);
    expect(await count('job_events', good.job_id as string)).toBe(0);
  });

  it.each([
    ['a bad jid', '/api/v1/jobs/bad%20jid/started', {}, 'job_id'],
    ['a wrong type for the route', '/api/v1/jobs', { job_id: 'abc', type: 'started' }, 'type'],
    [
      'a non-boolean will_retry',
      '/api/v1/jobs/abc/events',
      { type: 'failed', will_retry: 'maybe' },
      'will_retry',
    ],
    [
      'a timestamp without zone',
      '/api/v1/jobs/abc/events',
      { type: 'started', occurred_at: '2026-11-23T10:00:00' },
      'occurred_at',
    ],
    [
      'an impossible date',
      '/api/v1/jobs/abc/events',
      { type: 'started', occurred_at: '2026-02-30T10:00:00Z' },
      'occurred_at',
    ],
    [
      'a NUL character',
      '/api/v1/jobs/abc/events',
      { type: 'started', hostname: 'a\u0000b' },
      'hostname',
    ],
    [
      'a payload that is not an object',
      '/api/v1/jobs/abc/events',
      { type: 'queued', payload: '[1]' },
      'payload',
    ],
    ['a missing type', '/api/v1/jobs/abc/events', {}, 'type'],
    [
      'a body job_id that differs from the URL',
      '/api/v1/jobs/abc/started',
      { job_id: 'other' },
      'job_id',
    ],
  ])('answers 400 naming the field for %s', async (_name, path, body, field) => {
    const res = await request(ctx.http).post(path).set(auth).send(body).expect(400);
    expect(res.body.details.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it('answers 400 for invalid JSON and 413 for oversize bodies and batches', async () => {
    const bad = await request(ctx.http)
      .post('/api/v1/events')
      .set(auth)
      .set('content-type', 'application/json')
      .send('{"events": [')
      .expect(400);
    expect(bad.body.details.errors[0].field).toBe('body');
    const huge = await request(ctx.http)
      .post('/api/v1/jobs')
      .set(auth)
      .send(makeEvent({ arguments: JSON.stringify(['x'.repeat(70_000)]) }))
      .expect(413);
    expect(huge.body).toMatchObject({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE' });
    const many = Array.from({ length: 51 }, () => makeEvent());
    const tooMany = await request(ctx.http)
      .post('/api/v1/events')
      .set(auth)
      .send({ events: many })
      .expect(413);
    expect(tooMany.body.details).toMatchObject({ field: 'events', max: 50 });
  });

  it('pages through jobs with a cursor and filters by time, class and queue', async () => {
    const cls = `PagedJob${makeJid().slice(0, 6)}`;
    const jids = Array.from({ length: 5 }, () => makeJid());
    for (const jid of jids) {
      await request(ctx.http)
        .post('/api/v1/jobs')
        .set(auth)
        .send(makeEvent({ job_id: jid, job_class: cls, queue: 'paging' }))
        .expect(201);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: request.Response = await request(ctx.http)
        .get('/api/v1/jobs')
        .query({ job_class: cls, queue: 'paging', limit: 2, ...(cursor ? { cursor } : {}) })
        .set(auth)
        .expect(200);
      seen.push(...res.body.jobs.map((j: { job_id: string }) => j.job_id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...jids].reverse());
    const future = await request(ctx.http)
      .get('/api/v1/jobs')
      .query({ job_class: cls, from: '2100-01-01T00:00:00Z' })
      .set(auth)
      .expect(200);
    expect(future.body.jobs).toEqual([]);
    await request(ctx.http).get('/api/v1/jobs').query({ cursor: 'garbage' }).set(auth).expect(400);
    await request(ctx.http).get('/api/v1/jobs/unknownjid').set(auth).expect(404);
  });

  it('answers 503 while Postgres is unreachable, loses nothing acknowledged, and recovers', async () => {
    const before = makeJid();
    await request(ctx.http)
      .post('/api/v1/jobs')
      .set(auth)
      .send(makeEvent({ job_id: before }))
      .expect(201);
    await proxy.cut();
    try {
      const down = await request(ctx.http)
        .post('/api/v1/jobs')
        .set(auth)
        .send(makeEvent())
        .expect(503);
      expect(down.body).toMatchObject({ statusCode: 503, code: 'DATABASE_UNAVAILABLE' });
      await request(ctx.http).get('/api/v1/jobs').set(auth).expect(503);
      const ready = await request(ctx.http).get('/api/v1/health/ready').expect(503);
      expect(ready.body).toMatchObject({ statusCode: 503, code: 'NOT_READY' });
      expect(ready.body.message).toContain('database');
      expect(ready.body.details.error.database.status).toBe('down');
    } finally {
      await proxy.restore();
    }
    const after = makeJid();
    await eventually(
      'an event to be accepted again',
      async () =>
        (
          await request(ctx.http)
            .post('/api/v1/jobs')
            .set(auth)
            .send(makeEvent({ job_id: after }))
        ).status === 201,
    );
    await request(ctx.http).get('/api/v1/health/ready').expect(200);
    await request(ctx.http).get(`/api/v1/jobs/${before}`).set(auth).expect(200);
    expect(await count('jobs', after)).toBe(1);
  });
});

describe('lifecycle ingestion under a flood of big batches (e2e)', () => {
  let ctx: TestApp;

  beforeAll(async () => {
    // the defaults (the suite above lowered them in process.env)
    ctx = await TestApp.start({ env: { INGEST_MAX_BATCH: '1000', BODY_LIMIT: '5mb' } });
  });

  afterAll(async () => {
    await ctx?.close();
  });

  it("keeps the writer's advisory locks within INGEST_LOCK_BUDGET and answers every batch", async () => {
    // 40 concurrent batches of 1,000 new jobs: without the budget the writer ran 4 groups of
    // 5,000 jobs at once, 20,000 advisory locks, and Postgres's shared lock table (about 6,400
    // entries by default) ran out: most batches got 503 and other sessions could not lock either
    const batches = Array.from({ length: 40 }, () =>
      Array.from({ length: 1000 }, () => makeEvent()),
    );
    let done = false;
    let maxLocks = 0;
    let maxHolders = 0;
    const sampler = (async () => {
      while (!done) {
        const { rows } = await ctx.db.sql.query(
          `select count(*)::int as n, count(distinct pid)::int as holders from pg_locks
           where locktype = 'advisory' and database = (select oid from pg_database
             where datname = current_database())`,
        );
        maxLocks = Math.max(maxLocks, rows[0].n as number);
        maxHolders = Math.max(maxHolders, rows[0].holders as number);
      }
    })();
    const statuses = await Promise.all(
      batches.map(async (events) => {
        const res = await request(ctx.http).post('/api/v1/events').set(auth).send({ events });
        return res.status;
      }),
    ).finally(() => {
      done = true;
    });
    await sampler;
    expect(statuses).toEqual(batches.map(() => 200));
    expect(maxLocks).toBeGreaterThan(0);
    expect(maxLocks).toBeLessThanOrEqual(4000);
    // each group takes its share of the budget, so a backlog still runs transactions side by side
    expect(maxHolders).toBeGreaterThan(1);
    const stored = await ctx.db.sql.query(
      'select count(*)::int as n from job_events e join jobs j on j.id = e.job_id where j.jid = any($1::text[])',
      [batches.flat().map((e) => e.job_id)],
    );
    expect(stored.rows[0].n).toBe(40_000);
  });
});
