// npm run bench:metrics — per-class percentiles (GET /api/v1/metrics/jobs) over 1,000,000 jobs.
// Fills a fresh database with 1M finished jobs (50 classes, 2 queues, 90% succeeded, 7% failed,
// 3% dead, waits and run times spread over 0-60 s), then times JobMetricsService.window(): the
// whole window (every job, all classes), one class, and a one-hour window, through the real
// service (Nest application context). Baseline: `select 1` through the same pool, same run.
// Knobs: BENCH_JOBS (1000000), BENCH_RUNS (20), BENCH_KEEP=1 keeps the database for EXPLAIN.
import { randomBytes } from 'node:crypto';
import { dropDatabase, freshDatabase, sql, timeRuns, writeSection } from './lib.mjs';

const JOBS = Number(process.env.BENCH_JOBS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
if (!process.env.DATABASE_URL) {
  throw new Error('DATABASE_URL is not set: run through `npm run bench:metrics`');
}

const adminUrl = process.env.DATABASE_URL;
const benchUrl = await freshDatabase('bench_metrics');
process.env.DATABASE_URL = benchUrl;
process.env.PRIVATE_TOKEN ??= randomBytes(24).toString('hex');
process.env.LOG_LEVEL = 'error';

let t = performance.now();
await sql(
  benchUrl,
  `insert into jobs (instance, jid, job_class, queue, status, attempt, created_at, enqueued_at,
     started_at, completed_at, failed_at, duration_ms, event_count, first_event_at, last_event_at)
   select 'default', md5(g::text), 'Job' || (g % 50), case when g % 7 = 0 then 'critical' else 'default' end,
     s.status, 0, ts, ts, ts + w, case when s.status = 'succeeded' then ts + w + r end,
     case when s.status <> 'succeeded' then ts + w + r end,
     case when g % 2 = 0 then extract(epoch from r) * 1000 end, 3, ts, ts + w + r
   from generate_series(1, $1::int) g,
     lateral (select timestamptz '2026-11-01' + g * interval '1 second' as ts,
       ((g::bigint * 7919) % 60000) * interval '1 millisecond' as w,
       ((g::bigint * 104729) % 30000) * interval '2 millisecond' as r) t,
     lateral (select case when g % 100 < 90 then 'succeeded' when g % 100 < 97 then 'failed'
       else 'dead' end as status) s`,
  [JOBS],
);
// a settled table, as autovacuum leaves finished jobs: visibility map set, statistics current
await sql(benchUrl, 'vacuum (freeze, analyze) jobs');
const fillSeconds = (performance.now() - t) / 1000;

const { NestFactory } = await import('@nestjs/core');
const { ReplModule } = await import('../dist/src/repl.module.js');
const { JobMetricsService } = await import('../dist/src/jobs/job-metrics.service.js');
const { MikroORM } = await import('@mikro-orm/postgresql');
const app = await NestFactory.createApplicationContext(ReplModule, { logger: false });
const metrics = app.get(JobMetricsService);
const orm = app.get(MikroORM);

const time = (fn) => timeRuns(fn, RUNS);

const from = new Date('2026-10-31T00:00:00Z');
const to = new Date('2027-01-01T00:00:00Z');
const baseline = await time(() => orm.em.fork().execute('select 1'));
const all = await metrics.window({ from, to });
const counted = all.reduce((n, r) => n + r.count, 0);
if (counted !== JOBS) {
  throw new Error(`window counted ${counted} jobs, expected ${JOBS}`);
}
const cases = [
  ['all classes, whole window', { from, to }],
  ['one class (Job7), whole window', { from, to, jobClass: 'Job7' }],
  [
    'all classes, one hour',
    { from: new Date('2026-11-01T06:00:00Z'), to: new Date('2026-11-01T07:00:00Z') },
  ],
];
const rows = [];
for (const [label, query] of cases) {
  const result = await metrics.window(query);
  rows.push({
    label,
    jobs: result.reduce((n, r) => n + r.count, 0),
    groups: result.length,
    ...(await time(() => metrics.window(query))),
  });
}
await app.close();
process.env.DATABASE_URL = adminUrl;
if (!process.env.BENCH_KEEP) {
  await dropDatabase('bench_metrics');
}

const f = (n) => n.toFixed(1);
console.log(JSON.stringify({ jobs: JOBS, fillSeconds, baseline, rows }, null, 2));
const section = `## Job metrics percentiles (\`npm run bench:metrics\`)

Run ${new Date().toISOString()}: ${JOBS.toLocaleString('en-US')} finished jobs (filled in ${fillSeconds.toFixed(0)} s),
50 classes × 2 queues; ${RUNS} timed runs per query after one warm-up, through
JobMetricsService.window() (exact percentile_cont p50/p95/p99 and max of wait and run time, count and
success/failure per class and queue) in-process on the local Postgres. Baseline: \`select 1\`
through the same pool: p50 ${baseline.p50.toFixed(2)} ms.

| query | jobs | groups | p50 ms | p95 ms | max ms |
| --- | ---: | ---: | ---: | ---: | ---: |
${rows.map((r) => `| ${r.label} | ${r.jobs.toLocaleString('en-US')} | ${r.groups} | ${f(r.p50)} | ${f(r.p95)} | ${f(r.max)} |`).join('\n')}

**All ${JOBS.toLocaleString('en-US')} jobs, every class: p95 ${f(rows[0].p95)} ms** (target: well under 1 s).`;
writeSection('metrics', section);
