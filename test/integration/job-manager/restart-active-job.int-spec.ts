import { JobManagerService } from '../../../src/job-manager/job-manager.service.js';
import { makeJid, makeStartedJobEvents } from '../../factories/job-event.factory.js';
import { startWithSidekiq, stopWithSidekiq } from '../../support/app-with-sidekiq.js';
import type { SidekiqWriter } from '../../support/sidekiq-writer.js';
import type { TestApp } from '../../support/test-context.js';

// A lost Active Job is restarted as Sidekiq held it: the adapter's wrapper class with the wrapper's
// arguments exactly as reported (Sidekiq cannot run `InvoiceJob` itself), while the history shows
// the new job under the real class with the same Active Job job_id. Integration files run one at a
// time: this one shares restart.int-spec's Redis DB.
const REDIS_DB = 3;
const WRAPPER = 'ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper';

describe('JobManager restart of an Active Job', () => {
  let ctx: TestApp;
  let writer: SidekiqWriter;
  let sut: JobManagerService;
  const marker = `aj-restart-${makeJid().slice(0, 8)}`;
  const activeJobId = '0f8c56a4-6cb8-4d3c-9e3e-5f1f3c7a2b11';
  const rawArgs =
    `[{"job_class":"InvoiceJob","job_id":"${activeJobId}","provider_job_id":null,` +
    `"queue_name":"default","priority":null,"arguments":["${marker}",{"_aj_globalid":"gid://shop/User/7"},3.0],` +
    `"executions":0,"exception_executions":{},"locale":"en","timezone":null,"enqueued_at":"2026-11-23T10:00:00Z"}]`;

  beforeAll(async () => {
    ({ ctx, writer } = await startWithSidekiq(REDIS_DB));
    sut = ctx.get(JobManagerService);
  });

  afterAll(() => stopWithSidekiq(ctx, writer));

  it('pushes the wrapper with the raw arguments; the new job shows the real class', async () => {
    const jid = makeJid();
    const tenMinutesAgo = new Date(Date.now() - 600_000).toISOString();
    await ctx.postEvents(
      makeStartedJobEvents({
        jid,
        jobClass: WRAPPER,
        queue: 'default',
        arguments: rawArgs,
        queuedAt: tenMinutesAgo,
        // a process that is gone (no heartbeat)
        worker: { hostname: 'web-9', pid: 9 },
      }),
    );
    const lost = await sut.find(jid);
    expect(lost.job).toMatchObject({
      job_class: 'InvoiceJob',
      arguments: `["${marker}","gid://shop/User/7",3.0]`,
      wrapper_class: WRAPPER,
    });

    const result = await sut.restartUncompletedJobs(marker);
    expect(result.items).toMatchObject([{ job_id: jid, job_class: 'InvoiceJob' }]);
    const [newJid] = result.restarted_jids;
    const raw = (await writer.redis.lrange('queue:default', 0, -1)).find((r) =>
      r.includes(newJid),
    )!;
    expect(raw).toContain(`"class":"${WRAPPER}","args":${rawArgs},`);

    const created = await sut.find(newJid);
    expect(created.job).toMatchObject({
      status: 'queued',
      restarted_from: jid,
      job_class: 'InvoiceJob',
      arguments: `["${marker}","gid://shop/User/7",3.0]`,
      wrapper_class: WRAPPER,
      active_job_id: activeJobId,
      raw_arguments: rawArgs,
    });
    // Active Job's id now names both; it finds the newest
    expect((await sut.find(activeJobId)).job.job_id).toBe(newJid);
  });
});
