// npm run bench:auth — what failed authentication costs a valid client, on loopback.
// Boots the built app (production defaults for the failure limit and the token caches) on a fresh
// database, creates one `read` token for a valid client, then in one run, ROUNDS times, in an
// order rotated round by round:
//   baseline: the valid client alone, GET /api/v1/tokens/self at RATE requests/s
//   wrong:    the same client while FLOOD requests, each with a distinct wrong PRIVATE-TOKEN, go to
//             the same route over CONNECTIONS connections (autocannon)
//   none:     the same client while FLOOD requests with no PRIVATE-TOKEN header go there
// The flood and the valid client come from the same address (127.0.0.1): the flood spends the
// address's allowance of failures within its first requests and is answered 429 from then on,
// while the valid client must keep getting 200. Reported: the valid client's p99 in each phase
// (medians over the rounds), the p99 ratio wrong/none, the rejection rate ratio wrong/none, the
// flood's status counts, the app's CPU per flood request and the token lookups Postgres ran.
// The valid client runs in a worker thread at a constant rate (open loop: each request is timed
// from when it was due, so a stalled server is not hidden by a client that waits for it).
// Knobs: BENCH_FLOOD (20000), BENCH_CONNECTIONS (64), BENCH_ROUNDS (3), BENCH_RATE (100),
// BENCH_BASELINE_SECONDS (4), BENCH_WARM_UP (5000 requests of each flood first, not measured);
// BENCH_APP_ENV='AUTH_FAILURE_LIMIT=1000000 ...' sets app knobs for
// experiments (e.g. the limiter out of the way, to see the lookups' cost).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { cpus } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import autocannon from 'autocannon';
import net from 'node:net';
import { APP_NODE_ARGS, dropDatabase, freshDatabase, writeSection } from './lib.mjs';

const PATH = '/api/v1/tokens/self';

// The valid client and the Postgres relay run in threads of their own, so that the load
// generator's busy event loop delays neither the client's timings nor the app's queries.
if (isMainThread) {
  await main();
} else if (workerData.role === 'relay') {
  await relay(workerData.databaseUrl, /^select\b[\s\S]*\bfrom "api_tokens"/i);
} else {
  validClient(workerData);
}

/** The valid client: one request every 1000/rate ms until told to stop; then its latencies. */
function validClient({ port, token, rate }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const interval = 1000 / rate;
  let timer = null;
  let inFlight = 0;
  let samples = [];
  let statuses = {};
  let stopping = null;
  const finish = () => {
    if (stopping && inFlight === 0) {
      parentPort.postMessage({ samples, statuses });
      samples = [];
      statuses = {};
      stopping = null;
    }
  };
  const send = (due) => {
    inFlight++;
    const req = http.get(
      { host: '127.0.0.1', port, path: PATH, agent, headers: { 'PRIVATE-TOKEN': token } },
      (res) => {
        res.resume();
        res.on('end', () => {
          samples.push(performance.now() - due);
          statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
          inFlight--;
          finish();
        });
      },
    );
    req.on('error', () => {
      statuses.error = (statuses.error ?? 0) + 1;
      inFlight--;
      finish();
    });
  };
  parentPort.on('message', (msg) => {
    if (msg === 'start') {
      const started = performance.now();
      let sent = 0;
      const tick = () => {
        const now = performance.now();
        // every request that has come due since the last tick (timers run late under load)
        while (started + sent * interval <= now) {
          send(started + sent * interval);
          sent++;
        }
        timer = setTimeout(tick, Math.max(0, started + sent * interval - performance.now()));
      };
      tick();
    } else if (msg === 'stop') {
      clearTimeout(timer);
      stopping = true;
      finish();
    } else if (msg === 'exit') {
      agent.destroy();
      process.exit(0);
    }
  });
}

