// npm run bench:job-manager — JobManager queries over 1,000,000 jobs in Postgres.
// Fills a fresh database with 1M jobs (realistic mix of statuses, 50 classes, arguments with a
// customer id and a tenant), then times each JobManager method's first page with a selective
// filter, a broad filter and no filter, plus the duration queries, through the real service
// (Nest application context). Baseline: `select 1` through the same connection pool, same run.
// Knobs: BENCH_JOBS (1000000), BENCH_RUNS (40), BENCH_KEEP=1 keeps the database for EXPLAIN.
import { randomBytes } from 'node:crypto';
import { dropDatabase, freshDatabase, sql, timeRuns, writeSection } from './lib.mjs';

const JOBS = Number(process.env.BENCH_JOBS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 40);
if (!process.env.DATABASE_URL) {
  throw new Error('DATABASE_URL is not set: run through `npm run bench:job-manager`');
}

const adminUrl = process.env.DATABASE_URL;
const benchUrl = await freshDatabase('bench_job_manager');
// the app context below reads DATABASE_URL
process.env.DATABASE_URL = benchUrl;
process.env.PRIVATE_TOKEN ??= randomBytes(24).toString('hex');
process.env.LOG_LEVEL = 'error';

let t = performance.now();
// one statement: 1M jobs; ids ascending with time; 80% succeeded, 8% queued, 6% running,
// 4% failed, 2% dead; arguments like ["customer-123456",{"tenant":"t17","amount":12.5}]
await sql(
  benchUrl,
  `insert into jobs (instance, jid, job_class, queue, arguments, status, attempt, created_at,
     enqueued_at, started_at, completed_at, hostname, pid, event_count, first_event_at, last_event_at)
   select 'default', md5(g::text), 'Job' || (g % 50), case when g % 7 = 0 then 'critical' else 'default' end,
     '["customer-' || (g::bigint * 7919 % 1000003) || '",{"tenant":"t' || (g % 40) || '","amount":' || (g % 1000) / 10.0 || '}]',
     s.status, 0, ts, ts, ts + interval '1 second',
     case when s.status = 'succeeded' then ts + interval '1 second' + (g % 5000) * interval '1 millisecond' end,
     'worker-' || (g % 8), 1000 + g % 8, 3, ts, ts + interval '2 seconds'
   from generate_series(1, $1::int) g,
     lateral (select timestamptz '2026-11-01' + g * interval '1 second' as ts) t,
     lateral (select case when g % 50 < 40 then 'succeeded' when g % 50 < 44 then 'queued'
       when g % 50 < 47 then 'running' when g % 50 < 49 then 'failed' else 'dead' end as status) s`,
  [JOBS],
);
await sql(benchUrl, 'vacuum analyze jobs');
const fillSeconds = (performance.now() - t) / 1000;

const { NestFactory } = await import('@nestjs/core');
const { ReplModule } = await import('../dist/src/repl.module.js');
const { JobManagerService } = await import('../dist/src/job-manager/job-manager.service.js');
const { MikroORM } = await import('@mikro-orm/postgresql');
const app = await NestFactory.createApplicationContext(ReplModule, { logger: false });
const manager = app.get(JobManagerService);
const orm = app.get(MikroORM);

const time = (fn) => timeRuns(fn, RUNS);

const baseline = await time(() => orm.em.fork().execute('select 1'));
const selective = 'customer-424242';
const broad = '"t17"';
const cases = [
  ['queued_jobs', 'queuedJobs'],
  ['uncompleted_jobs', 'uncompletedJobs'],
  ['completed_jobs', 'completedJobs'],
  ['failed_jobs', 'failedJobs'],
  ['all_jobs', 'allJobs'],
  ['queued_to_completion_duration', 'queuedToCompletionDuration'],
  ['completed_jobs_duration', 'completedJobsDuration'],
];
const rows = [];
for (const [name, method] of cases) {
  for (const [label, filter] of [
    ['selective', selective],
    ['broad', broad],
    ['none', undefined],
  ]) {
    const r = await time(() => manager[method](filter, { limit: 50 }));
    rows.push({
      query: `${name}(${filter === undefined ? '' : JSON.stringify(filter)})`,
      label,
      ...r,
    });
  }
}
await app.close();
process.env.DATABASE_URL = adminUrl;
if (!process.env.BENCH_KEEP) {
  await dropDatabase('bench_job_manager');
}

const worst = Math.max(...rows.filter((r) => r.label !== 'none').map((r) => r.p95));
const f = (n) => n.toFixed(2);
console.log(
  JSON.stringify({ jobs: JOBS, fillSeconds, baseline, rows, worstFilteredP95: worst }, null, 2),
);
const section = `## JobManager queries (\`npm run bench:job-manager\`)

Run ${new Date().toISOString()}: ${JOBS.toLocaleString('en-US')} jobs (filled in ${fillSeconds.toFixed(0)} s),
${RUNS} timed runs per query after one warm-up, first page (limit 50), through JobManagerService
in-process on the local Postgres. Baseline: \`select 1\` through the same pool: p50 ${f(baseline.p50)} ms,
p95 ${f(baseline.p95)} ms.

| query | filter | p50 ms | p95 ms | max ms | p95 / baseline p95 |
| --- | --- | ---: | ---: | ---: | ---: |
${rows.map((r) => `| ${r.query} | ${r.label} | ${f(r.p50)} | ${f(r.p95)} | ${f(r.max)} | ${(r.p95 / baseline.p95).toFixed(1)} |`).join('\n')}

**Worst filtered first page: p95 ${f(worst)} ms** (target < 50 ms).`;
writeSection('job-manager', section);
