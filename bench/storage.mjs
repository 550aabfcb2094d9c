// npm run bench:storage — bytes on disk per job, as a user's history grows.
// Boots the built app on a fresh database and sends, the way the Ruby client's async mode does:
//   finished jobs: a `queued` event with arguments and the raw payload (batch route, event
//     objects), then one compact `succeeded` row with `started_at_us` per job (the service stores a
//     started and a succeeded event and updates the job row);
//   retried-then-dead jobs: queued, then per run a compact `started` row with a `failed` event
//     (error class, message, backtrace) and, while retries remain, a `retrying` event; then `dead`.
// Reports bytes per finished job (every table's heap, TOAST and indexes, minus an empty database
// measured the same way, over the jobs sent) before and after VACUUM ANALYZE, the per-relation
// split, and bytes per dead job (second phase: the growth it causes in the same database, and on
// its own in a second fresh database). Then (unless --no-study) the layout study of
// bench/storage-study.mjs over the same rows. Writes the `storage` section of bench/RESULTS.md.
// Knobs: BENCH_STORAGE_JOBS (20000), BENCH_STORAGE_DEAD (2000), BENCH_STORAGE_RETRIES (3).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import {
  APP_NODE_ARGS,
  benchArguments,
  dropDatabase,
  freshDatabase,
  relationSizes,
  sidekiqPayload,
  sql,
  totalBytes,
  writeSection,
} from './lib.mjs';
import { runStudy } from './storage-study.mjs';

const JOBS = Number(process.env.BENCH_STORAGE_JOBS ?? 20000);
const DEAD = Number(process.env.BENCH_STORAGE_DEAD ?? 2000);
const RETRIES = Number(process.env.BENCH_STORAGE_RETRIES ?? 3);
const STUDY = !process.argv.includes('--no-study');
const PORT = Number(process.env.BENCH_PORT ?? 3927);
const TOKEN = randomBytes(24).toString('hex');
const BASE = `http://127.0.0.1:${PORT}`;
// rows per request: the batch route takes up to INGEST_MAX_BATCH (1000) items
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

// Reporter::ROW_COLUMNS of the Ruby client
const RUN_COLUMNS = [
  'type',
  'job_id',
  'occurred_at_us',
  'job_class',
  'queue',
  'arguments',
  'tid',
  'retry_count',
  'enqueued_at_us',
  'created_at_us',
  'duration_us',
  'started_at_us',
];
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

