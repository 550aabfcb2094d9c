import request from 'supertest';
import { PREVIEW_CHARS } from '../../src/common/preview.js';
import { TIMELINE_PAGE } from '../../src/jobs/job-event.repository.js';
import { makeJid } from '../factories/job-event.factory.js';
import { TEST_TOKEN, TestApp } from '../support/test-context.js';

/** The first n characters (code points, as Postgres's left() counts them). */
const head = (text: string, n: number) => [...text].slice(0, n).join('');

describe('List rows carry previews of big values; the job route the whole (e2e)', () => {
  let ctx: TestApp;
  const auth = { 'PRIVATE-TOKEN': TEST_TOKEN };
  const queue = `previews-${makeJid().slice(0, 8)}`;
  const bigJid = makeJid();
  const smallJid = makeJid();
  // the cut falls inside runs of 2-byte, 3-byte and 4-byte (surrogate pair in JS) characters
  const big = JSON.stringify([queue, 'a'.repeat(PREVIEW_CHARS - 40), 'é€🙂'.repeat(20_000)]);
  const small = JSON.stringify([queue, 'é🙂', 7]);
  const message = `boom ${'€'.repeat(9_000)}`;

  const post = (events: Record<string, unknown>[]) =>
    request(ctx.http).post('/api/v1/events').set(auth).send({ events }).expect(200);

  beforeAll(async () => {
    ctx = await TestApp.start();
    await post([
      {
        type: 'queued',
        job_id: bigJid,
        job_class: 'BigJob',
        queue,
        arguments: big,
        occurred_at: '2026-11-23T10:00:00Z',
      },
      { type: 'started', job_id: bigJid, occurred_at: '2026-11-23T10:00:01Z' },
      {
        type: 'failed',
        job_id: bigJid,
        occurred_at: '2026-11-23T10:00:02Z',
        error_class: 'RuntimeError',
        error_message: message,
        will_retry: false,
      },
      {
        type: 'queued',
        job_id: smallJid,
        job_class: 'SmallJob',
        queue,
        arguments: small,
        occurred_at: '2026-11-23T10:00:00Z',
      },
      { type: 'started', job_id: smallJid, occurred_at: '2026-11-23T10:00:01Z' },
      { type: 'succeeded', job_id: smallJid, occurred_at: '2026-11-23T10:00:03Z' },
    ]);
  });

  afterAll(async () => {
    await ctx?.close();
  });

  /** Checks the rows of the two jobs, which must be exactly `jids`. */
  const expectPreviews = (rows: Record<string, unknown>[], jids = [bigJid, smallJid]) => {
    const byJid = new Map(rows.map((r) => [r.job_id, r]));
    expect([...byJid.keys()].sort()).toEqual([...jids].sort());
    expect(byJid.get(bigJid)).toMatchObject({
      arguments: head(big, PREVIEW_CHARS),
      arguments_truncated: true,
      arguments_bytes: Buffer.byteLength(big),
      error_message: head(message, PREVIEW_CHARS),
      error_message_truncated: true,
      error_message_bytes: Buffer.byteLength(message),
    });
    if (!jids.includes(smallJid)) {
      return;
    }
    expect(byJid.get(smallJid)).toMatchObject({
      arguments: small,
      arguments_truncated: false,
      arguments_bytes: Buffer.byteLength(small),
      error_message: null,
      error_message_truncated: false,
      error_message_bytes: null,
    });
  };

  it('cuts arguments and error messages on character boundaries in GET /api/v1/jobs', async () => {
    const res = await request(ctx.http).get('/api/v1/jobs').query({ queue }).set(auth).expect(200);
    expectPreviews(res.body.jobs);
    const preview = res.body.jobs.find((j: { job_id: string }) => j.job_id === bigJid).arguments;
    // whole characters only: no broken UTF-8 sequence or lone surrogate
    expect(preview).toBe(head(big, PREVIEW_CHARS));
    expect(Buffer.from(preview, 'utf8').toString('utf8')).toBe(preview);
    expect(Buffer.byteLength(preview)).toBeLessThanOrEqual(4 * PREVIEW_CHARS);
    // the argument search still looks through the whole value, past the preview
    const found = await request(ctx.http)
      .get('/api/v1/jobs')
      .query({ arguments: 'é€🙂é€🙂"]' })
      .set(auth)
      .expect(200);
    expectPreviews(found.body.jobs, [bigJid]);
  });

  it('cuts them in JobManager lists and duration rows too', async () => {
    const all = await request(ctx.http)
      .get('/api/v1/job-manager/all-jobs')
      .query({ filter: queue })
      .set(auth)
      .expect(200);
    expectPreviews(all.body.jobs);
    const failed = await request(ctx.http)
      .get('/api/v1/job-manager/failed-jobs')
      .query({ filter: queue })
      .set(auth)
      .expect(200);
    expectPreviews(failed.body.jobs, [bigJid]);
    const durations = await request(ctx.http)
      .get('/api/v1/job-manager/completed-jobs-durations')
      .query({ filter: queue })
      .set(auth)
      .expect(200);
    expect(durations.body.durations).toEqual([
      expect.objectContaining({
        job_id: smallJid,
        arguments: small,
        arguments_truncated: false,
        arguments_bytes: Buffer.byteLength(small),
      }),
    ]);
  });

  it("gives the whole values on the job's own routes", async () => {
    const detail = await request(ctx.http).get(`/api/v1/jobs/${bigJid}`).set(auth).expect(200);
    expect(detail.body).toMatchObject({
      arguments: big,
      arguments_truncated: false,
      arguments_bytes: Buffer.byteLength(big),
      error_message: message,
      error_message_truncated: false,
      events_next_cursor: null,
    });
    expect(detail.body.events.map((e: { type: string }) => e.type)).toEqual([
      'queued',
      'started',
      'failed',
    ]);
    expect(detail.body.events[2].error_message).toBe(message);
    const found = await request(ctx.http)
      .get(`/api/v1/job-manager/jobs/${bigJid}`)
      .set(auth)
      .expect(200);
    expect(found.body.job.arguments).toBe(big);
  });

  it('pages a long timeline, in order, without losing or repeating an event', async () => {
    const jid = makeJid();
    const total = TIMELINE_PAGE + 3;
    // retries: one failed event per attempt, every one a distinct event
    const events = Array.from({ length: total }, (_, i) => ({
      type: 'failed',
      job_id: jid,
      queue,
      retry_count: i,
      will_retry: true,
      error_message: `attempt ${i}`,
      occurred_at: new Date(Date.UTC(2026, 10, 23, 10) + i * 1000).toISOString(),
    }));
    await post(events.slice(0, 1000));
    await post(events.slice(1000));
    const first = await request(ctx.http).get(`/api/v1/jobs/${jid}`).set(auth).expect(200);
    expect(first.body.event_count).toBe(total);
    expect(first.body.events).toHaveLength(TIMELINE_PAGE);
    expect(first.body.events_next_cursor).toEqual(expect.any(String));
    const second = await request(ctx.http)
      .get(`/api/v1/jobs/${jid}`)
      .query({ events_cursor: first.body.events_next_cursor })
      .set(auth)
      .expect(200);
    expect(second.body.events_next_cursor).toBeNull();
    const messages = [...first.body.events, ...second.body.events].map(
      (e: { error_message: string }) => e.error_message,
    );
    expect(messages).toEqual(events.map((e) => e.error_message));
    const bad = await request(ctx.http)
      .get(`/api/v1/jobs/${jid}`)
      .query({ events_cursor: 'nonsense!' })
      .set(auth)
      .expect(400);
    expect(bad.body.details.errors.map((e: { field: string }) => e.field)).toEqual([
      'events_cursor',
    ]);
  });
});
