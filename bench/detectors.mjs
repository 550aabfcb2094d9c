// npm run bench:detectors — one full evaluation of every detector over 1,000,000 stored jobs.
// Fills a fresh database by SQL (as bench:ingest's preload: job rows and their events in daily
// partitions) with a production-like state: 986,760 finished jobs over 10 days (20 classes), the last
// 2 minutes at 100 jobs/s (12,000 jobs, 20 of them started twice), 220 running jobs (10 for hours,
// 10 on a process that is gone), 500 jobs queued 20 minutes ago (half of them still in a queue of
// Sidekiq's Redis that has not moved, behind 1,000 older entries; half lost), a retry set of
// 2,000; 300 retrying jobs whose retry was due 30 minutes ago and that Sidekiq holds nowhere, and
// 2 running jobs of a class declared unique (DETECTOR_UNIQUE_CLASSES: every class) with the same
// arguments. Then times FindingsService.evaluate() (every detector, findings written, the gauge
// refreshed) and each detector alone, through the real services (Nest application context), p95
// over BENCH_RUNS runs. Then the dashboard's Metrics page for one class (ClassMetricsService.one:
// the query GET /api/v1/metrics/classes/:job_class runs) over each window, and the class list.
// Baseline: `select 1` through the same pool, same run.
// Knobs: BENCH_JOBS (1000000), BENCH_RUNS (30), BENCH_KEEP=1 keeps the database.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { dropDatabase, freshDatabase, sql, timeRuns, writeSection } from './lib.mjs';

const JOBS = Number(process.env.BENCH_JOBS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 30);
if (!process.env.DATABASE_URL || !process.env.REDIS_URL) {
  throw new Error('DATABASE_URL/REDIS_URL are not set: run through `npm run bench:detectors`');
}
const RECENT = 12_000;
const DUPLICATES = 20;
const RUNNING = 200;
const STUCK = 10;
const LOST = 10;
const QUEUED = 500;
const HISTORY = JOBS - RECENT - RUNNING - STUCK - LOST - QUEUED;
const DAYS = 10;

const adminUrl = process.env.DATABASE_URL;
const benchUrl = await freshDatabase('bench_detectors');
const redisUrl = new URL(process.env.REDIS_URL);
redisUrl.pathname = '/14';
process.env.DATABASE_URL = benchUrl;
process.env.REDIS_URL = redisUrl.toString();
process.env.PRIVATE_TOKEN ??= randomBytes(24).toString('hex');
process.env.LOG_LEVEL = 'error';
process.env.SCHEDULER_ENABLED = 'false';
// the timed runs take minutes: a floor of 30 minutes keeps the 200 jobs started seconds before
// them short of stuck throughout, and a 10-minute window keeps the last 2 minutes' jobs in it
process.env.DETECTOR_STUCK_FLOOR_S = '1800';
process.env.DETECTOR_DUPLICATE_WINDOW_S = '600';
// every evaluation reads every class's baseline (the service keeps them 5 minutes): the worst case
process.env.DETECTOR_STUCK_BASELINE_TTL_S = '0';
process.env.DETECTOR_UNIQUE_CLASSES = Array.from({ length: 20 }, (_, i) => `BenchJob${i}`).join();
const RETRYING = 300;

const now = Date.now();
let t = performance.now();
const pg = (text, params) => sql(benchUrl, text, params);
for (let d = DAYS; d >= 0; d--) {
  const day = new Date(now - d * 86_400_000).toISOString().slice(0, 10);
  await pg(`create table if not exists job_events_p${day.replaceAll('-', '')}
    partition of job_events for values from ('${day} 00:00:00+00')
    to ('${day} 00:00:00+00'::timestamptz + interval '1 day')`);
}