/** POSTs every body to the batch route, CONCURRENCY at a time; every one must be a 2xx. */
async function send(bodies) {
  let next = 0;
  const headers = { 'PRIVATE-TOKEN': TOKEN, 'content-type': 'application/json' };
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
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

async function sendFinished(count) {
  const jobs = Array.from({ length: count }, (_, i) => newJob(START_US + i * 1000));
  await send(chunks(jobs, PER_REQUEST).map((c) => JSON.stringify({ events: c.map(queuedEvent) })));
  await send(
    chunks(jobs, PER_REQUEST).map((c) =>
      rowsBody(
        c.map((job) => {
          const startedUs = job.enqueuedUs + 2_000_000;
          return runRow(job, 'succeeded', startedUs + 1500, null, 1500, startedUs);
        }),
      ),
    ),
  );
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

async function waitReady() {
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${BASE}/api/v1/health/ready`)).ok) {
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the app did not become ready');
}

/** Runs `work` with the built app serving `url`. */
async function withApp(url, work) {
  const app = spawn('node', [...APP_NODE_ARGS, 'dist/src/main.js'], {
    env: {
      ...process.env,
      DATABASE_URL: url,
      PRIVATE_TOKEN: TOKEN,
      PORT: String(PORT),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((r) => app.on('exit', r));
  try {
    await waitReady();
    return await work();
  } finally {
    app.kill('SIGTERM');
    await exited;
  }
}

// autovacuum off on the job tables while they fill: "before VACUUM" is then every row version the
// writer left, whatever the timing of the autovacuum daemon (it would otherwise run mid-phase)
const NO_AUTOVACUUM = [
  'alter table jobs set (autovacuum_enabled = false)',
  'alter table job_events set (autovacuum_enabled = false)',
];

async function vacuum(url) {
  await sql(url, 'vacuum analyze');
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

async function updateStats(url) {
  const [row] = await sql(
    url,
    `select n_tup_ins::int as ins, n_tup_upd::int as upd, n_tup_hot_upd::int as hot
     from pg_stat_user_tables where relname = 'jobs'`,
  );
  return row;
}

/** `after` minus `before`, per relation, each divided by `per`. */
function perJob(after, before, per) {
  const beforeTable = new Map(before.tables.map((t) => [t.table, t]));
  const beforeIndex = new Map(before.indexes.map((i) => [i.index, i.bytes]));
  const tables = after.tables
    .map((t) => {
      const b = beforeTable.get(t.table) ?? { heap: 0, toast: 0, total: 0 };
      return {
        table: t.table,
        heap: (t.heap - b.heap) / per,
        toast: (t.toast - b.toast) / per,
        indexes: after.indexes
          .filter((i) => i.table === t.table)
          .map((i) => ({
            index: i.index,
            bytes: (i.bytes - (beforeIndex.get(i.index) ?? 0)) / per,
          })),
        total: (t.total - b.total) / per,
      };
    })
    .filter((t) => t.total !== 0);
  return { total: (totalBytes(after) - totalBytes(before)) / per, tables };
}

const started = performance.now();
const url = await freshDatabase('bench_storage');
for (const statement of NO_AUTOVACUUM) {
  await sql(url, statement);
}
const empty = await relationSizes(url);

let finishedBefore;
let finishedAfter;
let withDead;
let finishedStats;
await withApp(url, async () => {
  await sendFinished(JOBS);
  // the app's idle connections report their table statistics within PGSTAT_IDLE_INTERVAL (10 s)
  await new Promise((r) => setTimeout(r, 11_000));
  finishedStats = await updateStats(url);
  finishedBefore = await relationSizes(url);
  await vacuum(url);
  finishedAfter = await relationSizes(url);
  await sendDead(DEAD);
  await vacuum(url);
  withDead = await relationSizes(url);
});
const stored = await counts(url);
if (stored.succeeded !== JOBS || stored.dead !== DEAD) {
  throw new Error(
    `expected ${JOBS} succeeded and ${DEAD} dead jobs, found ${JSON.stringify(stored)}`,
  );
}

// the dead jobs alone, in a second fresh database: nothing there for their rows to reuse
const deadUrl = await freshDatabase('bench_storage_dead');
for (const statement of NO_AUTOVACUUM) {
  await sql(deadUrl, statement);
}
const deadEmpty = await relationSizes(deadUrl);
let deadBefore;
let deadAfter;
await withApp(deadUrl, async () => {
  await sendDead(DEAD);
  deadBefore = await relationSizes(deadUrl);
  await vacuum(deadUrl);
  deadAfter = await relationSizes(deadUrl);
});
const deadCounts = await counts(deadUrl);
await dropDatabase('bench_storage_dead');

const result = {
  date: new Date().toISOString(),
  machine: `${os.cpus().length} cores, Node ${process.version}`,
  jobs: JOBS,
  dead: DEAD,
  retries: RETRIES,
  stored,
  events_per_dead_job: deadCounts.events / DEAD,
  payload_bytes: Buffer.byteLength(newJob(START_US).payload),
  arguments_bytes: Buffer.byteLength(benchArguments()),
  jobs_row_updates: finishedStats,
  finished_before_vacuum: perJob(finishedBefore, empty, JOBS),
  finished: perJob(finishedAfter, empty, JOBS),
  dead_marginal: perJob(withDead, finishedAfter, DEAD),
  dead_alone_before_vacuum: perJob(deadBefore, deadEmpty, DEAD),
  dead_alone: perJob(deadAfter, deadEmpty, DEAD),
};
const study = STUDY ? await runStudy(url, { jobs: JOBS, dead: DEAD }) : null;
await dropDatabase('bench_storage');
result.seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ ...result, study: study?.json }, null, 2));

const f = (n, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
function splitTable(r) {
  const lines = ['| relation | bytes per job |', '| --- | ---: |'];
  for (const t of r.tables) {
    lines.push(`| **${t.table}** (total) | **${f(t.total)}** |`);
    lines.push(`| ${t.table} heap | ${f(t.heap)} |`);
    lines.push(`| ${t.table} TOAST | ${f(t.toast)} |`);
    for (const i of t.indexes) {
      lines.push(`| ${i.index} | ${f(i.bytes)} |`);
    }
  }
  lines.push(`| **all** | **${f(r.total)}** |`);
  return lines.join('\n');
}

const hotShare = finishedStats.upd ? finishedStats.hot / finishedStats.upd : 0;
const section = `## Storage (\`npm run bench:storage\`)

Run ${result.date} on ${result.machine}, ${f(result.seconds)} s. ${f(JOBS)} finished jobs sent as the Ruby
client's async mode sends them (a \`queued\` event with ${result.arguments_bytes}-byte arguments and a
${result.payload_bytes}-byte Sidekiq 7 payload, then one compact \`succeeded\` row with \`started_at_us\`:
${f(stored.events - DEAD * result.events_per_dead_job)} events stored), then ${f(DEAD)} jobs retried ${RETRIES} times and dead
(queued; per run a compact \`started\` row, a \`failed\` event with a 20-line backtrace and, while retries
remain, \`retrying\`; then \`dead\`: ${f(result.events_per_dead_job, 1)} events per job). Bytes on disk: every table's heap,
TOAST and indexes (pg_total_relation_size), minus an empty migrated database measured the same way,
over the jobs sent. Autovacuum is off on the job tables while they fill, so "before VACUUM" keeps
every row version the writer left.

- **bytes per finished job: ${f(result.finished.total)}** after \`VACUUM ANALYZE\`
  (${f(result.finished_before_vacuum.total)} before it; target ≤ 1,000, moonshot 500)
- **bytes per retried-then-dead job: ${f(result.dead_alone.total)}** (on its own in a fresh database;
  ${f(result.dead_alone_before_vacuum.total)} before VACUUM); ${f(result.dead_marginal.total)} as the growth it
  caused in the database of the finished jobs, whose vacuumed pages it partly reused
- job row updates while the finished jobs came in: ${f(finishedStats.upd)}, of which HOT ${f(finishedStats.hot)}
  (${f(hotShare * 100, 1)}%)

Per finished job, after VACUUM:

${splitTable(result.finished)}

Per finished job, before VACUUM:

${splitTable(result.finished_before_vacuum)}

Per retried-then-dead job, after VACUUM (fresh database):

${splitTable(result.dead_alone)}
${study ? `\n${study.markdown}` : ''}`;
writeSection('storage', section);
