// npm run bench:ingest — lifecycle ingestion throughput over HTTP on loopback.
// Boots the built app against the local Postgres (scripts/services.sh), then, in one run:
//   baseline: GET /api/v1/health (public, no database) — what this machine's HTTP stack can do
//   single:   POST /api/v1/jobs, one event per request, many concurrent clients
//   batch:    POST /api/v1/events, BATCH events per request
// and checks that the rows in Postgres equal the events acknowledged (zero lost).
// Each phase sends a fixed number of requests (not a duration) so that every request is answered
// before the count of acknowledged events is compared with the rows in Postgres.
// The app runs with the service's own V8 flags (APP_NODE_ARGS); BENCH_NODE_ARGS adds more.
//   runs:     the batch phase's jobs run: one compact row each, as the Ruby client's async mode sends
//   stored:   BENCH_PRELOAD_JOBS finished jobs (10 million) are put in a second database served by a
//             second copy of the service; rounds of new jobs sent to each copy in turn give the
//             stored database's rate against the (nearly) empty one's (median of the rounds)
// and Postgres's own ceiling for the batch phase's rows and for the runs' (COPY and UPDATE straight
// from this process, in the new layout), each phase reported as a ratio of its ceiling.
// Knobs: BENCH_REQUESTS (20000), BENCH_BATCH_REQUESTS (200), BENCH_CONNECTIONS (64),
// BENCH_BATCH (500), BENCH_BATCH_CONNECTIONS (8), BENCH_PRELOAD_JOBS (10000000; 0 skips the phase);
// BENCH_DETECTORS=1: only ingestion with the detectors running against without
// (bench/ingest-detectors.mjs, its own knobs there).
// BENCH_PRE_SQL: statements (`;`-separated) run on the bench database after it is migrated, for
// experiments (e.g. dropping an index to see its cost).
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import autocannon from 'autocannon';
import pg from 'pg';
import { foldJob } from '../dist/src/jobs/fold/job-fold.js';
import { JOB_COLUMNS, STORED_EVENT_COLUMNS } from '../dist/src/jobs/ingest/columns.js';
import { copyIn, copyText } from '../dist/src/jobs/ingest/copy-format.js';
import { parseEvent } from '../dist/src/jobs/ingest/event-parser.js';
import { mergeRuns } from '../dist/src/jobs/ingest/event-store.js';
import { ingestToFold, rowsParam, toRow } from '../dist/src/jobs/ingest/rows.js';
import {
  COPY_EVENTS_SQL,
  COPY_JOBS_SQL,
  updateJobsSql,
} from '../dist/src/jobs/ingest/statements.js';
import {
  benchArguments,
  cpuSeconds,
  dropDatabase,
  freshDatabase,
  RUN_COLUMNS,
  sql,
  startApp,
  waitReady,
  writeSection,
} from './lib.mjs';

const f = (n, d = 0) =>
  n === null
    ? '—'
    : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20000);
const BATCH_REQUESTS = Number(process.env.BENCH_BATCH_REQUESTS ?? 200);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const BATCH_CONNECTIONS = Number(process.env.BENCH_BATCH_CONNECTIONS ?? 8);
const PORT = Number(process.env.BENCH_PORT ?? 3917);
const PRELOAD_JOBS = Number(process.env.BENCH_PRELOAD_JOBS ?? 10_000_000);
const ROUNDS = Number(process.env.BENCH_STORED_ROUNDS ?? 5);
const ROUND_REQUESTS = Number(process.env.BENCH_ROUND_REQUESTS ?? 100);
const STORED_BASE = `http://127.0.0.1:${PORT + 1}`;
const TOKEN = randomBytes(24).toString('hex');
const BASE = `http://127.0.0.1:${PORT}`;

if (!process.env.DATABASE_URL) {
  throw new Error('DATABASE_URL is not set: run through `npm run bench:ingest`');
}

const jid = () => randomBytes(12).toString('hex');
const event = (type = 'queued') => ({
  type,
  job_id: jid(),
  occurred_at: new Date().toISOString(),
  job_class: 'BenchJob',
  queue: 'default',
  arguments: benchArguments(),
});

