import { PREVIEW_CHARS } from '../../../src/common/preview.js';
import { JobManagerService, type LostJob } from '../../../src/job-manager/job-manager.service.js';
import { makeJid, makeStartedJobEvents } from '../../factories/job-event.factory.js';
import { startWithSidekiq, stopWithSidekiq } from '../../support/app-with-sidekiq.js';
import type { SidekiqWriter } from '../../support/sidekiq-writer.js';
import type { TestApp } from '../../support/test-context.js';

// lost_jobs answers one page from SQL; these tests hold it to what the old walk over every
// running job answered (reimplemented below), on a fixture of live and dead Sidekiq processes.
const REDIS_DB = 6;
const LIVE = [
  { identity: 'host-a:1:aaa', hostname: 'host-a', pid: 1 },
  { identity: 'host-a:2:bbb', hostname: 'host-a', pid: 2 },
  { identity: 'host-b:1:ccc', hostname: 'host-b', pid: 1 },
];
// gone: no heartbeat. Same hostnames and pids as live ones, paired differently.
const DEAD = [
  { hostname: 'host-a', pid: 3 },
  { hostname: 'host-b', pid: 2 },
  { hostname: 'host-c', pid: 1 },
];

interface Row {
  id: string;
  jid: string;
  status: string;
  hostname: string | null;
  pid: number | null;
  restarted_as: string | null;
  arguments: string;
}

/** The answer of the old JobManager.lostJobs: walk running jobs newest first, keep the lost. */
function oldLostPage(
  rows: Row[],
  working: Set<string>,
  filter: string | undefined,
  offset: number,
  limit: number,
) {
  const live = new Set(LIVE.map((p) => `${p.hostname}\u0000${p.pid}`));
  const lost = rows
    .filter((r) => r.status === 'running' && (!filter || r.arguments.includes(filter)))
    .sort((a, b) => Number(BigInt(b.id) - BigInt(a.id)))
    .filter(
      (r) =>
        !working.has(r.jid) &&
        !r.restarted_as &&
        r.hostname !== null &&
        r.pid !== null &&
        !live.has(`${r.hostname}\u0000${r.pid}`),
    );
  return {
    jobs: lost.slice(offset, offset + limit).map((r) => ({
      job_id: r.jid,
      reason: `its process ${r.hostname}:${r.pid} has no heartbeat and is not in Sidekiq's processes`,
    })),
    next_offset: lost.length > offset + limit ? offset + limit : null,
  };
}

