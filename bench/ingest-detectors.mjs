// BENCH_DETECTORS=1 npm run bench:ingest — ingestion with the detectors running against without.
// One copy of the service on a database holding BENCH_DETECTOR_JOBS finished jobs (1,000,000); a
// child process (bench/detector-loop.mjs) runs every detector's full evaluation back to back on
// the same database and Redis while a round is "on" (the production tick runs one every 30 s:
// this is the detectors at their most), and idles while it is "off". Rounds of
// BENCH_DETECTOR_ROUND_REQUESTS batches of BENCH_BATCH new jobs alternate off/on, on/off, … (the
// host's drift hits both alike); the ratio of each pair is on / off events/s, reported as the
// median and the spread of BENCH_DETECTOR_PAIRS pairs. The detectors see the new jobs as waiting
// (DETECTOR_NEVER_STARTED_S=5 in the child): never_started reads its 1,000 jobs and Redis each time.
// BENCH_DETECTOR_INTERVAL_MS (0): one evaluation every that many ms, start to start, instead.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { dropDatabase, freshDatabase, sql, startApp, waitReady, writeSection } from './lib.mjs';

const PAIRS = Number(process.env.BENCH_DETECTOR_PAIRS ?? 12);
const ROUND_REQUESTS = Number(process.env.BENCH_DETECTOR_ROUND_REQUESTS ?? 100);
const JOBS = Number(process.env.BENCH_DETECTOR_JOBS ?? 1_000_000);
const INTERVAL_MS = Number(process.env.BENCH_DETECTOR_INTERVAL_MS ?? 0);
const cadence =
  INTERVAL_MS > 0
    ? `one evaluation every ${INTERVAL_MS} ms, start to start`
    : 'evaluations back to back';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const f = (n, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

export async function detectorsAB({ cannon, event, preloadJobs, port, token, batch, connections }) {
  const url = await freshDatabase('bench_ingest_detectors');
  const base = `http://127.0.0.1:${port}`;
  const preload = await preloadJobs(url, JOBS);
  const app = startApp({ databaseUrl: url, token, port, env: { SCHEDULER_ENABLED: 'false' } });
  const loop = fork(new URL('./detector-loop.mjs', import.meta.url), {
    env: {
      ...process.env,
      DATABASE_URL: url,
      PRIVATE_TOKEN: token,
      DETECTOR_NEVER_STARTED_S: '5',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const headers = { 'PRIVATE-TOKEN': token, 'content-type': 'application/json' };
  const body = () => JSON.stringify({ events: Array.from({ length: batch }, () => event()) });
  const bodies = Array.from({ length: (2 * PAIRS + 1) * (ROUND_REQUESTS + connections) }, body);
  let next = 0;
  const round = async () => {
    const r = await cannon({
      base,
      path: '/api/v1/events',
      connections,
      amount: ROUND_REQUESTS,
      requests: [
        { method: 'POST', headers, setupRequest: (req) => ({ ...req, body: bodies[next++] }) },
      ],
    });
    if (r.non2xx > 0 || r.errors > 0) {
      throw new Error(`round: ${r.non2xx} non-2xx, ${r.errors} errors`);
    }
    return (r['2xx'] * batch) / r.seconds;
  };
  const detectors = async (state) => {
    if (state) {
      loop.send('on');
      return null;
    }
    loop.send('off');
    const [stats] = await once(loop, 'message');
    return stats;
  };
  const pairs = [];
  try {
    await once(loop, 'message'); // ready
    await waitReady(base);
    await round(); // warm-up: JIT, pools
    for (let i = 0; i < PAIRS; i++) {
      const onFirst = i % 2 === 1;
      let on;
      let off;
      let stats;
      if (onFirst) {
        await detectors(true);
        on = await round();
        stats = await detectors(false);
        off = await round();
      } else {
        off = await round();
        await detectors(true);
        on = await round();
        stats = await detectors(false);
      }
      pairs.push({ off, on, ratio: on / off, ...stats });
      console.log(JSON.stringify(pairs.at(-1)));
    }
  } finally {
    loop.send('exit');
    app.kill('SIGTERM');
    await Promise.all([once(app, 'exit'), once(loop, 'exit')]);
  }
  const [{ open }] = await sql(
    url,
    `select count(*)::int as open from findings where ended_at is null`,
  );
  await dropDatabase('bench_ingest_detectors');
  const ratios = pairs.map((p) => p.ratio);
  const evaluationsPerS = median(pairs.map((p) => (p.evaluations * 1000) / p.busyMs));
  const msPerEvaluation = median(pairs.map((p) => p.busyMs / p.evaluations));
  const cpuPerEvaluation = median(pairs.map((p) => p.cpuMs / p.evaluations));
  const report = {
    date: new Date().toISOString(),
    jobs: JOBS,
    preload,
    pairs,
    median_ratio: median(ratios),
    min_ratio: Math.min(...ratios),
    max_ratio: Math.max(...ratios),
    evaluations_per_s: evaluationsPerS,
    ms_per_evaluation: msPerEvaluation,
    open_findings_at_end: open,
  };
  console.log(JSON.stringify(report, null, 2));
  const section = `### ${INTERVAL_MS > 0 ? `Every ${INTERVAL_MS / 1000} s` : 'Back to back'} (\`BENCH_DETECTOR_INTERVAL_MS=${INTERVAL_MS}\`)

Run ${report.date} on ${(await import('node:os')).cpus().length} cores shared with other engineers' test runs.
One copy of the service on a database holding ${f(JOBS)} finished jobs (loaded by SQL in ${f(preload.seconds)} s);
${PAIRS} pairs of rounds of ${ROUND_REQUESTS} batches of ${batch} new jobs over ${connections} connections, "off" and "on"
alternating (off/on, on/off, …). While a round is on, a second process runs every detector's full
evaluation on the same database and Redis, ${cadence} (FindingsService.evaluate, as the tick calls
it: ${f(evaluationsPerS, 2)} evaluations/s of the on rounds' time, one per ${f(msPerEvaluation)} ms; ${f(cpuPerEvaluation)} ms of that process's CPU each;
the service's own tick runs one every 30 s, \`DETECTORS_CRON\`). The new jobs count as waiting for
the detectors (\`DETECTOR_NEVER_STARTED_S=5\`): never_started judges 1,000 of them against Redis at
every evaluation (${f(open)} findings open at the end).

| pair | off events/s | on events/s | on / off | evaluations in the on round |
| --- | ---: | ---: | ---: | ---: |
${pairs.map((p, i) => `| ${i + 1} | ${f(p.off)} | ${f(p.on)} | ${f(p.ratio, 2)} | ${p.evaluations} |`).join('\n')}

**Ingestion with the detectors running (${cadence}): ${f(report.median_ratio, 2)} of the rate without**
(median of the pairs; spread ${f(report.min_ratio, 2)}-${f(report.max_ratio, 2)}; target ≥ 0.90).`;
  writeSection(`ingest-detectors-${INTERVAL_MS}`, section);
}