async function main() {
  const FLOOD = Number(process.env.BENCH_FLOOD ?? 20000);
  const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
  const RATE = Number(process.env.BENCH_RATE ?? 100);
  const BASELINE_SECONDS = Number(process.env.BENCH_BASELINE_SECONDS ?? 4);
  const WARM_UP = Number(process.env.BENCH_WARM_UP ?? 5000);
  const PORT = Number(process.env.BENCH_PORT ?? 3918);
  const BASE = `http://127.0.0.1:${PORT}`;
  const BOOTSTRAP = randomBytes(24).toString('hex');
  const appEnv = Object.fromEntries(
    (process.env.BENCH_APP_ENV ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
  if (!process.env.DATABASE_URL) {
    throw new Error('DATABASE_URL is not set: run through `npm run bench:auth`');
  }

  const benchUrl = await freshDatabase('bench_auth');
  // the app reaches Postgres through a loopback relay that counts the token lookups it sends
  const relayThread = new Worker(new URL(import.meta.url), {
    workerData: { role: 'relay', databaseUrl: benchUrl },
  });
  const ask = (msg) =>
    new Promise((resolve) => {
      relayThread.once('message', resolve);
      relayThread.postMessage(msg);
    });
  const relayUrl = await new Promise((resolve) =>
    relayThread.once('message', (msg) => resolve(msg.url)),
  );
  const app = spawn('node', [...APP_NODE_ARGS, 'dist/src/main.js'], {
    env: {
      ...process.env,
      DATABASE_URL: relayUrl,
      PRIVATE_TOKEN: BOOTSTRAP,
      PORT: String(PORT),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      SCHEDULER_ENABLED: 'false',
      ...appEnv,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });

  const TICK = 100;
  const appCpu = () => {
    const stat = readFileSync(`/proc/${app.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICK;
  };
  const lookups = async () => (await ask('count')).lookups;
  let worker;
  const results = [];
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${BASE}/api/v1/health/ready`)).ok) {
          break;
        }
      } catch {
        // not listening yet
      }
      if (i > 150) {
        throw new Error('the app did not become ready');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const created = await fetch(`${BASE}/api/v1/tokens`, {
      method: 'POST',
      headers: { 'PRIVATE-TOKEN': BOOTSTRAP, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench-valid-client', scopes: ['read'] }),
    });
    const { token } = await created.json();

    worker = new Worker(new URL(import.meta.url), {
      workerData: { role: 'client', port: PORT, token, rate: RATE },
    });
    const client = {
      start: () => worker.postMessage('start'),
      stop: () =>
        new Promise((resolve) => {
          worker.once('message', resolve);
          worker.postMessage('stop');
        }),
    };

    // one phase: the valid client runs while `load` does (or for BASELINE_SECONDS)
    // round 0 is the warm-up: run, not recorded
    const phase = async (name, round, load, amount = FLOOD) => {
      const cpu0 = appCpu();
      const lookups0 = await lookups();
      client.start();
      const statuses = {};
      let seconds = BASELINE_SECONDS;
      let floodRequests = 0;
      if (load) {
        // the rate uses our clock, from the start to the last response (as bench:ingest does)
        const started = performance.now();
        let last = started;
        await new Promise((resolve, reject) => {
          const instance = autocannon(
            {
              url: BASE + PATH,
              connections: CONNECTIONS,
              amount,
              requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, headers: load() }) }],
            },
            (error) => (error ? reject(error) : resolve()),
          );
          instance.on('response', (_client, status) => {
            last = performance.now();
            statuses[status] = (statuses[status] ?? 0) + 1;
          });
          instance.on('error', reject);
        });
        seconds = (last - started) / 1000;
        floodRequests = Object.values(statuses).reduce((a, b) => a + b, 0);
      } else {
        await new Promise((r) => setTimeout(r, BASELINE_SECONDS * 1000));
      }
      const valid = await client.stop();
      const cpu = appCpu() - cpu0;
      const lookups1 = await lookups();
      if (round === 0) {
        return;
      }
      results.push({
        name,
        round,
        valid: { ...latency(valid.samples), statuses: valid.statuses },
        flood: load
          ? {
              requests: floodRequests,
              seconds,
              per_s: floodRequests / seconds,
              statuses,
              app_cpu_us_per_request: (cpu * 1e6) / floodRequests,
            }
          : null,
        token_lookups: lookups1 - lookups0,
      });
      const last = results.at(-1);
      console.error(
        `round ${round} ${name}: valid p99 ${last.valid.p99.toFixed(1)} ms` +
          (last.flood
            ? `, flood ${last.flood.per_s.toFixed(0)}/s ${JSON.stringify(statuses)}`
            : ''),
      );
    };

    // distinct wrong tokens, made before the phases (hashing them is the app's work, not ours)
    const wrongTokens = Array.from(
      { length: FLOOD * ROUNDS + WARM_UP + CONNECTIONS * (ROUNDS + 1) * 2 },
      () => `sks_${randomBytes(30).toString('base64url')}`,
    );
    let nextWrong = 0;
    const phases = {
      baseline: null,
      wrong: () => ({ 'PRIVATE-TOKEN': wrongTokens[nextWrong++] }),
      none: () => ({}),
    };
    // warm-up (JIT of every path, the valid token's cache entry), not measured
    await phase('wrong', 0, phases.wrong, WARM_UP);
    await phase('none', 0, phases.none, WARM_UP);

    const orders = [
      ['baseline', 'wrong', 'none'],
      ['none', 'baseline', 'wrong'],
      ['wrong', 'none', 'baseline'],
    ];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const name of orders[(round - 1) % orders.length]) {
        await phase(name, round, phases[name]);
      }
    }
    worker.postMessage('exit');
  } finally {
    app.kill('SIGTERM');
    await new Promise((r) => app.on('exit', r));
    relayThread.postMessage('exit');
    await dropDatabase('bench_auth');
  }

  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  const of = (name) => results.filter((r) => r.name === name);
  const med = (name, pick) => median(of(name).map(pick));
  const sumStatuses = (rows, pick) => {
    const out = {};
    for (const row of rows) {
      for (const [k, v] of Object.entries(pick(row) ?? {})) {
        out[k] = (out[k] ?? 0) + v;
      }
    }
    return out;
  };
  const p99 = {
    baseline: med('baseline', (r) => r.valid.p99),
    wrong: med('wrong', (r) => r.valid.p99),
    none: med('none', (r) => r.valid.p99),
  };
  const rate = {
    wrong: med('wrong', (r) => r.flood.per_s),
    none: med('none', (r) => r.flood.per_s),
  };
  const report = {
    date: new Date().toISOString(),
    machine: `${cpus().length} cores, Node ${process.version}`,
    flood: FLOOD,
    connections: CONNECTIONS,
    rounds: ROUNDS,
    rate: RATE,
    app_env: appEnv,
    results,
    p99_ms: p99,
    p99_ratio_wrong_vs_none: p99.wrong / p99.none,
    rejections_per_s: rate,
    rejection_rate_ratio_wrong_vs_none: rate.wrong / rate.none,
    valid_client_statuses: sumStatuses(results, (r) => r.valid.statuses),
  };
  console.log(JSON.stringify(report, null, 2));

  const f = (n, d = 0) =>
    n === null || n === undefined
      ? '—'
      : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const st = (s) =>
    Object.entries(s ?? {})
      .map(([k, v]) => `${k}: ${f(v)}`)
      .join(', ');
  const table = [
    '| round | phase | valid p50 ms | valid p99 ms | valid max ms | valid statuses | flood req/s | flood statuses | app CPU µs per flood request | token lookups |',
    '| ---: | --- | ---: | ---: | ---: | --- | ---: | --- | ---: | ---: |',
    ...results.map(
      (r) =>
        `| ${r.round} | ${r.name} | ${f(r.valid.p50, 1)} | ${f(r.valid.p99, 1)} | ${f(r.valid.max, 1)} | ${st(r.valid.statuses)} | ${r.flood ? f(r.flood.per_s) : '—'} | ${r.flood ? st(r.flood.statuses) : '—'} | ${r.flood ? f(r.flood.app_cpu_us_per_request) : '—'} | ${f(r.token_lookups)} |`,
    ),
  ].join('\n');
  const knobs = Object.keys(appEnv).length
    ? `App knobs: ${Object.entries(appEnv)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}.`
    : 'App knobs: the defaults (AUTH_FAILURE_LIMIT 100 per 60 s per address, caches of 10,000).';
  const section = `## Failed authentication under a flood (\`npm run bench:auth\`)

Run ${report.date} on ${report.machine}. A valid client (a \`read\` token) sends GET ${PATH} at
${RATE} requests/s (open loop, timed from when each request was due) from 127.0.0.1; in each round,
in a rotated order: the client alone for ${BASELINE_SECONDS} s (baseline), then during a flood of
${f(FLOOD)} requests over ${CONNECTIONS} connections from the same address, each with a distinct
wrong PRIVATE-TOKEN (wrong), and during a flood of as many with no PRIVATE-TOKEN (none).
${ROUNDS} rounds after a warm-up (${f(WARM_UP)} requests of each flood, not measured); the figures
below the table are medians over the rounds. ${knobs} Load generator, app and
Postgres share the machine. Token lookups: the token queries the app sent Postgres in the phase
(counted on the wire by a relay between them).

${table}

- valid client p99: baseline **${f(p99.baseline, 1)} ms**, under the wrong-token flood **${f(p99.wrong, 1)} ms**,
  under the no-header flood **${f(p99.none, 1)} ms**
- **p99 ratio wrong/none: ${f(report.p99_ratio_wrong_vs_none, 2)}** (target ≤ 1.2)
- rejections/s: wrong tokens ${f(rate.wrong)}, no header ${f(rate.none)}:
  **ratio ${f(report.rejection_rate_ratio_wrong_vs_none, 2)}** (target ≥ 0.9)
- the valid client's answers over the whole run: ${st(report.valid_client_statuses)}`;
  writeSection('auth', section);
}