// jobs from the start time of job g (a function of g) with the given status, and their events:
// queued, then the run's end carrying its start (the Ruby client's compact row) when finished,
// or the started event when running
async function fill({ count, start, status, host = 'bench-host', pid = 4242, duplicate = false }) {
  await pg(
    `with j as (
       insert into jobs (instance, jid, job_class, queue, arguments, status, attempt, created_at,
         enqueued_at, started_at, completed_at, hostname, pid, tid, duration_ms, event_count,
         first_event_at, last_event_at, identity_at, first_received_at, updated_at)
       select 'default', substr(md5(random()::text || g), 1, 24), 'BenchJob' || (g % 20), 'default',
         '[' || g || ',"bench"]', $3, 0, t, t,
         case when $3 <> 'queued' then t + interval '5 ms' end,
         case when $3 = 'succeeded' then t + interval '5 ms' + r end,
         case when $3 <> 'queued' then $4 end, case when $3 <> 'queued' then $5::int end,
         case when $3 <> 'queued' then 'tid-bench' end,
         case when $3 = 'succeeded' then extract(epoch from r) * 1000 end,
         case when $3 = 'succeeded' then 3 when $3 = 'running' then 2 else 1 end
           + case when $6 then 1 else 0 end,
         t, t + interval '5 ms' + case when $3 = 'succeeded' then r else interval '0' end, t, t,
         t + interval '5 ms' + r + interval '100 ms'
       from generate_series(1, $1::int) g,
         lateral (select to_timestamp($2::float8) + $7::interval * g as t,
           ((g::bigint * 7919) % 2000 + 1) * interval '1 millisecond' as r) x
       returning id, status, first_event_at as t, duration_ms, completed_at, started_at)
     insert into job_events (job_id, type, occurred_at, received_at, enqueued_at, created_at,
       attempt, client_time, hostname, pid, tid, duration_ms, started_at)
     select id, v.type, v.at, v.at + interval '50 ms', t, case when v.type = 'queued' then t end,
       0, true, v.host, v.pid, v.tid, v.dur, v.started
     from j, lateral (values
       ('queued', t, 'web-1', null::int, null::text, null::float8, null::timestamptz),
       (case when status = 'succeeded' then 'succeeded' when status = 'running' then 'started' end,
         coalesce(completed_at, started_at), $4, $5::int, 'tid-bench', duration_ms,
         case when status = 'succeeded' then started_at end),
       (case when $6 then 'started' end, started_at + interval '1 ms', 'other-host', 99, 'tid-x',
         null, null)
     ) v(type, at, host, pid, tid, dur, started)
     where v.type is not null`,
    [count, start.seconds, status, host, pid, duplicate, start.step],
  );
}
const sec = (ms) => ms / 1000;
// the history: evenly over the 10 days before the last 2 minutes
await fill({
  count: HISTORY,
  start: {
    seconds: sec(now - DAYS * 86_400_000),
    step: `${(DAYS * 86_400_000 - 120_000) / HISTORY} milliseconds`,
  },
  status: 'succeeded',
});
await pg('vacuum (analyze) jobs');
await pg('vacuum (analyze) job_events');
// the present, after the history's fill and vacuum (minutes): the recent jobs as of now
const current = Date.now();
// the last 2 minutes at 100 jobs/s, 20 of them started twice
await fill({
  count: RECENT - DUPLICATES,
  start: { seconds: sec(current - 120_000), step: '10 milliseconds' },
  status: 'succeeded',
});
await fill({
  count: DUPLICATES,
  start: { seconds: sec(current - 60_000), step: '1 second' },
  status: 'succeeded',
  duplicate: true,
});
await fill({
  count: RUNNING,
  start: { seconds: sec(current - 5_000), step: '1 millisecond' },
  status: 'running',
});
await fill({
  count: STUCK,
  start: { seconds: sec(current - 3 * 3600_000), step: '1 second' },
  status: 'running',
});
await fill({
  count: LOST,
  start: { seconds: sec(current - 30_000), step: '1 second' },
  status: 'running',
  host: 'gone-host',
  pid: 7,
});
await fill({
  count: QUEUED,
  start: { seconds: sec(current - 20 * 60_000), step: '1 millisecond' },
  status: 'queued',
});
// retries due long ago: the newest history jobs of one class failed 30 minutes ago (retry_count 1)
await pg(
  `update jobs set status = 'retrying', attempt = 1, completed_at = null,
     failed_at = now() - interval '30 minutes', error_class = 'Timeout'
   where id in (select id from jobs where status = 'succeeded' and job_class = 'BenchJob3'
     order by id desc limit $1)`,
  [RETRYING],
);
// the stuck and lost jobs' fills numbered their arguments from 1 as the running ones' did: made
// unique, so that only the two below share theirs
await pg(
  `update jobs set arguments = '[' || id || ',"bench"]'
   where status = 'running' and (hostname = 'gone-host' or started_at < now() - interval '1 hour')`,
);
// two running jobs of the same class with the same arguments
await pg(
  `update jobs set arguments = '[1,"same"]', job_class = 'BenchJob1'
   where id in (select id from jobs where status = 'running' and hostname = 'bench-host'
     order by id desc limit 2)`,
);
// as autovacuum would have by now (jobs has a 2% scale factor): the recent fills and updates
// leave pages not all-visible, and the Metrics page's index-only scans fetch those from the heap
// (one run without this measured the 7-day class page at p95 168 ms and the class list at 2.7 s)
await pg('vacuum (analyze) jobs');
const plan = async (text, params) =>
  (await pg(`explain (analyze, buffers, costs off) ${text}`, params))
    .map((r) => r['QUERY PLAN'])
    .join('\n');