// The rates use our clock, from the start to the last response: autocannon's own `duration` is
// coarse, and its completion callback only fires on its one-second tick (a 6.1 s phase would
// count as 7 s, a 15% error on a short phase).
function cannon(opts) {
  const started = performance.now();
  let last = started;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { amount: REQUESTS, ...opts, url: (opts.base ?? BASE) + opts.path },
      (error, result) =>
        error ? reject(error) : resolve({ ...result, seconds: (last - started) / 1000 }),
    );
    instance.on('response', () => {
      last = performance.now();
    });
    instance.on('error', reject);
  });
}

// CPU seconds used by the app, by Postgres (every process named postgres: the throwaway instance's
// backends) and by this load generator, from /proc (Linux); 0 elsewhere.
function postgresPids() {
  try {
    return readdirSync('/proc').filter((d) => {
      try {
        return /^\d+$/.test(d) && readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'postgres';
      } catch {
        return false;
      }
    });
  } catch {
    return [];
  }
}
function cpuSnapshot() {
  const pg = new Map(postgresPids().map((pid) => [pid, cpuSeconds(pid)]));
  return { app: cpuSeconds(app.pid), pg, self: process.cpuUsage() };
}
function cpuSince(start) {
  const end = cpuSnapshot();
  let pg = 0;
  for (const [pid, seconds] of end.pg) {
    pg += seconds - (start.pg.get(pid) ?? 0);
  }
  const self = process.cpuUsage(start.self);
  return { app: end.app - start.app, pg, load: (self.user + self.system) / 1e6 };
}
async function measured(run) {
  const start = cpuSnapshot();
  const result = await run();
  return { ...result, cpu: cpuSince(start) };
}

function summary(name, result, eventsPerRequest) {
  const ok = result['2xx'];
  const seconds = result.seconds;
  return {
    name,
    requests_ok: ok,
    non_2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    req_per_s: ok / seconds,
    events_per_s: eventsPerRequest ? (ok * eventsPerRequest) / seconds : null,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    events_acknowledged: eventsPerRequest ? ok * eventsPerRequest : 0,
    cpu_s: result.cpu,
  };
}

if (process.env.BENCH_DETECTORS === '1') {
  // only the A/B of ingestion with and without the detectors (bench/ingest-detectors.mjs)
  const { detectorsAB } = await import('./ingest-detectors.mjs');
  await detectorsAB({
    cannon,
    event,
    preloadJobs,
    port: PORT,
    token: TOKEN,
    batch: BATCH,
    connections: BATCH_CONNECTIONS,
  });
  process.exit(0);
}

const benchUrl = await freshDatabase('bench_ingest');
for (const statement of (process.env.BENCH_PRE_SQL ?? '').split(';').filter((q) => q.trim())) {
  await sql(benchUrl, statement);
}

