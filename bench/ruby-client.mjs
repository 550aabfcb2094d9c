// npm run bench:ruby-client — the cost of the Ruby client middleware on a real Sidekiq.
// Boots this service (fresh database) on loopback, then runs clients/ruby/bench/throughput.rb: a real
// Sidekiq processing N no-op jobs (and N jobs with 1 ms of I/O) without the middleware (baseline,
// same run), with it in async mode and in sync mode, all reporting to this service. Then the async
// events go to a sink that discards them (throughput.rb's own Ruby sink), to tell the client's own
// cost from the CPU the service and Postgres take on the same two cores; "trivial" there is a
// pass-through middleware of the bench's own (what any server middleware costs: Sidekiq skips its
// chain only while it is empty) and "off" this gem's middleware registered but switched off.
// Knobs: BENCH_JOBS (10000), BENCH_WARMUP (5000 jobs run first in each Sidekiq, not measured: a
// fresh process's heap still grows), BENCH_ROUNDS (5; sync mode runs one short round: it is ~25x
// slower and its cost is not in doubt), BENCH_BREAKDOWN=1 (also async with one stage stubbed out:
// rows built but not buffered / buffered but not sent; see clients/ruby/bench/app.rb).
// Instructions: the same Sidekiq run under valgrind's callgrind (throughput.rb --callgrind), twice, with
// BENCH_CG_JOBS (1000) and 5x as many jobs; the difference per job is the Sidekiq process's
// instructions per job, which do not depend on the host's speed or load (the throughput figures on a
// shared 2-core host drift by 20% between runs). BENCH_INSTRUCTIONS=0 skips it (so does a missing valgrind).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP_NODE_ARGS, dropDatabase, freshDatabase, sql, writeSection } from './lib.mjs';