const uniqueClasses = JSON.stringify(process.env.DETECTOR_UNIQUE_CLASSES.split(','));
const concurrentPlan = await plan(
  `select instance, job_class, args_digest, jid from (
     select instance, job_class, md5(coalesce(arguments, '')) as args_digest, jid, started_at, id,
       count(*) over (partition by instance, job_class, md5(coalesce(arguments, ''))) as runs
     from jobs where status = 'running' and restarted_as is null
       and job_class = any(array(select jsonb_array_elements_text($1::jsonb)))) r
   where runs > 1 order by instance, job_class, args_digest, started_at nulls first, id limit 2000`,
  [uniqueClasses],
);
const retriesPlan = await plan(
  `select jid from (
     select jid, id, coalesce(failed_at, last_event_at)
       + make_interval(secs => power(attempt, 4) + 15 + 9 * (attempt + 1)) as since
     from jobs where status = 'retrying' and restarted_as is null) w
   where since < now() - interval '10 minutes' order by since, id limit 500`,
);
const [{ count: stored }] = await pg('select count(*)::int as count from jobs');
if (stored !== JOBS) {
  throw new Error(`stored ${stored} jobs, expected ${JOBS}`);
}

// Sidekiq's Redis: the live process, a queue that has not moved for 25 minutes holding half of
// the queued jobs behind 1,000 older entries, and a retry set of 2,000
const redis = new Redis(redisUrl.toString());
await redis.flushdb();
const identity = 'bench-host:4242:abc';
await redis.sadd('processes', identity);
await redis.hset(
  identity,
  'info',
  JSON.stringify({
    hostname: 'bench-host',
    pid: 4242,
    identity,
    queues: ['default'],
    concurrency: 25,
  }),
  'busy',
  '0',
  'beat',
  String(current / 1000),
  'quiet',
  'false',
);
await redis.expire(identity, 3600);
const payload = (jid, enqueuedMs) =>
  `{"retry":true,"queue":"default","class":"BenchJob1","args":[1,"bench"],"jid":"${jid}","created_at":${enqueuedMs / 1000},"enqueued_at":${enqueuedMs / 1000}}`;
const queued = await pg(
  `select jid, extract(epoch from enqueued_at) * 1000 as ms from jobs where status = 'queued' order by id`,
);
const older = Array.from({ length: 1000 }, (_, i) =>
  payload(randomBytes(12).toString('hex'), current - 25 * 60_000 + i),
);
const held = queued.slice(0, QUEUED / 2).map((q) => payload(q.jid, Number(q.ms)));
// LPUSH: the oldest entry at the tail (index -1), as Sidekiq's pushes leave it
await redis.sadd('queues', 'default');
await redis.lpush('queue:default', ...older, ...held);
const retry = Array.from({ length: 2000 }, (_, i) => [
  String(current / 1000 + 600 + i),
  payload(randomBytes(12).toString('hex'), current - 3600_000),
]).flat();
await redis.zadd('retry', ...retry);
const fillSeconds = (performance.now() - t) / 1000;

