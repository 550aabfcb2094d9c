// Shared by the benchmarks: one-shot SQL, the built app, RESULTS.md sections.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import pg from 'pg';

/** The V8 flags the service runs with (scripts/start.sh, the Dockerfile, npm run start:prod). */
export const APP_NODE_ARGS = ['--max-semi-space-size=64'];

/**
 * Starts the built app (dist/src/main.js) with the service's V8 flags on 127.0.0.1:`port`, serving
 * `databaseUrl` with `token` as its PRIVATE_TOKEN; `nodeArgs` and `env` add to (or override) both.
 */
export function startApp({ databaseUrl, token, port, nodeArgs = [], env = {} }) {
  return spawn('node', [...APP_NODE_ARGS, ...nodeArgs, 'dist/src/main.js'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PRIVATE_TOKEN: token,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

/** Resolves once `base`/api/v1/health/ready answers 2xx; gives up after `tries` tries 100 ms apart. */
export async function waitReady(base, tries = 150) {
  for (let i = 0; i < tries; i++) {
    try {
      if ((await fetch(`${base}/api/v1/health/ready`)).ok) {
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the app did not become ready');
}

// clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux)
const TICK = 100;

/** CPU seconds (user + system) process `pid` has used so far, from /proc (Linux); 0 elsewhere. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICK;
  } catch {
    return 0;
  }
}

/** Reporter::ROW_COLUMNS of the Ruby client: the columns of a compact run row (batch route). */
export const RUN_COLUMNS = [
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

export async function sql(url, text, params) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows;
  } finally {
    await client.end();
  }
}

/**
 * DROP DATABASE ... WITH (FORCE), tried again while Postgres answers 55006 (object in use: it waits
 * only 5 s for the backends it signals, and an autovacuum worker cleaning a GIN pending list after a
 * bench's inserts can take longer to stop) or 42501 (a background worker the bench's role may not
 * signal, such as a BRIN autosummarize or autovacuum worker still in the database).
 */
async function dropForce(name) {
  for (let attempt = 1; ; attempt++) {
    try {
      await sql(process.env.DATABASE_URL, `drop database if exists ${name} with (force)`);
      return;
    } catch (err) {
      if ((err?.code !== '55006' && err?.code !== '42501') || attempt >= 15) {
        throw err;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

/** A fresh, migrated database next to DATABASE_URL's, for one benchmark: returns its URL. */
export async function freshDatabase(name) {
  const admin = process.env.DATABASE_URL;
  await dropForce(name);
  await sql(admin, `create database ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  execFileSync('node', ['dist/src/migrate.js'], {
    env: { ...process.env, DATABASE_URL: url.toString() },
    stdio: 'ignore',
  });
  return url.toString();
}

export function dropDatabase(name) {
  return dropForce(name);
}

// BENCH_RESULTS=other.md sends a trial run's section elsewhere (bench/RESULTS.md keeps the record)
const RESULTS_FILE = process.env.BENCH_RESULTS ?? 'bench/RESULTS.md';

/** Replaces (or appends) the section between <!-- bench:NAME --> markers in the results file. */
export function writeSection(name, section) {
  let doc;
  try {
    doc = readFileSync(RESULTS_FILE, 'utf8');
  } catch {
    doc =
      '# Benchmark results\n\nEach section is rewritten by its benchmark; ratios are against a baseline measured in the same run.\n';
  }
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  const block = `${open}\n${section.trim()}\n${close}`;
  const start = doc.indexOf(open);
  const end = doc.indexOf(close);
  doc =
    start >= 0 && end > start
      ? doc.slice(0, start) + block + doc.slice(end + close.length)
      : `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(RESULTS_FILE, doc);
}

/** p50, p95 and max of timings in ms. */
export function percentiles(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  return { p50: at(50), p95: at(95), max: sorted.at(-1) };
}

/** Times `fn` `runs` times after one warm-up call. */
export async function timeRuns(fn, runs) {
  await fn();
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await fn();
    samples.push(performance.now() - started);
  }
  return percentiles(samples);
}

/**
 * A job's arguments as bench:ingest sends them (JSON text of Sidekiq's `args`): bench:storage
 * uses the same so that both benches store the same rows.
 */
export function benchArguments() {
  return JSON.stringify([Math.floor(Math.random() * 1e9), 'bench', { nested: true }]);
}

/**
 * The raw payload the Ruby client sends with a `queued` event: Sidekiq 7's job hash as it goes
 * to Redis (JSON.generate of the hash; times as float epoch seconds), its `args` equal to
 * `argumentsJson`.
 */
export function sidekiqPayload({ jid, jobClass, queue, argumentsJson, createdUs, enqueuedUs }) {
  const seconds = (us) => (us / 1e6).toFixed(6);
  return (
    `{"retry":true,"queue":${JSON.stringify(queue)},"class":${JSON.stringify(jobClass)},` +
    `"args":${argumentsJson},"jid":"${jid}","created_at":${seconds(createdUs)},` +
    `"enqueued_at":${seconds(enqueuedUs)}}`
  );
}

/**
 * Bytes on disk of every table of `schema` (tables and partitions; a partitioned parent has no
 * storage of its own): its heap (with free-space and visibility maps), its TOAST table (with the
 * TOAST index) and each of its indexes. The three add up to pg_total_relation_size. A partition
 * and its indexes name their partitioned table and index as `root` (else `root` is their own name).
 */
export async function relationSizes(url, schema = 'public') {
  const tables = await sql(
    url,
    `select c.relname as table, coalesce(r.relname, c.relname) as root,
       (pg_table_size(c.oid) - coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0))::int8::text as heap,
       coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0)::int8::text as toast,
       pg_total_relation_size(c.oid)::int8::text as total
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
       left join pg_class r on r.oid = pg_partition_root(c.oid)
     where n.nspname = $1 and c.relkind in ('r', 'm')
     order by c.relname`,
    [schema],
  );
  const indexes = await sql(
    url,
    `select t.relname as table, i.relname as index, coalesce(r.relname, i.relname) as root,
       pg_total_relation_size(i.oid)::int8::text as bytes
     from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid
       join pg_namespace n on n.oid = t.relnamespace
       left join pg_class r on r.oid = pg_partition_root(i.oid)
     where n.nspname = $1 and t.relkind in ('r', 'm')
     order by t.relname, i.relname`,
    [schema],
  );
  return {
    tables: tables.map((t) => ({
      table: t.table,
      root: t.root,
      heap: Number(t.heap),
      toast: Number(t.toast),
      total: Number(t.total),
    })),
    indexes: indexes.map((i) => ({
      table: i.table,
      index: i.index,
      // a partition's index: the partitioned index it belongs to
      root: i.root,
      bytes: Number(i.bytes),
    })),
  };
}

/** The sum of relationSizes(). */
export function totalBytes(sizes) {
  return sizes.tables.reduce((n, t) => n + t.total, 0);
}
