// npm run bench:storage — bytes on disk per job, as a user's history grows.
// Boots the built app on a fresh database and sends, the way the Ruby client's async mode does:
//   finished jobs: a `queued` event with arguments and the raw payload (batch route, event
//     objects), then one compact `succeeded` row with `started_at_us` per job (the service stores a
//     started and a succeeded event and updates the job row);
//   retried-then-dead jobs: queued, then per run a compact `started` row with a `failed` event
//     (error class, message, backtrace) and, while retries remain, a `retrying` event; then `dead`.
// The finished jobs are sent in two orders, each into its own fresh database:
//   steady: as in production, a rolling window: each body (BATCH items, one sender as the client's
//     one background thread) carries the queued events of the next BATCH/2 jobs and the succeeded
//     rows of the jobs WINDOW earlier; `VACUUM jobs` every VACUUM_EVERY finished jobs stands in for
//     autovacuum (the migration sets autovacuum_vacuum_scale_factor 0.02 on jobs: at 100,000 jobs
//     it runs every ~2,050 updates), so that later rows reuse the space of earlier row versions;
//   burst: every queued event first, then every succeeded row (worst case: each job row written
//     twice with no chance to reuse space), then the dead jobs in the same database.
// Autovacuum is off on the job tables (and each job_events partition) in both, so that the result
// does not depend on the daemon's timing. Reports bytes per finished job (every table's heap, TOAST
// and indexes, minus the empty migrated database measured the same way, over the jobs sent) after a
// final VACUUM ANALYZE, split per relation (a partitioned table's partitions and each partitioned
// index summed over the partitions), and bytes per dead job (the growth it causes in the burst
// database, and on its own in a third fresh database). Writes the `storage` section of
// bench/RESULTS.md. The layout study (bench/storage-study.mjs) reads the layout before
// Migration20261204000000 and is no longer run here.
// Knobs: BENCH_STORAGE_JOBS (20000), BENCH_STORAGE_DEAD (2000), BENCH_STORAGE_RETRIES (3),
// BENCH_STORAGE_WINDOW (500), BENCH_STORAGE_VACUUM_EVERY (2000).
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import {
  benchArguments,
  dropDatabase,
  freshDatabase,
  relationSizes,
  RUN_COLUMNS,
  sidekiqPayload,
  sql,
  startApp,
  totalBytes,
  waitReady,
  writeSection,
} from './lib.mjs';

const JOBS = Number(process.env.BENCH_STORAGE_JOBS ?? 20000);
const DEAD = Number(process.env.BENCH_STORAGE_DEAD ?? 2000);
const RETRIES = Number(process.env.BENCH_STORAGE_RETRIES ?? 3);
const WINDOW = Number(process.env.BENCH_STORAGE_WINDOW ?? 500);
const VACUUM_EVERY = Number(process.env.BENCH_STORAGE_VACUUM_EVERY ?? 2000);
const PORT = Number(process.env.BENCH_PORT ?? 3927);
const TOKEN = randomBytes(24).toString('hex');
const BASE = `http://127.0.0.1:${PORT}`;
// items per request: the Ruby client's default batch size (SIDEKIQ_SUPERVISOR_BATCH_SIZE); the
// batch route takes up to INGEST_MAX_BATCH (1000)
const PER_REQUEST = 500;
const DEAD_PER_REQUEST = 250; // three items per job in a run wave
const CONCURRENCY = 4;

if (!process.env.DATABASE_URL) {
  throw new Error('DATABASE_URL is not set: run through `npm run bench:storage`');
}