const { NestFactory } = await import('@nestjs/core');
const { Module } = await import('@nestjs/common');
const { ConfigModule } = await import('../dist/src/config/config.module.js');
const { ClockModule } = await import('../dist/src/common/clock.js');
const { AuditModule } = await import('../dist/src/audit/audit.module.js');
const { DatabaseModule } = await import('../dist/src/database/database.module.js');
const { RedisModule } = await import('../dist/src/redis/redis.module.js');
const { FindingsModule } = await import('../dist/src/findings/findings.module.js');
const { FindingsService } = await import('../dist/src/findings/findings.service.js');
const { StuckDetector } = await import('../dist/src/findings/detectors/stuck.detector.js');
const { NeverStartedDetector } =
  await import('../dist/src/findings/detectors/never-started.detector.js');
const { DuplicateDetector } = await import('../dist/src/findings/detectors/duplicate.detector.js');
const { JobsModule } = await import('../dist/src/jobs/jobs.module.js');
const { ClassMetricsService } = await import('../dist/src/metrics/class-metrics.service.js');
const { MikroORM } = await import('@mikro-orm/postgresql');
class BenchModule {}
Module({
  imports: [
    ConfigModule,
    ClockModule,
    DatabaseModule,
    AuditModule,
    RedisModule,
    FindingsModule,
    JobsModule,
  ],
  providers: [ClassMetricsService],
})(BenchModule);
const app = await NestFactory.createApplicationContext(BenchModule, { logger: ['error'] });
const findings = app.get(FindingsService);
const orm = app.get(MikroORM);

const time = (fn) => timeRuns(fn, RUNS);
const baseline = await time(() => orm.em.fork().execute('select 1'));
const first = await findings.evaluate(new Date());
const open = (await findings.list({ state: 'open', offset: 0, limit: 100 })).rows;
const counts = {};
for (const detector of ['stuck', 'never_started', 'duplicate']) {
  counts[detector] = (
    await findings.list({ state: 'open', detector, offset: 0, limit: 100 })
  ).rows.length;
}
const expected = { stuck: STUCK + LOST, never_started: QUEUED, duplicate: DUPLICATES + 1 };
for (const [detector, n] of Object.entries(expected)) {
  if (detector !== 'never_started' && counts[detector] !== n) {
    throw new Error(
      `${detector}: ${counts[detector]} open findings, expected ${n} (${JSON.stringify(first)})`,
    );
  }
}
const rows = [
  {
    label: 'every detector (FindingsService.evaluate: detect, write findings, gauge)',
    ...(await time(() => findings.evaluate(new Date()))),
  },
];
for (const [label, type] of [
  ['stuck alone', StuckDetector],
  ['never_started alone', NeverStartedDetector],
  ['duplicate alone', DuplicateDetector],
]) {
  const detector = app.get(type);
  const openOf = open.filter((f) => f.detector === detector.name);
  rows.push({ label, ...(await time(() => detector.evaluate(new Date(), openOf))) });
}
// the Metrics page of one class (BenchJob7: 1/20 of the history, ~34,500 jobs in 7 days)
const classMetrics = app.get(ClassMetricsService);
const METRICS_CLASS = 'BenchJob7';
const metricsRows = [];
for (const window of ['1h', '24h', '7d']) {
  const one = await classMetrics.one(METRICS_CLASS, window, undefined);
  metricsRows.push({
    label: `${METRICS_CLASS}, window ${window} (${one.processed.toLocaleString('en-US')} jobs)`,
    ...(await time(() => classMetrics.one(METRICS_CLASS, window, undefined))),
  });
}
for (const window of ['1h', '7d']) {
  const list = await classMetrics.list(window, undefined, 200);
  const jobsIn = list.classes.reduce((n, c) => n + c.processed, 0);
  metricsRows.push({
    label: `class list, window ${window} (${list.classes.length} classes, ${jobsIn.toLocaleString('en-US')} jobs)`,
    ...(await time(() => classMetrics.list(window, undefined, 200))),
  });
}
const [{ n: neverStarted }] = await pg(
  `select count(*)::int as n from findings where detector = 'never_started' and ended_at is null`,
);
const [{ n: lostInQueue }] = await pg(
  `select count(*)::int as n from findings where detector = 'never_started' and ended_at is null and evidence->>'held' = 'nowhere' and evidence->>'status' = 'queued'`,
);
const [{ n: lostRetries }] = await pg(
  `select count(*)::int as n from findings where detector = 'never_started' and ended_at is null and evidence->>'held' = 'nowhere' and evidence->>'status' = 'retrying'`,
);
await app.close();
redis.disconnect();
process.env.DATABASE_URL = adminUrl;
if (!process.env.BENCH_KEEP) {
  await dropDatabase('bench_detectors');
}