const app = startApp({
  databaseUrl: benchUrl,
  token: TOKEN,
  port: PORT,
  nodeArgs: (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
});
// Every body is made before its phase (unique jids each): building 500 events per request while
// the phase runs would bill the load generator's JSON work to the 2 cores the app and Postgres share.
// A body is never sent twice (a phase that asks for more than it made builds the extra ones).
function bodies(count, make) {
  const made = Array.from({ length: count }, make);
  let next = 0;
  return () => (next < made.length ? made[next++] : make());
}
const singleBody = bodies(REQUESTS + CONNECTIONS, () => JSON.stringify(event()));
const batchJobs = []; // the jids of each batch body made beforehand, in order
const batchBody = bodies(BATCH_REQUESTS + BATCH_CONNECTIONS, () => {
  const events = Array.from({ length: BATCH }, () => event());
  batchJobs.push(events);
  return JSON.stringify({ events });
});
// the batch phase once more, with as many new jobs, after the preload
const storedBatchBody = bodies(
  PRELOAD_JOBS > 0 ? (2 * ROUNDS + 1) * (ROUND_REQUESTS + BATCH_CONNECTIONS) : 0,
  () => JSON.stringify({ events: Array.from({ length: BATCH }, () => event()) }),
);
// Then each of those jobs runs: one compact row per job as the Ruby client's async mode sends it
// (succeeded with started_at_us: the service stores started and succeeded, and updates the job).
const runBodies = batchJobs.slice(0, BATCH_REQUESTS).map((events) => {
  const rows = events.map((e) => {
    const enqueuedUs = Date.parse(e.occurred_at) * 1000;
    const startedUs = enqueuedUs + 2_000_000;
    const durationUs = 1500;
    return [
      'succeeded',
      e.job_id,
      startedUs + durationUs,
      e.job_class,
      e.queue,
      e.arguments,
      'tid-bench',
      null,
      enqueuedUs,
      enqueuedUs,
      durationUs,
      startedUs,
    ];
  });
  return JSON.stringify({
    columns: RUN_COLUMNS,
    defaults: { hostname: 'bench-host', pid: 4242 },
    rows,
  });
});
let nextRun = 0;
const runBody = () => runBodies[nextRun++ % runBodies.length];
const results = [];
let preload = null;
let storedApp = null;
let warmUpEvents = 0;
const rounds = [];
const storedUrl = PRELOAD_JOBS > 0 ? await freshDatabase('bench_ingest_stored') : null;
try {
  await waitReady(BASE);
  const headers = { 'PRIVATE-TOKEN': TOKEN, 'content-type': 'application/json' };
  // warm-up (JIT, connection pools), not measured
  await cannon({ path: '/api/v1/health', connections: 8, amount: 2000 });

  results.push(
    summary(
      'baseline GET /api/v1/health (no DB)',
      await measured(() => cannon({ path: '/api/v1/health', connections: CONNECTIONS })),
      0,
    ),
  );

  results.push(
    summary(
      'single-event POST /api/v1/jobs',
      await measured(() =>
        cannon({
          path: '/api/v1/jobs',
          connections: CONNECTIONS,
          requests: [
            {
              method: 'POST',
              headers,
              setupRequest: (req) => ({ ...req, body: singleBody() }),
            },
          ],
        }),
      ),
      1,
    ),
  );

  // BATCH_REQUESTS posts to the batch route over BATCH_CONNECTIONS, each body from nextBody()
  const batchRoute = (nextBody, { base = BASE, amount = BATCH_REQUESTS } = {}) =>
    measured(() =>
      cannon({
        base,
        path: '/api/v1/events',
        connections: BATCH_CONNECTIONS,
        amount,
        requests: [
          { method: 'POST', headers, setupRequest: (req) => ({ ...req, body: nextBody() }) },
        ],
      }),
    );

  results.push(
    summary(`batch POST /api/v1/events (${BATCH} per request)`, await batchRoute(batchBody), BATCH),
  );

  const runs = summary(
    `runs of those jobs: POST /api/v1/events, ${BATCH} compact rows (succeeded + started_at) per request`,
    await batchRoute(runBody),
    BATCH * 2, // each row stores its started and its succeeded event
  );
  runs.jobs_per_s = runs.events_per_s / 2;
  results.push(runs);

  if (PRELOAD_JOBS > 0) {
    // A second copy of the service on a database holding PRELOAD_JOBS jobs; then rounds that send
    // the same amount of new jobs to each, one after the other, so that the host's drift hits both
    // alike: the ratio is the median of the rounds'.
    preload = await preloadJobs(storedUrl, PRELOAD_JOBS);
    storedApp = startApp({
      databaseUrl: storedUrl,
      token: TOKEN,
      port: PORT + 1,
      nodeArgs: (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
    });
    await waitReady(STORED_BASE);
    // warm-up of the second copy (JIT, pools); its events count as acknowledged, not as a rate
    warmUpEvents = summary(
      'warm-up',
      await batchRoute(storedBatchBody, { base: STORED_BASE, amount: ROUND_REQUESTS }),
      BATCH,
    ).events_acknowledged;
    for (let round = 0; round < ROUNDS; round++) {
      const empty = summary(
        'empty',
        await batchRoute(storedBatchBody, { amount: ROUND_REQUESTS }),
        BATCH,
      );
      const full = summary(
        'stored',
        await batchRoute(storedBatchBody, { base: STORED_BASE, amount: ROUND_REQUESTS }),
        BATCH,
      );
      rounds.push({ empty, stored: full });
    }
  }
} finally {
  storedApp?.kill('SIGTERM');
  if (storedApp) {
    await new Promise((r) => storedApp.on('exit', r));
  }
  app.kill('SIGTERM');
  await new Promise((r) => app.on('exit', r));
}

/**
 * `count` finished jobs as the writer stores them (a queued event with arguments, the run's
 * succeeded event carrying its start; the payload dropped as a succeeded job's is), straight by SQL: jobs with random jids, their events over
 * the days before today (partitions made as the service makes them). The jobs' indexes are dropped
 * while the rows go in and built again after (as a restore would): the phase measures ingesting
 * beside 10M stored jobs, not loading them.
 */
async function preloadJobs(url, count) {
  const started = performance.now();
  const days = 10;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`set maintenance_work_mem = '512MB'`);
    const { rows: indexes } = await client.query(
      `select indexname, indexdef from pg_indexes where tablename = 'jobs'
         and indexname not in ('jobs_pkey', 'jobs_jid_instance_unique')`,
    );
    await client.query(`alter table jobs drop constraint jobs_jid_instance_unique`);
    for (const { indexname } of indexes) {
      await client.query(`drop index ${indexname}`);
    }
    const now = Date.now();
    for (let d = days; d >= 1; d--) {
      const day = new Date(now - d * 86_400_000).toISOString().slice(0, 10);
      await client.query(`create table if not exists job_events_p${day.replaceAll('-', '')}
        partition of job_events for values from ('${day} 00:00:00+00') to ('${day} 00:00:00+00'::timestamptz + interval '1 day')`);
    }
    const chunk = Math.ceil(count / days);
    for (let d = days; d >= 1; d--) {
      const n = Math.min(chunk, count - (days - d) * chunk);
      if (n <= 0) {
        break;
      }
      // one day's jobs, then their events; times inside that day
      await client.query(
        `with day as (select date_trunc('day', now() - make_interval(days => $2)) as t0),
         j as (
           insert into jobs (instance, jid, job_class, queue, arguments, payload_rest, payload_args_at,
             status, attempt, created_at, enqueued_at, started_at, completed_at, hostname, pid, tid,
             duration_ms, event_count, first_event_at, last_event_at, identity_at, first_received_at,
             updated_at)
           select 'default', substr(md5(random()::text || g), 1, 24), 'BenchJob' || (g % 20),
             'default', a, null, null,
             'succeeded', 0, t, t, t + interval '2 s', t + interval '2.0015 s', 'bench-host', 4242,
             'tid-bench', 1.5, 3, t, t + interval '2.0015 s', t, t, t + interval '3 s'
           from day, generate_series(1, $1) g,
             lateral (select t0 + (g::float8 / $1) * interval '86399 s' as t,
               '[' || (random() * 1e9)::int || ',"bench",{"nested":true}]' as a) x
           returning id, first_event_at as t)
         insert into job_events (job_id, type, occurred_at, received_at, enqueued_at, created_at,
           attempt, client_time, hostname, pid, tid, duration_ms, started_at)
         select id, v.type, t + v.off, t + v.off + interval '0.1 s', t, case when v.type = 'queued' then t end,
           0, true, v.host, v.pid, v.tid, v.dur, case when v.type = 'succeeded' then t + interval '2 s' end
         from j, (values ('queued', interval '0', 'web-1', null::int, null::text, null::float8),
           ('succeeded', interval '2.0015 s', 'bench-host', 4242, 'tid-bench', 1.5))
           v(type, off, host, pid, tid, dur)`,
        [n, d],
      );
    }
    await client.query(
      `alter table jobs add constraint jobs_jid_instance_unique unique (jid, instance)`,
    );
    for (const { indexdef } of indexes) {
      await client.query(indexdef);
    }
    await client.query('vacuum analyze jobs');
    await client.query('vacuum analyze job_events');
    return { jobs: count, seconds: (performance.now() - started) / 1000 };
  } finally {
    await client.end();
  }
}