const JOB_CLASS = 'BenchJob';
const QUEUE = 'default';
const HOST = { hostname: 'bench-host', pid: 4242 };
// what the client sends from the process that pushed the job (a web process)
const PUSHER = { hostname: 'web-1', pid: 101 };
const ERROR_CLASS = 'PG::ConnectionBad';
// a Ruby backtrace as the client sends it (backtrace_lines: 20)
const BACKTRACE = Array.from(
  { length: 20 },
  (_, i) =>
    [
      `/app/vendor/bundle/ruby/3.3.0/gems/activerecord-7.1.3/lib/active_record/connection_adapters/postgresql_adapter.rb:${894 + i}:in \`connect'`,
      `/app/app/jobs/bench_job.rb:${12 + i}:in \`perform'`,
      `/app/vendor/bundle/ruby/3.3.0/gems/sidekiq-7.2.4/lib/sidekiq/processor.rb:${202 + i}:in \`execute_job'`,
    ][i % 3],
);

const iso = (us) =>
  new Date(Math.floor(us / 1000)).toISOString().replace('Z', '') +
  String(us % 1000).padStart(3, '0') +
  'Z';

/** A job as the client knows it at push time. */
function newJob(enqueuedUs) {
  const jid = randomBytes(12).toString('hex');
  const argumentsJson = benchArguments();
  return {
    jid,
    argumentsJson,
    enqueuedUs,
    payload: sidekiqPayload({
      jid,
      jobClass: JOB_CLASS,
      queue: QUEUE,
      argumentsJson,
      createdUs: enqueuedUs,
      enqueuedUs,
    }),
  };
}

/** The client middleware's push event (Events.enqueued with send_payload). */
const queuedEvent = (job) => ({
  type: 'queued',
  job_id: job.jid,
  occurred_at: iso(job.enqueuedUs),
  job_class: JOB_CLASS,
  queue: QUEUE,
  arguments: job.argumentsJson,
  ...PUSHER,
  enqueued_at: iso(job.enqueuedUs),
  created_at: iso(job.enqueuedUs),
  payload: job.payload,
});

const runRow = (job, type, occurredUs, retryCount, durationUs, startedUs) => [
  type,
  job.jid,
  occurredUs,
  JOB_CLASS,
  QUEUE,
  job.argumentsJson,
  'tid-bench',
  retryCount,
  job.enqueuedUs,
  job.enqueuedUs,
  durationUs,
  startedUs,
];
const rowsBody = (rows, events = []) =>
  JSON.stringify({ events, columns: RUN_COLUMNS, defaults: HOST, rows });

/** The fields of an event object of a run (Events.run_fragment) plus the error fragment. */
const failureEvent = (job, type, atUs, retryCount, extra) => ({
  type,
  job_id: job.jid,
  occurred_at: iso(atUs),
  job_class: JOB_CLASS,
  queue: QUEUE,
  arguments: job.argumentsJson,
  ...HOST,
  tid: 'tid-bench',
  ...(retryCount === null ? {} : { retry_count: retryCount }),
  enqueued_at: iso(job.enqueuedUs),
  created_at: iso(job.enqueuedUs),
  error_class: ERROR_CLASS,
  error_message: `connection to server at "10.0.0.5", port 5432 failed: timeout expired (job ${job.jid})`,
  error_backtrace: BACKTRACE,
  ...extra,
});

function chunks(items, size) {
  const out = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(items.slice(i, i + size));
  }
  return out;
}

/** POSTs every body to the batch route, `concurrency` at a time; every one must be a 2xx. */
async function send(bodies, concurrency = CONCURRENCY) {
  let next = 0;
  const headers = { 'PRIVATE-TOKEN': TOKEN, 'content-type': 'application/json' };
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        const res = await fetch(`${BASE}/api/v1/events`, { method: 'POST', headers, body });
        if (!res.ok) {
          throw new Error(`POST /api/v1/events: ${res.status} ${await res.text()}`);
        }
        await res.arrayBuffer();
      }
    }),
  );
}

const START_US = (Date.now() - 3_600_000) * 1000; // an hour ago: every time is in the past

const finishedJobs = (count) =>
  Array.from({ length: count }, (_, i) => newJob(START_US + i * 1000));

const succeededRow = (job) => {
  const startedUs = job.enqueuedUs + 2_000_000;
  return runRow(job, 'succeeded', startedUs + 1500, null, 1500, startedUs);
};

