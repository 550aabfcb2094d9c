// Shared by the benchmarks: one-shot SQL and RESULTS.md sections.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import pg from 'pg';

/** The V8 flags the service runs with (scripts/start.sh, the Dockerfile, npm run start:prod). */
export const APP_NODE_ARGS = ['--max-semi-space-size=64'];

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
 * DROP DATABASE ... WITH (FORCE), tried again while Postgres answers 55006 (object in use): it waits
 * only 5 s for the backends it signals, and an autovacuum worker cleaning a GIN pending list after a
 * bench's inserts can take longer to stop.
 */
async function dropForce(name) {
  for (let attempt = 1; ; attempt++) {
    try {
      await sql(process.env.DATABASE_URL, `drop database if exists ${name} with (force)`);
      return;
    } catch (err) {
      if (err?.code !== '55006' || attempt >= 6) {
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
  execFileSync('node', ['dist/migrate.js'], {
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