describe('JobManager lost jobs: one SQL page, the old answers', () => {
  let ctx: TestApp;
  let writer: SidekiqWriter;
  let sut: JobManagerService;
  let rows: Row[];
  const working = new Set<string>();
  const marker = `lost-${makeJid().slice(0, 8)}`;

  beforeAll(async () => {
    ({ ctx, writer } = await startWithSidekiq(REDIS_DB));
    sut = ctx.get(JobManagerService);

    // 90 jobs: every process (live, dead, none), statuses, restarted or not, two instances
    const places = [
      ...LIVE,
      ...DEAD,
      { hostname: null, pid: null },
      { hostname: 'host-d', pid: null },
    ];
    const statuses = ['running', 'running', 'running', 'queued', 'succeeded'];
    const values: unknown[] = [];
    const tuples: string[] = [];
    for (let i = 0; i < 90; i++) {
      const place = places[i % places.length];
      const p = values.length;
      tuples.push(
        `($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5}, $${p + 6}, $${p + 7}, 0, 1, now(), now())`,
      );
      values.push(
        i % 11 === 0 ? 'other' : 'default',
        makeJid(),
        statuses[i % statuses.length],
        place.hostname,
        place.pid,
        i % 13 === 0 ? makeJid() : null,
        JSON.stringify([marker, i % 2 === 0 ? 'even' : 'odd', i]),
      );
    }
    await ctx.db.sql.query(
      `insert into jobs (instance, jid, status, hostname, pid, restarted_as, arguments, attempt,
         event_count, first_event_at, last_event_at) values ${tuples.join(', ')}`,
      values,
    );
    rows = (
      await ctx.db.sql.query<Row>(
        `select id::text as id, jid, status, hostname, pid, restarted_as, arguments from jobs
         where arguments like $1`,
        [`%${marker}%`],
      )
    ).rows;

    // live workers run two of the jobs recorded on dead processes (the record lags behind)
    const onDead = rows.filter((r) => r.status === 'running' && r.hostname === 'host-c');
    const busy = onDead.slice(0, 2).map((r) => r.jid);
    busy.forEach((jid) => working.add(jid));
    for (const [i, p] of LIVE.entries()) {
      const work =
        i === 0
          ? Object.fromEntries(
              busy.map((jid, n) => [
                `tid${n}`,
                {
                  queue: 'default',
                  payload: writer.payload({
                    jid,
                    class: 'LostJob',
                    queue: 'default',
                    retry: true,
                    argsJson: '[]',
                    extra: {},
                    createdAtMs: Date.now(),
                  }),
                  runAt: Date.now() / 1000,
                },
              ]),
            )
          : {};
      await writer.heartbeat({ ...p, startedAt: Date.now() / 1000 - 60, work });
    }
  });

  afterAll(() => stopWithSidekiq(ctx, writer));

  it('answers every page exactly as the old walk did', async () => {
    const expected = oldLostPage(rows, working, marker, 0, 1000);
    // the fixture exercises every rule: some lost, some not for each reason
    expect(expected.jobs.length).toBeGreaterThan(10);
    const onDeadProcess = (r: Row) =>
      DEAD.some((p) => p.hostname === r.hostname && p.pid === r.pid);
    expect(rows.some((r) => r.status === 'running' && r.restarted_as && onDeadProcess(r))).toBe(
      true,
    );
    expect([...working].length).toBe(2);
    for (const filter of [marker, `"${marker}","even"`]) {
      for (const offset of [0, 1, 4, 9, 17, 40]) {
        for (const limit of [1, 2, 5, 50]) {
          const page = await sut.lostJobs(filter, { offset, limit });
          const old = oldLostPage(rows, working, filter, offset, limit);
          expect({
            jobs: (page.jobs as LostJob[]).map((j) => ({ job_id: j.job_id, reason: j.reason })),
            next_offset: page.next_offset,
          }).toEqual(old);
        }
      }
    }
  });

  it('leaves out jobs a live worker runs, restarted ones and jobs with no known process', async () => {
    const lost = new Set((await sut.lostJobs(marker, { limit: 1000 })).jobs.map((j) => j.job_id));
    for (const jid of working) {
      expect(lost).not.toContain(jid);
    }
    for (const r of rows.filter((r) => r.status === 'running')) {
      if (r.restarted_as || r.hostname === null || r.pid === null) {
        expect(lost).not.toContain(r.jid);
      }
      if (LIVE.some((p) => p.hostname === r.hostname && p.pid === r.pid)) {
        expect(lost).not.toContain(r.jid);
      }
    }
  });

  it('restarts a lost job with its whole arguments while the report shows a preview', async () => {
    const big = JSON.stringify([`${marker}-big`, 'é'.repeat(3000), '🙂'.repeat(3000)]);
    const jid = makeJid();
    const tenMinutesAgo = new Date(Date.now() - 600_000).toISOString();
    await ctx.postEvents(
      makeStartedJobEvents({
        jid,
        jobClass: 'BigJob',
        queue: 'big',
        arguments: big,
        queuedAt: tenMinutesAgo,
        worker: { hostname: 'host-c', pid: 1 },
      }),
    );
    const lost = await sut.lostJobs(`${marker}-big`);
    expect(lost.jobs.map((j) => j.job_id)).toEqual([jid]);
    expect(lost.jobs[0]).toMatchObject({
      arguments: [...big].slice(0, PREVIEW_CHARS).join(''),
      arguments_truncated: true,
      arguments_bytes: Buffer.byteLength(big),
    });

    const report = await sut.restartUncompletedJobs(`${marker}-big`);
    expect(report.restarted).toBe(1);
    expect(report.items[0]).toMatchObject({
      job_id: jid,
      arguments: [...big].slice(0, PREVIEW_CHARS).join(''),
      arguments_truncated: true,
    });
    const [raw] = await writer.redis.lrange('queue:big', 0, -1);
    expect(raw).toContain(`"args":${big}`);
  });
});