/** Every queued event first, then every succeeded row. */
async function sendBurst(count) {
  const jobs = finishedJobs(count);
  await send(chunks(jobs, PER_REQUEST).map((c) => JSON.stringify({ events: c.map(queuedEvent) })));
  await send(chunks(jobs, PER_REQUEST).map((c) => rowsBody(c.map(succeededRow))));
}

/**
 * The jobs flowing through: each body carries the queued events of the next PER_REQUEST / 2 jobs
 * and the succeeded rows of as many jobs WINDOW earlier, one body at a time (the client's one
 * sender thread); `VACUUM jobs` after every VACUUM_EVERY finished jobs. Returns the VACUUMs run.
 */
async function sendSteady(url, count) {
  const jobs = finishedJobs(count);
  const step = PER_REQUEST / 2;
  let finished = 0;
  let vacuumedAt = 0;
  let vacuums = 0;
  for (let i = 0; i < count + WINDOW; i += step) {
    const queued = jobs.slice(i, i + step);
    const done = jobs.slice(Math.max(0, i - WINDOW), Math.max(0, i - WINDOW + step));
    await send([rowsBody(done.map(succeededRow), queued.map(queuedEvent))], 1);
    finished += done.length;
    if (finished - vacuumedAt >= VACUUM_EVERY) {
      await sql(url, 'vacuum jobs');
      vacuumedAt = finished;
      vacuums++;
    }
  }
  return vacuums;
}

/**
 * Jobs that fail RETRIES + 1 times: run r (retry_count absent on the first run, r - 1 after)
 * sends its started row and failed event, and while retries remain the retrying event with the
 * retry_count Sidekiq is about to store (r); the last failure is followed by dead (retry_count
 * RETRIES, as Sidekiq's exhausted-retries handler leaves it).
 */
async function sendDead(count) {
  const jobs = Array.from({ length: count }, (_, i) => newJob(START_US + 500_000_000 + i * 1000));
  await send(chunks(jobs, PER_REQUEST).map((c) => JSON.stringify({ events: c.map(queuedEvent) })));
  for (let r = 0; r <= RETRIES; r++) {
    const willRetry = r < RETRIES;
    await send(
      chunks(jobs, DEAD_PER_REQUEST).map((c) => {
        const rows = [];
        const events = [];
        for (const job of c) {
          const startedUs = job.enqueuedUs + 2_000_000 + r * 60_000_000;
          const failedUs = startedUs + 30_000;
          const retryCount = r === 0 ? null : r - 1;
          rows.push(runRow(job, 'started', startedUs, retryCount, null, null));
          events.push(
            failureEvent(job, 'failed', failedUs, retryCount, {
              will_retry: willRetry,
              duration_ms: 30,
            }),
          );
          if (willRetry) {
            events.push(failureEvent(job, 'retrying', failedUs, r, {}));
          }
        }
        return rowsBody(rows, events);
      }),
    );
  }
  await send(
    chunks(jobs, PER_REQUEST).map((c) =>
      JSON.stringify({
        events: c.map((job) =>
          failureEvent(
            job,
            'dead',
            job.enqueuedUs + 2_000_000 + RETRIES * 60_000_000 + 31_000,
            RETRIES,
            { tid: undefined }, // sent by the death handler: no thread
          ),
        ),
      }),
    ),
  );
}

/** Runs `work` with the built app serving `url`. */
async function withApp(url, work) {
  const app = startApp({ databaseUrl: url, token: TOKEN, port: PORT });
  const exited = new Promise((r) => app.on('exit', r));
  try {
    await waitReady(BASE);
    return await work();
  } finally {
    app.kill('SIGTERM');
    await exited;
  }
}

/** A fresh database with autovacuum off on jobs and on each job_events partition, and its sizes
 * (vacuumed). */