const JOBS = Number(process.env.BENCH_JOBS ?? 10000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CG_JOBS = Number(process.env.BENCH_CG_JOBS ?? 1000);
const CG_LARGE = CG_JOBS * 5; // the second run's jobs: per job = difference / (CG_LARGE - CG_JOBS)
const CG_WARMUP = 1000;
const CG_MODES = ['none', 'trivial', 'off', 'async', 'async_unmarked'];
// The figures before the lean hot path (#25: marked jobs, rows encoded by the sender thread), run
// 2026-12-03 with this same script, shown beside today's.
const BEFORE = {
  instructions: { none: 258390, trivial: 270912, off: 270916, async: 320126 },
  ioCostPct: 10.1,
};
const INSTRUCTIONS =
  process.env.BENCH_INSTRUCTIONS !== '0' && spawnSync('valgrind', ['--version']).status === 0;
const PORT = Number(process.env.BENCH_PORT ?? 3918);
const TOKEN = randomBytes(24).toString('hex');
if (!process.env.DATABASE_URL || !process.env.REDIS_URL) {
  throw new Error('DATABASE_URL / REDIS_URL not set: run through `npm run bench:ruby-client`');
}
const redisUrl = new URL(process.env.REDIS_URL);
redisUrl.pathname = '/8';

const benchUrl = await freshDatabase('bench_ruby_client');
const app = spawn('node', [...APP_NODE_ARGS, 'dist/src/main.js'], {
  env: {
    ...process.env,
    DATABASE_URL: benchUrl,
    PRIVATE_TOKEN: TOKEN,
    PORT: String(PORT),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    SCHEDULER_ENABLED: 'false',
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const runs = {};
const instructions = {};
let runCount = 0;

// One throughput.rb run; returns its summary (per mode). Without toService, events go to its sink.
function throughput({
  sleepMs = 0,
  toService = false,
  modes,
  jobs,
  warmup,
  rounds,
  variant,
  callgrind,
}) {
  const out = join(tmpdir(), `ruby-client-bench-${process.pid}-${runCount++}.json`);
  execFileSync(
    'ruby',
    [
      'clients/ruby/bench/throughput.rb',
      '--jobs',
      String(jobs),
      '--rounds',
      String(rounds),
      '--warmup',
      String(warmup),
      '--modes',
      modes,
      '--job-sleep-ms',
      String(sleepMs),
      '--json',
      out,
      ...(callgrind ? ['--callgrind', callgrind] : []),
    ],
    {
      env: {
        ...process.env,
        REDIS_URL: redisUrl.toString(),
        ...(toService
          ? { SIDEKIQ_SUPERVISOR_URL: `http://127.0.0.1:${PORT}`, SIDEKIQ_SUPERVISOR_TOKEN: TOKEN }
          : { SIDEKIQ_SUPERVISOR_URL: '' }),
        RUBYOPT: '-W0',
        ...(variant ? { BENCH_VARIANT: variant } : {}),
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const summary = JSON.parse(readFileSync(out, 'utf8')).summary;
  rmSync(out, { force: true });
  return summary;
}
const SINK = 'no-op jobs, events to a discard sink (client cost only)';
try {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${PORT}/api/v1/health`)).ok) {
        break;
      }
    } catch {
      // not yet listening
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const groups = [
    // [label, job sleep ms, to the service?, modes, jobs, warm-up, rounds, BENCH_VARIANT]
    ['no-op jobs', 0, true, 'none,async', JOBS, WARMUP, ROUNDS],
    ['no-op jobs (sync: one short round)', 0, true, 'none,sync', 2000, 1000, 1],
    ['jobs with 1 ms of I/O', 1, true, 'none,async', JOBS, WARMUP, ROUNDS],
    [SINK, 0, false, 'none,trivial,off,async,async_unmarked', JOBS, WARMUP, ROUNDS],
  ];
  if (process.env.BENCH_BREAKDOWN === '1') {
    for (const [variant, what] of [
      ['null_push', 'rows built as JSON, not buffered'],
      ['null_deliver', 'rows buffered, batches not sent'],
    ]) {
      groups.push([`${SINK}: ${what}`, 0, false, 'none,async', JOBS, WARMUP, ROUNDS, variant]);
    }
  }
  for (const [label, sleepMs, toService, modes, jobs, warmup, rounds, variant] of groups) {
    runs[label] = throughput({ sleepMs, toService, modes, jobs, warmup, rounds, variant });
  }
  if (INSTRUCTIONS) {
    const dir = mkdtempSync(join(tmpdir(), 'ruby-client-callgrind-'));
    try {
      const [small, large] = [CG_JOBS, CG_LARGE].map((jobs) =>
        throughput({
          modes: CG_MODES.join(','),
          jobs,
          warmup: CG_WARMUP,
          rounds: 1,
          callgrind: dir,
        }),
      );
      for (const mode of CG_MODES) {
        instructions[mode] =
          (large[mode].server_instructions - small[mode].server_instructions) /
          (CG_LARGE - CG_JOBS);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
} finally {
  app.kill('SIGTERM');
  await new Promise((r) => app.on('exit', r));
}
const [{ events }] = await sql(benchUrl, 'select count(*)::int as events from job_events');
await dropDatabase('bench_ruby_client');

const rows = Object.entries(runs).flatMap(([label, summary]) =>
  Object.entries(summary).map(
    ([mode, s]) =>
      `| ${label} | ${mode} | ${s.process_jobs_per_s.toFixed(0)} | ${s.process_ratio ?? '—'} | ${s.process_cost_pct ?? '—'}% | ${s.server_cpu_us_per_job.toFixed(0)} | ${s.server_gc_us_per_job.toFixed(1)} / ${s.server_major_gcs} |`,
  ),
);
// the client's cost above what any middleware costs, from the discard-sink group
const sink = runs[SINK] ?? {};
const aboveTrivial =
  sink.trivial && sink.async
    ? `In the discard-sink group a pass-through middleware alone (mode "trivial", not this gem) costs ` +
      `${sink.trivial.process_cost_pct}% (${(sink.trivial.server_cpu_us_per_job - sink.none.server_cpu_us_per_job).toFixed(1)} µs of CPU per job); ` +
      `async mode costs ${(sink.async.process_cost_pct - sink.trivial.process_cost_pct).toFixed(1)} points ` +
      `(${(sink.async.server_cpu_us_per_job - sink.trivial.server_cpu_us_per_job).toFixed(1)} µs per job) more than that.`
    : '';
// instructions per job of the Sidekiq process, and each mode's cost against none
const count = (n) => (n === undefined ? '—' : Math.round(n).toLocaleString('en-US'));
const cgRows = Object.entries(instructions).map(([mode, perJob]) => {
  const before = BEFORE.instructions[mode];
  return `| ${mode} | ${count(perJob)} | ${count(perJob - instructions.none)} | ${(((perJob - instructions.none) / instructions.none) * 100).toFixed(1)}% | ${count(before)} | ${before === undefined ? '—' : count(before - BEFORE.instructions.none)} |`;
});
// the targets of #25: async adds at most 2.5x what a pass-through middleware adds; 1 ms I/O jobs lose at most 5%
const added = (table, mode) => table[mode] - table.none;
const ratio = instructions.async
  ? added(instructions, 'async') / added(instructions, 'trivial')
  : undefined;
const beforeRatio = added(BEFORE.instructions, 'async') / added(BEFORE.instructions, 'trivial');
const io = runs['jobs with 1 ms of I/O']?.async;
const targets =
  `Targets: async mode adds at most 2.5x the instructions a pass-through middleware adds: ` +
  `**${ratio === undefined ? 'not measured' : `${ratio.toFixed(2)}x`}** (before: ${beforeRatio.toFixed(2)}x); ` +
  `jobs with 1 ms of I/O lose at most 5% of their throughput: **${io ? `${io.process_cost_pct}%` : 'not measured'}** ` +
  `(before: ${BEFORE.ioCostPct}%).`;
const cgSection = cgRows.length
  ? `

Instructions (valgrind callgrind; host speed and load do not change them): the Sidekiq server process
run under callgrind with ${CG_JOBS} and ${CG_LARGE} no-op jobs (after ${CG_WARMUP} warm-up jobs; events to the
discard sink), the difference divided by the ${CG_LARGE - CG_JOBS} extra jobs, so boot and shutdown cancel out.

| mode | instructions per job | more than none | cost | before: instructions per job | before: more than none |
| --- | ---: | ---: | ---: | ---: | ---: |
${cgRows.join('\n')}`
  : '';
const section = `## Ruby client middleware on a real Sidekiq (\`npm run bench:ruby-client\`)

Run ${new Date().toISOString()}: Sidekiq ${JOBS} jobs per round (after ${WARMUP} warm-up jobs), median of ${ROUNDS}
rounds (sync: one round of 2000), modes interleaved in a rotated order; baseline "none" = no middleware, same run;
"ratio to none" = median over the rounds of each round's run against that round's "none" (paired: the host's speed
drifts between rounds), jobs/s and CPU = medians of the runs.
Events went to this service on loopback (${events} events stored), except in the groups marked "discard sink",
where a Ruby sink took and discarded them (the client's own cost); "trivial" there = a pass-through middleware
of the bench's own instead of this gem (what any server middleware costs), "off" = this gem's middleware
registered but switched off. Sidekiq, Redis, PostgreSQL and the service
share the 2-core machine. Server CPU and GC are the Sidekiq process's (all its threads), per job.

| jobs | mode | processed jobs/s | ratio to none | throughput cost | server CPU µs/job | GC µs/job / major GCs |
| --- | --- | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

${aboveTrivial}${cgSection}

"async" runs jobs pushed through the client middleware (marked: a run sends only what it adds),
"async_unmarked" jobs pushed without it (each run sends the class, queue and arguments).

${targets}`;
writeSection('ruby-client', section);
console.log(section);