// Postgres's own ceilings on this machine for the rows of two phases, in the new layout (events
// keyed by the job's id, the writer's COPY and UPDATE statements and indexes, GROUP jobs per
// transaction over the writer's 4 connections), inserted straight from this process into a fresh
// database with every parameter built beforehand: no HTTP, no validation, no fold, no per-job lock
// or read of stored rows. new jobs: the batch phase's queued events and job rows; runs: each job's
// started and succeeded events and the update of its row. Each phase is reported as a ratio of its.
const GROUP = 1000;
const GROUP_CONNECTIONS = 4;
async function postgresCeilings() {
  const url = await freshDatabase('bench_ingest_ceiling');
  const now = new Date();
  let nextId = 0;
  const groups = Array.from({ length: Math.ceil((BATCH_REQUESTS * BATCH) / GROUP) }, () => {
    const events = Array.from(
      { length: GROUP },
      () => parseEvent(event(), { path: '', form: false, now }).event,
    );
    const jobs = events.map((e) => {
      const id = String(++nextId);
      e.jobId = id;
      // the rows exactly as the writer makes them for new jobs
      const row = toRow(e.instance, e.jid, foldJob([ingestToFold(e)]));
      row.id = id;
      return { queued: e, row };
    });
    // each job's run: the started and succeeded events of its compact row, and its folded row
    const runs = jobs.map(({ queued, row }) => {
      const startedUs = Date.parse(queued.occurredAt) * 1000 + 2_000_000;
      const parsed = parseEvent(
        {
          type: 'succeeded',
          job_id: queued.jid,
          occurred_at_us: startedUs + 1500,
          started_at_us: startedUs,
          enqueued_at_us: startedUs - 2_000_000,
          created_at_us: startedUs - 2_000_000,
          duration_us: 1500,
          hostname: 'bench-host',
          pid: 4242,
          tid: 'tid-bench',
        },
        { path: '', form: false, now },
      );
      // stored as the writer stores them: the end carries its start (one row)
      const stored = mergeRuns([parsed.started, parsed.event]);
      for (const e of stored) {
        e.jobId = row.id;
      }
      const folded = toRow(
        queued.instance,
        queued.jid,
        foldJob([ingestToFold(queued), ...stored.map(ingestToFold)]),
      );
      folded.id = row.id;
      folded.eventCount = 3;
      return { stored, folded };
    });
    return {
      newJobs: [
        copyText(STORED_EVENT_COLUMNS, events),
        copyText(
          JOB_COLUMNS,
          jobs.map((j) => j.row),
        ),
      ],
      runs: [
        copyText(
          STORED_EVENT_COLUMNS,
          runs.flatMap((r) => r.stored),
        ),
        rowsParam(
          JOB_COLUMNS,
          runs.map((r) => r.folded),
        ),
      ],
    };
  });
  const clients = await Promise.all(
    Array.from({ length: GROUP_CONNECTIONS }, async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      return client;
    }),
  );
  async function timed(work) {
    const start = cpuSnapshot();
    const started = performance.now();
    let next = 0;
    await Promise.all(
      clients.map(async (client) => {
        while (next < groups.length) {
          const group = groups[next++];
          await client.query('begin');
          await work(client, group);
          await client.query('commit');
        }
      }),
    );
    return { seconds: (performance.now() - started) / 1000, cpu: cpuSince(start) };
  }
  try {
    const created = await timed(async (client, { newJobs: [eventRows, jobRows] }) => {
      await copyIn(client, COPY_EVENTS_SQL, eventRows);
      await copyIn(client, COPY_JOBS_SQL, jobRows);
    });
    const ran = await timed(async (client, { runs: [eventRows, jobRows] }) => {
      await copyIn(client, COPY_EVENTS_SQL, eventRows);
      await client.query(updateJobsSql(false), [jobRows]);
    });
    const [{ n }] = await sql(url, 'select count(*)::int as n from jobs');
    const [{ e }] = await sql(
      url,
      'select (count(*) + count(started_at))::int as e from job_events',
    );
    return {
      events: n,
      events_per_s: n / created.seconds,
      cpu_s: { pg: created.cpu.pg, load: created.cpu.load },
      runs: {
        jobs: n,
        events: e - n,
        jobs_per_s: n / ran.seconds,
        events_per_s: (e - n) / ran.seconds,
        cpu_s: { pg: ran.cpu.pg, load: ran.cpu.load },
      },
    };
  } finally {
    await Promise.all(clients.map((c) => c.end()));
    await dropDatabase('bench_ingest_ceiling');
  }
}