function latency(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  return { count: sorted.length, p50: at(50), p99: at(99), max: sorted.at(-1) };
}

/**
 * A loopback relay in front of Postgres that counts the statements matching `pattern` the app
 * sends (simple Query and Parse messages of protocol 3.0). Posts the URL to give the app, then
 * answers each 'count' message with the count so far.
 */
async function relay(databaseUrl, pattern) {
  const target = new URL(databaseUrl);
  let lookups = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    let buffer = Buffer.alloc(0);
    let started = false;
    client.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (!started) {
          // startup, or an SSL/GSS request that another untyped message follows
          if (buffer.length < 8 || buffer.length < buffer.readInt32BE(0)) {
            return;
          }
          const code = buffer.readInt32BE(4);
          started = code !== 80877103 && code !== 80877104;
          buffer = buffer.subarray(buffer.readInt32BE(0));
          continue;
        }
        if (buffer.length < 5 || buffer.length < 1 + buffer.readInt32BE(1)) {
          return;
        }
        const type = String.fromCharCode(buffer[0]);
        if (type === 'Q' || type === 'P') {
          const start = type === 'P' ? buffer.indexOf(0, 5) + 1 : 5;
          if (pattern.test(buffer.toString('utf8', start, buffer.indexOf(0, start)))) {
            lookups++;
          }
        }
        buffer = buffer.subarray(1 + buffer.readInt32BE(1));
      }
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(server.address().port);
  parentPort.postMessage({ url: url.toString() });
  parentPort.on('message', (msg) => {
    if (msg === 'count') {
      parentPort.postMessage({ lookups });
    } else if (msg === 'exit') {
      process.exit(0);
    }
  });
}