const f = (n) => n.toFixed(1);
console.log(
  JSON.stringify(
    {
      jobs: JOBS,
      fillSeconds,
      baseline,
      rows,
      metricsRows,
      first,
      neverStarted,
      lostInQueue,
      lostRetries,
    },
    null,
    2,
  ),
);
const section = `## Detectors (\`npm run bench:detectors\`)

Run ${new Date().toISOString()}: ${JOBS.toLocaleString('en-US')} jobs stored (filled by SQL in ${fillSeconds.toFixed(0)} s):
${HISTORY.toLocaleString('en-US')} finished over ${DAYS} days (20 classes), the last 2 minutes at 100 jobs/s
(${RECENT.toLocaleString('en-US')} jobs, ${DUPLICATES} started twice), ${RUNNING} running, ${STUCK} running for hours,
${LOST} on a process that is gone, ${QUEUED} queued 20 minutes ago (${QUEUED / 2} still in a queue of Sidekiq's Redis
that has not moved for 25 minutes, behind 1,000 older entries; ${QUEUED / 2} lost); a retry set of 2,000; ${RETRYING} retrying
jobs due 30 minutes ago that Sidekiq holds nowhere; 2 running jobs of one class with the same arguments, every class
declared unique (\`DETECTOR_UNIQUE_CLASSES\`). Findings
open after an evaluation: stuck ${counts.stuck}, never_started ${neverStarted} (${lostInQueue} lost between push and
fetch, ${lostRetries} retries lost after the retry set; at most 500 due retries a run), duplicate ${counts.duplicate} (\`DETECTOR_STUCK_FLOOR_S=1800\`, \`DETECTOR_DUPLICATE_WINDOW_S=600\`: the
running jobs stay short of stuck and the last minutes' jobs in the window while the runs go on). ${RUNS} timed runs after one warm-up, in-process against the local Postgres and
Redis. Baseline: \`select 1\` through the same pool: p50 ${baseline.p50.toFixed(2)} ms, p95 ${baseline.p95.toFixed(2)} ms.

| evaluation | p50 ms | p95 ms | max ms |
| --- | ---: | ---: | ---: |
${rows.map((r) => `| ${r.label} | ${f(r.p50)} | ${f(r.p95)} | ${f(r.max)} |`).join('\n')}

**One full evaluation of every detector over ${JOBS.toLocaleString('en-US')} jobs: p95 ${f(rows[0].p95)} ms** (target: under 1 s).

The dashboard's Metrics page, same run and baseline: one class's window (\`ClassMetricsService.one\`, the
query behind \`GET /api/v1/metrics/classes/:job_class\`: counts, run and wait p50/p95/p99/max, the
buckets and the histogram), and the class list (\`GET /api/v1/metrics/classes\`) for comparison.

| Metrics page query | p50 ms | p95 ms | max ms |
| --- | ---: | ---: | ---: |
${metricsRows.map((r) => `| ${r.label} | ${f(r.p50)} | ${f(r.p95)} | ${f(r.max)} |`).join('\n')}

**One class's Metrics page over 7 days at ${JOBS.toLocaleString('en-US')} jobs: p95 ${f(metricsRows[2].p95)} ms** (target: under 100 ms).

The duplicate detector's same-arguments read (the running jobs of the unique classes), on this
database (\`explain (analyze, buffers)\`):

\`\`\`
${concurrentPlan}
\`\`\`

The never_started detector's due retries:

\`\`\`
${retriesPlan}
\`\`\``;
writeSection('detectors', section);