const [{ events, jobs }] = await sql(
  benchUrl,
  // a run's end stored with its start is two events
  `select (select count(*) + count(started_at) from job_events)::int as events,
     (select count(*) from jobs)::int as jobs`,
);
// the rounds' events went to both databases
const roundEvents = (side) => rounds.reduce((n, r) => n + r[side].events_acknowledged, 0);
let storedEvents = 0;
if (storedUrl) {
  const [{ n }] = await sql(
    storedUrl,
    'select (select count(*) + count(started_at) from job_events)::int as n',
  );
  storedEvents = n - 3 * PRELOAD_JOBS;
  await dropDatabase('bench_ingest_stored');
}
const acknowledged =
  results.reduce((n, r) => n + r.events_acknowledged, 0) +
  roundEvents('empty') +
  roundEvents('stored') +
  warmUpEvents;
await dropDatabase('bench_ingest');
const ceiling = await postgresCeilings();

const [baseline, single, batch, runs] = results;
function median(xs) {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
const roundRatios = rounds.map((r) => r.stored.events_per_s / r.empty.events_per_s);
const [{ shared_buffers: sharedBuffers }] = await sql(
  process.env.DATABASE_URL,
  'show shared_buffers',
);
const report = {
  date: new Date().toISOString(),
  machine: `${(await import('node:os')).cpus().length} cores, Node ${process.version}`,
  requests: { baseline: REQUESTS, single: REQUESTS, batch: BATCH_REQUESTS },
  connections: { single: CONNECTIONS, batch: BATCH_CONNECTIONS },
  results,
  single_vs_baseline: single.req_per_s / baseline.req_per_s,
  batch_events_per_s: batch.events_per_s,
  postgres_ceiling: ceiling,
  batch_vs_postgres_ceiling: batch.events_per_s / ceiling.events_per_s,
  runs_vs_postgres_ceiling: runs.jobs_per_s / ceiling.runs.jobs_per_s,
  preload,
  stored_rounds: rounds.map((r) => ({
    empty: r.empty.events_per_s,
    stored: r.stored.events_per_s,
    // Postgres's CPU per event (the app's is the first copy's only)
    pg_us_per_event: {
      empty: (r.empty.cpu_s.pg * 1e6) / r.empty.events_acknowledged,
      stored: (r.stored.cpu_s.pg * 1e6) / r.stored.events_acknowledged,
    },
  })),
  stored_vs_empty: rounds.length > 0 ? median(roundRatios) : null,
  events_acknowledged: acknowledged,
  events_in_postgres: events,
  jobs_in_postgres: jobs,
  // the preloaded jobs' events (3 each) were never acknowledged
  lost: acknowledged - events - storedEvents,
};
console.log(JSON.stringify(report, null, 2));

// CPU per request (per event for the event phases), in µs, of the app, Postgres and the load generator
const perUnit = (r, seconds) =>
  f((seconds * 1e6) / Math.max(1, r.events_acknowledged || r.requests_ok));
const table = [
  '| phase | requests/s | events/s | p50 ms | p99 ms | non-2xx | errors | CPU µs per event (app / Postgres / load generator) |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...results.map(
    (r) =>
      `| ${r.name} | ${f(r.req_per_s)} | ${f(r.events_per_s)} | ${r.p50_ms} | ${r.p99_ms} | ${r.non_2xx} | ${r.errors} | ${perUnit(r, r.cpu_s.app)} / ${perUnit(r, r.cpu_s.pg)} / ${perUnit(r, r.cpu_s.load)} |`,
  ),
].join('\n');
const section = `## Ingestion (\`npm run bench:ingest\`)

Run ${report.date} on ${report.machine}; ${REQUESTS} requests each for the baseline and single-event
phases over ${CONNECTIONS} connections, ${BATCH_REQUESTS} batches of ${BATCH} over ${BATCH_CONNECTIONS}. Load generator, app and
Postgres share the machine. Postgres is the throwaway instance from scripts/services.sh (fsync off;
shared_buffers ${sharedBuffers}: what a server keeping 10M jobs would give its cache, PG_SHARED_BUFFERS).
CPU per event is per request for the baseline (it has no events).

${table}

- **single-event / baseline requests/s: ${f(report.single_vs_baseline, 2)}** (target ≥ 0.50)
- **batched: ${f(report.batch_events_per_s)} events/s** (target ≥ 30,000)
- Postgres's own ceiling for the same rows on this machine (${f(ceiling.events)} events and job rows inserted
  straight from the load generator in transactions of ${GROUP} over ${GROUP_CONNECTIONS} connections, every parameter built
  beforehand: no HTTP, validation, fold, locks or reads): **${f(ceiling.events_per_s)} events/s**
  (Postgres ${f((ceiling.cpu_s.pg * 1e6) / ceiling.events)} µs CPU per event); the batch route reaches
  **${f(report.batch_vs_postgres_ceiling, 2)}** of it
- the batch phase's jobs then run, reported as the Ruby client's async mode does (one compact row per job:
  two events stored, the job row updated): **${f(runs.jobs_per_s)} jobs/s** (${f(runs.events_per_s)} events/s);
  Postgres's own ceiling for the same rows (the runs' events by COPY and the rows by the writer's UPDATE):
  **${f(ceiling.runs.jobs_per_s)} jobs/s** (Postgres ${f((ceiling.runs.cpu_s.pg * 1e6) / ceiling.runs.events)} µs CPU per event);
  the runs reach **${f(report.runs_vs_postgres_ceiling, 2)}** of it
${
  rounds.length > 0
    ? `- with ${f(preload.jobs)} finished jobs stored (loaded in ${f(preload.seconds)} s by SQL, 3 events each, over 10 daily
  partitions, into a second database served by a second copy of the service), in ${rounds.length} rounds of ${ROUND_REQUESTS}
  batches sent to each copy in turn (the host's drift hits both alike): events/s empty / stored
  ${rounds.map((r) => `${f(r.empty.events_per_s)} / ${f(r.stored.events_per_s)}`).join(', ')}; the stored database takes
  **${f(report.stored_vs_empty, 2)}** (median of the rounds' ratios ${roundRatios.map((x) => f(x, 2)).join(', ')}) of the rate on the
  (nearly) empty one; Postgres CPU per event, median of the rounds, empty ${f(median(rounds.map((r) => (r.empty.cpu_s.pg * 1e6) / r.empty.events_acknowledged)))} µs,
  stored ${f(median(rounds.map((r) => (r.stored.cpu_s.pg * 1e6) / r.stored.events_acknowledged)))} µs`
    : '- the phase with jobs stored was skipped (BENCH_PRELOAD_JOBS=0)'
}
- acknowledged events ${f(acknowledged)}, events in job_events ${f(events + storedEvents)} (both databases, besides the preloaded
  jobs'), jobs ${f(jobs)} in the first: **lost ${report.lost}**
- recorded before for the old layout (2026-12-03, same machine): batch 23,080 events/s at 0.56 of its ceiling
  (41,157 events/s, Postgres 33 µs CPU per event; app 20 / Postgres 55 µs per event), runs 10,403 jobs/s`;
writeSection('ingest', section);
if (report.lost !== 0) {
  console.error(`LOST ${report.lost} acknowledged events`);
  process.exit(1);
}