async function freshUnvacuumed(name) {
  const url = await freshDatabase(name);
  const partitions = await sql(
    url,
    `select relid::regclass::text as name from pg_partition_tree('job_events') where isleaf`,
  );
  for (const table of ['jobs', ...partitions.map((p) => p.name)]) {
    await sql(url, `alter table ${table} set (autovacuum_enabled = false)`);
  }
  // the maps VACUUM gives the migrations' own tables belong to the empty database, not the jobs
  await vacuum(url);
  return { url, empty: await relationSizes(url) };
}

async function vacuum(url) {
  await sql(url, 'vacuum analyze');
}

/**
 * Average bytes of a row of `table` as stored (pg_column_size of the row) and of each of its
 * columns (null counts 0), widest first.
 */
async function rowWidth(url, table) {
  const columns = await sql(
    url,
    `select column_name as name from information_schema.columns
     where table_schema = 'public' and table_name = $1 order by ordinal_position`,
    [table],
  );
  const [row] = await sql(
    url,
    `select avg(pg_column_size(t.*))::float8 as "(row)", ${columns
      .map((c) => `coalesce(avg(pg_column_size(t."${c.name}")), 0)::float8 as "${c.name}"`)
      .join(', ')}
     from ${table} t`,
  );
  const { '(row)': bytes, ...byColumn } = row;
  return {
    bytes,
    columns: Object.entries(byColumn)
      .map(([column, avg]) => ({ column, bytes: avg }))
      .sort((a, b) => b.bytes - a.bytes),
  };
}

async function counts(url) {
  const [row] = await sql(
    url,
    `select (select count(*) from jobs)::int as jobs, (select count(*) from job_events)::int as events,
       (select count(*) from jobs where status = 'succeeded')::int as succeeded,
       (select count(*) from jobs where status = 'dead')::int as dead`,
  );
  return row;
}

/**
 * Inserts, updates and HOT updates of jobs rows so far, once they count `jobs` inserts and
 * updates: the app's connections report their statistics when idle, within
 * PGSTAT_IDLE_INTERVAL (10 s); gives up after 30 s and returns what it has.
 */
