import { FindingsService } from '../../../src/findings/findings.service.js';
import { makeJid } from '../../factories/job-event.factory.js';
import { testRedisUrl } from '../../support/app-with-sidekiq.js';
import { TestApp } from '../../support/test-context.js';

// Duplicate execution by class and arguments, for the classes declared unique: the history as
// the Ruby client reports it, on real Postgres.
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

const running = (jid: string, jobClass: string, args: string, startedAgo: number, pid: number) => [
  {
    type: 'queued',
    job_id: jid,
    job_class: jobClass,
    queue: 'default',
    arguments: args,
    occurred_at: ago(startedAgo + 1000),
  },
  { type: 'started', job_id: jid, occurred_at: ago(startedAgo), hostname: 'worker', pid },
];

describe('duplicate: same class and arguments running at once', () => {
  let ctx: TestApp;
  let sut: FindingsService;
  const [a, b, c, other, lone, free1, free2] = Array.from({ length: 7 }, () => makeJid());
  const open = async () =>
    (await sut.list({ state: 'open', detector: 'duplicate', offset: 0, limit: 100 })).rows;

  beforeAll(async () => {
    ctx = await TestApp.start({
      env: { REDIS_URL: testRedisUrl(11), DETECTOR_UNIQUE_CLASSES: 'SyncJob, ChargeJob' },
    });
    sut = ctx.get(FindingsService);
    await ctx.postEvents([
      ...running(a, 'SyncJob', '[42,"full"]', 60_000, 1),
      ...running(b, 'SyncJob', '[42,"full"]', 30_000, 2),
      // other arguments, or a class not declared unique: no finding
      ...running(other, 'SyncJob', '[43,"full"]', 30_000, 3),
      ...running(lone, 'ChargeJob', '[1]', 30_000, 4),
      ...running(free1, 'ReportJob', '[1]', 30_000, 5),
      ...running(free2, 'ReportJob', '[1]', 20_000, 6),
    ]);
  });
  afterAll(() => ctx.close());

  it('finds the two runs of the same arguments, side by side', async () => {
    await sut.evaluate(new Date());
    const rows = await open();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ jobClass: 'SyncJob', jid: b, severity: 'warning' });
    expect(rows[0]!.summary).toMatch(
      new RegExp(
        `^2 runs of SyncJob with the same arguments at once, .*: ${a} on worker:1 since .* and ${b} on worker:2 since .*$`,
      ),
    );
    expect(rows[0]!.evidence).toMatchObject({
      kind: 'same_arguments',
      arguments_preview: '[42,"full"]',
      running: 2,
      runs: [
        { jid: a, hostname: 'worker', pid: 1 },
        { jid: b, hostname: 'worker', pid: 2 },
      ],
    });
  });

  it('keeps one finding while a third joins, and ends it when the overlap is over', async () => {
    const [before] = await open();
    await ctx.postEvents(running(c, 'SyncJob', '[42,"full"]', 1000, 7));
    await sut.evaluate(new Date());
    const [during] = await open();
    expect(during!.id).toBe(before!.id);
    expect(during!.evidence).toMatchObject({ running: 3 });

    await ctx.postEvents(
      [a, b].map((jid) => ({ type: 'succeeded', job_id: jid, occurred_at: ago(0), pid: 1 })),
    );
    await sut.evaluate(new Date());
    expect(await open()).toEqual([]);
    const [ended] = (
      await sut.list({ state: 'recent', detector: 'duplicate', offset: 0, limit: 5 })
    ).rows;
    expect(ended!.id).toBe(before!.id);
  });
});
