import { FindingsService, type FindingRow } from '../../../src/findings/findings.service.js';
import { makeJid } from '../../factories/job-event.factory.js';
import { startWithSidekiq, stopWithSidekiq } from '../../support/app-with-sidekiq.js';
import type { SidekiqWriter } from '../../support/sidekiq-writer.js';
import type { TestApp } from '../../support/test-context.js';

// Never started, for jobs due from Sidekiq's retry set: the history as the Ruby client reports a
// failure that Sidekiq will retry, the retry set and queues written as Sidekiq writes them.
const REDIS_DB = 10;
const MIN = 60_000;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

/** queued, started, failed and retrying (retry_count 0: the first retry is scheduled) */
const failedOnce = (jid: string, failedAgo: number, queue = 'default') => [
  {
    type: 'queued',
    job_id: jid,
    job_class: 'SyncJob',
    queue,
    arguments: '[7]',
    occurred_at: ago(failedAgo + 2000),
  },
  { type: 'started', job_id: jid, occurred_at: ago(failedAgo + 1000), hostname: 'h', pid: 1 },
  {
    type: 'failed',
    job_id: jid,
    occurred_at: ago(failedAgo),
    error_class: 'Timeout',
    error_message: 'took too long',
    will_retry: true,
    hostname: 'h',
    pid: 1,
  },
  {
    type: 'retrying',
    job_id: jid,
    occurred_at: ago(failedAgo),
    retry_count: 0,
    error_class: 'Timeout',
    error_message: 'took too long',
  },
];

describe('never started: retries due from the retry set', () => {
  let ctx: TestApp;
  let writer: SidekiqWriter;
  let sut: FindingsService;
  const lost = makeJid();
  const stalledSet = makeJid();
  const later = makeJid();
  const young = makeJid();
  const requeued = makeJid();

  const open = async () =>
    (await sut.list({ state: 'open', detector: 'never_started', offset: 0, limit: 100 })).rows;
  const of = (rows: FindingRow[], jid: string) => rows.find((r) => r.jid === jid);

  beforeAll(async () => {
    ({ ctx, writer } = await startWithSidekiq(REDIS_DB));
    sut = ctx.get(FindingsService);
    await ctx.postEvents([
      ...failedOnce(lost, 30 * MIN),
      ...failedOnce(stalledSet, 30 * MIN),
      ...failedOnce(later, 30 * MIN),
      ...failedOnce(young, 10_000),
      ...failedOnce(requeued, 30 * MIN, 'stalled'),
      // the retry poller moved it to its queue 20 minutes ago (its client middleware reports that)
      {
        type: 'queued',
        job_id: requeued,
        job_class: 'SyncJob',
        queue: 'stalled',
        arguments: '[7]',
        retry_count: 0,
        occurred_at: ago(20 * MIN),
      },
    ]);
    const now = Date.now() / 1000;
    // due 14 minutes ago and still there: nothing polls the retry set
    await writer.retry({ jid: stalledSet, class: 'SyncJob' }, now - 14 * 60);
    // a class with its own sidekiq_retry_in: due in an hour
    await writer.retry({ jid: later, class: 'SyncJob' }, now + 3600);
    await writer.retry({ jid: young, class: 'SyncJob' }, now + 5);
    await writer.push(
      { jid: makeJid(), queue: 'stalled', class: 'SyncJob' },
      Date.now() - 22 * MIN,
    );
    await writer.push({ jid: requeued, queue: 'stalled', class: 'SyncJob' }, Date.now() - 20 * MIN);
  });

  afterAll(() => stopWithSidekiq(ctx, writer));

  it('says which: lost after the retry set, still in the retry set, or in a queue that does not move', async () => {
    await sut.evaluate(new Date());
    const rows = await open();
    expect(rows.map((r) => r.jid).sort()).toEqual([lost, requeued, stalledSet].sort());

    expect(of(rows, lost)).toMatchObject({ severity: 'critical' });
    expect(of(rows, lost)!.summary).toMatch(
      /^retry 1 \(after the failure at .+\) due from the retry set by .+, 2\dm \d\ds ago, and not started; Sidekiq holds it in no queue, set or worker: it left the retry set but reached no queue: lost between Sidekiq's retry poller and its queue$/,
    );
    expect(of(rows, lost)!.evidence).toMatchObject({
      status: 'retrying',
      due_from: 'retry',
      held: 'nowhere',
      unread: [],
    });

    expect(of(rows, stalledSet)).toMatchObject({ severity: 'warning' });
    expect(of(rows, stalledSet)!.summary).toMatch(
      /due from the retry set 1[34]m \d\ds ago and not started; still in Sidekiq's retry set 1[34]m \d\ds after its time/,
    );
    expect(of(rows, stalledSet)!.evidence).toMatchObject({ held: 'retry', due_from: 'retry' });

    expect(of(rows, requeued)!.summary).toMatch(
      /^retry 1 queued from the retry set 20m \d\ds ago and not started; still in queue stalled, which has not moved for 2[12]m \d\ds \(2 jobs waiting\)$/,
    );
    expect(of(rows, requeued)!.evidence).toMatchObject({ held: 'queue', confirmed: true });
  });

  it('ends the finding once the retry runs', async () => {
    await ctx.postEvents([
      { type: 'started', job_id: lost, occurred_at: ago(0), retry_count: 0, hostname: 'h', pid: 1 },
    ]);
    await sut.evaluate(new Date());
    expect((await open()).map((r) => r.jid)).not.toContain(lost);
  });
});