async function jobsRowStats(url, jobs) {
  for (let i = 0; ; i++) {
    const [row] = await sql(
      url,
      `select n_tup_ins::int as ins, n_tup_upd::int as upd, n_tup_hot_upd::int as hot
       from pg_stat_user_tables where relname = 'jobs'`,
    );
    if ((row.ins >= jobs && row.upd >= jobs) || i >= 60) {
      return row;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Each table with its partitions (heap, TOAST, total) and each index summed over partitions. */
function groups(sizes) {
  const rootOf = new Map(sizes.tables.map((t) => [t.table, t.root]));
  const out = new Map();
  for (const t of sizes.tables) {
    const g = out.get(t.root) ?? { partitions: 0, heap: 0, toast: 0, total: 0, indexes: new Map() };
    g.partitions += t.root === t.table ? 0 : 1;
    g.heap += t.heap;
    g.toast += t.toast;
    g.total += t.total;
    out.set(t.root, g);
  }
  for (const i of sizes.indexes) {
    const { indexes } = out.get(rootOf.get(i.table));
    indexes.set(i.root, (indexes.get(i.root) ?? 0) + i.bytes);
  }
  return out;
}

/** `after` minus `before`, per relation group, each divided by `per`. */
function perJob(after, before, per) {
  const was = groups(before);
  const tables = [...groups(after)]
    .map(([table, g]) => {
      const b = was.get(table) ?? { heap: 0, toast: 0, total: 0, indexes: new Map() };
      return {
        table,
        partitions: g.partitions,
        heap: (g.heap - b.heap) / per,
        toast: (g.toast - b.toast) / per,
        indexes: [...g.indexes]
          .map(([index, bytes]) => ({ index, bytes: (bytes - (b.indexes.get(index) ?? 0)) / per }))
          .sort((x, y) => x.index.localeCompare(y.index)),
        total: (g.total - b.total) / per,
      };
    })
    .filter((t) => t.total !== 0)
    .sort((x, y) => x.table.localeCompare(y.table));
  return { total: (totalBytes(after) - totalBytes(before)) / per, tables };
}

function expectCounts(found, succeeded, dead) {
  if (found.succeeded !== succeeded || found.dead !== dead) {
    throw new Error(
      `expected ${succeeded} succeeded and ${dead} dead jobs, found ${JSON.stringify(found)}`,
    );
  }
}

const started = performance.now();

const steady = await freshUnvacuumed('bench_storage_steady');
let steadyVacuums;
let steadyBefore;
let steadyAfter;
let steadyStats;
await withApp(steady.url, async () => {
  steadyVacuums = await sendSteady(steady.url, JOBS);
  steadyStats = await jobsRowStats(steady.url, JOBS);
  steadyBefore = await relationSizes(steady.url);
  await vacuum(steady.url);
  steadyAfter = await relationSizes(steady.url);
});
const steadyCounts = await counts(steady.url);
const widths = {
  jobs: await rowWidth(steady.url, 'jobs'),
  events: await rowWidth(steady.url, 'job_events'),
};
expectCounts(steadyCounts, JOBS, 0);
await dropDatabase('bench_storage_steady');

const burst = await freshUnvacuumed('bench_storage_burst');
let burstBefore;
let burstAfter;
let burstStats;
let withDead;
await withApp(burst.url, async () => {
  await sendBurst(JOBS);
  burstStats = await jobsRowStats(burst.url, JOBS);
  burstBefore = await relationSizes(burst.url);
  await vacuum(burst.url);
  burstAfter = await relationSizes(burst.url);
  await sendDead(DEAD);
  await vacuum(burst.url);
  withDead = await relationSizes(burst.url);
});
const burstCounts = await counts(burst.url);
expectCounts(burstCounts, JOBS, DEAD);
await dropDatabase('bench_storage_burst');

// the dead jobs alone, in a third fresh database: nothing there for their rows to reuse
const deadDb = await freshUnvacuumed('bench_storage_dead');
let deadBefore;
let deadAfter;
await withApp(deadDb.url, async () => {
  await sendDead(DEAD);
  deadBefore = await relationSizes(deadDb.url);
  await vacuum(deadDb.url);
  deadAfter = await relationSizes(deadDb.url);
});
const deadCounts = await counts(deadDb.url);
expectCounts(deadCounts, 0, DEAD);
await dropDatabase('bench_storage_dead');

const result = {
  date: new Date().toISOString(),
  machine: `${os.cpus().length} cores, Node ${process.version}`,
  jobs: JOBS,
  dead: DEAD,
  retries: RETRIES,
  window: WINDOW,
  vacuum_every: VACUUM_EVERY,
  steady_vacuums: steadyVacuums,
  events_per_finished_job: steadyCounts.events / JOBS,
  events_per_dead_job: deadCounts.events / DEAD,
  payload_bytes: Buffer.byteLength(newJob(START_US).payload),
  arguments_bytes: Buffer.byteLength(benchArguments()),
  row_bytes: widths,
  steady_jobs_row_stats: steadyStats,
  burst_jobs_row_stats: burstStats,
  steady_before_vacuum: perJob(steadyBefore, steady.empty, JOBS),
  steady: perJob(steadyAfter, steady.empty, JOBS),
  burst_before_vacuum: perJob(burstBefore, burst.empty, JOBS),
  burst: perJob(burstAfter, burst.empty, JOBS),
  dead_marginal: perJob(withDead, burstAfter, DEAD),
  dead_alone_before_vacuum: perJob(deadBefore, deadDb.empty, DEAD),
  dead_alone: perJob(deadAfter, deadDb.empty, DEAD),
  seconds: (performance.now() - started) / 1000,
};
console.log(JSON.stringify(result, null, 2));

const f = (n, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
function splitTable(r) {
  const lines = ['| relation | bytes per job |', '| --- | ---: |'];
  for (const t of r.tables) {
    const label = t.partitions ? `${t.table} (${t.partitions} partitions)` : t.table;
    lines.push(`| **${label}** (total) | **${f(t.total)}** |`);
    lines.push(`| ${t.table} heap | ${f(t.heap)} |`);
    lines.push(`| ${t.table} TOAST | ${f(t.toast)} |`);
    for (const i of t.indexes) {
      lines.push(`| ${i.index} | ${f(i.bytes)} |`);
    }
  }
  lines.push(`| **all** | **${f(r.total)}** |`);
  return lines.join('\n');
}
const columnWidths = (w) =>
  w.columns
    .filter((c) => c.bytes >= 0.5)
    .map((c) => `${c.column} ${f(c.bytes)}`)
    .join(', ');
const updates = (s) =>
  `${f(s.upd)} job row updates, of which HOT ${f(s.hot)} (${f(s.upd ? (s.hot / s.upd) * 100 : 0, 1)}%)`;

const section = `## Storage (\`npm run bench:storage\`)

Run ${result.date} on ${result.machine}, ${f(result.seconds)} s, layout of Migration20261204000000.
${f(JOBS)} finished jobs sent as the Ruby client's async mode sends them (a \`queued\` event with
${result.arguments_bytes}-byte arguments and a ${result.payload_bytes}-byte Sidekiq 7 payload, then one compact \`succeeded\` row
with \`started_at_us\`; ${f(result.events_per_finished_job, 1)} events stored per job), in two orders, each in a fresh database:

- **steady**: a rolling window, as in production: each body of ${PER_REQUEST} items (the client's batch size, one
  sender) carries the queued events of the next ${PER_REQUEST / 2} jobs and the succeeded rows of the jobs
  ${f(WINDOW)} earlier. Autovacuum is off on the job tables; a \`VACUUM jobs\` every ${f(VACUUM_EVERY)} finished jobs
  (${steadyVacuums} in all) stands in for it: the migration's autovacuum_vacuum_scale_factor 0.02 on jobs
  vacuums every ~2,050 updates at 100,000 jobs, more often below (this keeps the run deterministic).
- **burst**: every queued event first, then every succeeded row (the order of the previous bench:
  the worst case, each job row written twice with no chance to reuse space).

Then ${f(DEAD)} jobs retried ${RETRIES} times and dead (queued; per run a compact \`started\` row, a \`failed\` event
with a 20-line backtrace and, while retries remain, \`retrying\`; then \`dead\`: ${f(result.events_per_dead_job, 1)} events per job).
Bytes on disk: every table's heap, TOAST and indexes (pg_total_relation_size; a partitioned table's
partitions summed, each partitioned index summed over its partitions), minus the empty migrated
database (with its empty day partitions) measured the same way, over the jobs sent, after a final
\`VACUUM ANALYZE\`.

- **bytes per finished job, steady: ${f(result.steady.total)}** (${f(result.steady_before_vacuum.total)} before the final VACUUM); target ≤ 1,000, moonshot 500
- **bytes per finished job, burst: ${f(result.burst.total)}** (${f(result.burst_before_vacuum.total)} before VACUUM)
- **bytes per retried-then-dead job: ${f(result.dead_alone.total)}** (on its own in a fresh database;
  ${f(result.dead_alone_before_vacuum.total)} before VACUUM); ${f(result.dead_marginal.total)} as the growth it caused in the burst database
- steady: ${updates(steadyStats)}; burst: ${updates(burstStats)}
- average row as stored (pg_column_size of the row: its 24-byte header included, the 4-byte line
  pointer not), finished jobs, steady: jobs ${f(widths.jobs.bytes)} bytes, job_events ${f(widths.events.bytes)} bytes; average
  bytes per column (alignment padding not counted): jobs ${columnWidths(widths.jobs)};
  job_events ${columnWidths(widths.events)}
- the previous layout, same bench (burst order), 2026-12-04: 3,235 bytes per finished job, 17,682 per dead job

Per finished job, steady:

${splitTable(result.steady)}

Per finished job, burst:

${splitTable(result.burst)}

Per retried-then-dead job (fresh database):

${splitTable(result.dead_alone)}
`;
writeSection('storage', section);
