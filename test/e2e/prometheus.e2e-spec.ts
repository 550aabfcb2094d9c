import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import request from 'supertest';
import { makeJid } from '../factories/job-event.factory.js';
import { redisUrlForDb } from '../integration/sidekiq/sidekiq-test-app.js';
import { exposedNames, metricNames, variableSelector } from '../support/promql.js';
import { SidekiqWriter } from '../support/sidekiq-writer.js';
import { TEST_TOKEN, TestApp } from '../support/test-context.js';
import { eventually } from '../support/eventually.js';

// Debian's prometheus package (scripts/ensure-prometheus.sh)
const PROMTOOL = '/usr/bin/promtool';
const PROMETHEUS = '/usr/bin/prometheus';
const DASHBOARD_FILE = new URL('../../deploy/grafana/sidekiq-supervisor.json', import.meta.url);
const RULES_FILE = new URL('../../deploy/prometheus/rules.yml', import.meta.url).pathname;

// DB 3, and namespaces of its own within it: only these keys are written and removed here
const REDIS = redisUrlForDb(3);
const NAMESPACES = ['prom-default', 'prom-shard'];
const OWN_ENV = [
  'METRICS_PUBLIC',
  'METRICS_CACHE_MS',
  'SIDEKIQ_INSTANCES',
  'SIDEKIQ_NAMESPACE',
  'STATSD_HOST',
];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], stdin = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Prometheus scrapes and evaluates on its own schedule: a minute of patience, asked every 0.5 s
const until = <T>(what: string, probe: () => Promise<T | undefined>) =>
  eventually(what, probe, { timeoutMs: 60_000, intervalMs: 500 });

/** A real Prometheus in a temporary directory of its own, on a free loopback port. */
class RealPrometheus {
  private log = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly dir: string,
  ) {
    const keep = (c: Buffer) => (this.log = (this.log + c.toString()).slice(-20_000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  static async start(config: string): Promise<RealPrometheus> {
    const dir = await mkdtemp(join(tmpdir(), 'prometheus-e2e-'));
    const configFile = join(dir, 'prometheus.yml');
    await writeFile(configFile, config);
    const check = await run(PROMTOOL, ['check', 'config', configFile]);
    expect(check, check.stdout + check.stderr).toMatchObject({ code: 0 });
    const port = await freePort();
    const child = spawn(
      PROMETHEUS,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const prometheus = new RealPrometheus(child, `http://127.0.0.1:${port}`, dir);
    await until('Prometheus to be ready', async () =>
      (await fetch(`${prometheus.url}/-/ready`)).ok ? true : undefined,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${prometheus.log}`);
    });
    return prometheus;
  }

  async api<T>(path: string, params: Record<string, string> = {}): Promise<T> {
    const url = new URL(`/api/v1/${path}`, this.url);
    for (const [k, v] of Object.entries(params)) {
      url.searchParams.set(k, v);
    }
    const body = (await (await fetch(url)).json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') {
      throw new Error(`${path} ${JSON.stringify(params)}: ${body.error}`);
    }
    return body.data;
  }

  async query(expr: string): Promise<VectorSample[]> {
    const data = await this.api<{ resultType: string; result: VectorSample[] }>('query', {
      query: expr,
    });
    return data.result;
  }

  get logTail(): string {
    return this.log.slice(-4000);
  }

  /** Stops this Prometheus by its PID, waits for it to exit, and removes its directory. */
  async stop(): Promise<void> {
    const pid = this.child.pid;
    if (pid !== undefined && this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      process.kill(pid, 'SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
      if (!done) {
        process.kill(pid, 'SIGKILL');
        await exited;
      }
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

interface Target {
  refId: string;
  expr: string;
  datasource: { type: string; uid: string };
}

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}

interface Dashboard {
  uid: string;
  title: string;
  id: null;
  __inputs: { name: string; type: string; pluginId: string }[];
  panels: Panel[];
  templating: { list: { name: string; query: { query: string }; datasource: unknown }[] };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
const dashboardExprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
const variableQueries = dashboard.templating.list.map((v) => v.query.query);

/** A dashboard expression as Grafana sends it with every variable on "All". */
const asGrafanaSends = (expr: string) =>
  expr
    .replaceAll('$__rate_interval', '5s')
    .replaceAll(/\$(sidekiq_instance|queue|job_class)\b/g, '.*');

describe('Prometheus, promtool and the Grafana dashboard, for real (e2e)', () => {
  let ctx: TestApp;
  let plain: SidekiqWriter;
  let shard: SidekiqWriter;
  let base: string;
  let readToken: string;
  const saved: Record<string, string | undefined> = {};

  const scrape = async () => {
    const res = await fetch(`${base}/metrics`, {
      headers: { authorization: `Bearer ${readToken}` },
    });
    expect(res.status).toBe(200);
    return res.text();
  };

  const removeOwnKeys = async () => {
    const redis = new Redis(REDIS, { maxRetriesPerRequest: 1 });
    try {
      for (const ns of NAMESPACES) {
        const keys = await redis.keys(`${ns}:*`);
        if (keys.length > 0) {
          await redis.del(...keys);
        }
      }
    } finally {
      redis.disconnect();
    }
  };

  beforeAll(async () => {
    for (const tool of [PROMTOOL, PROMETHEUS]) {
      if (!existsSync(tool)) {
        throw new Error(`${tool} is missing: run bash scripts/ensure-prometheus.sh`);
      }
    }
    for (const name of OWN_ENV) {
      saved[name] = process.env[name];
    }
    await removeOwnKeys();
    plain = SidekiqWriter.connect(REDIS, 'v6', 'prom-default');
    shard = SidekiqWriter.connect(REDIS, 'v6', 'prom-shard');
    ctx = await TestApp.start({
      env: {
        REDIS_URL: REDIS,
        SIDEKIQ_NAMESPACE: 'prom-default',
        SIDEKIQ_INSTANCES: `shard=${REDIS}?namespace=prom-shard`,
        METRICS_PUBLIC: 'false',
        METRICS_CACHE_MS: '0',
        STATSD_HOST: '',
      },
    });
    await ctx.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(ctx.http.address() as AddressInfo).port}`;

    const token = async (scopes: string[]) =>
      (
        await request(ctx.http)
          .post('/api/v1/tokens')
          .set('PRIVATE-TOKEN', TEST_TOKEN)
          .send({ name: `prometheus-${scopes.join('-')}`, scopes })
          .expect(201)
      ).body.token as string;
    readToken = await token(['read']);
    const ingestToken = await token(['ingest']);

    const now = Date.now();
    for (let i = 0; i < 3; i++) {
      await plain.push({ queue: 'critical' }, now - 5_000);
    }
    // waiting 20 minutes: past the latency alert's threshold
    await plain.push({ queue: 'low' }, now - 20 * 60_000);
    for (let i = 0; i < 5; i++) {
      await shard.push({ queue: 'critical' }, now - 1_000);
    }
    await plain.heartbeat({
      identity: 'web-1:101:aaaaaaaaaaaa',
      hostname: 'web-1',
      pid: 101,
      startedAt: now / 1000 - 60,
      concurrency: 10,
      queues: ['critical', 'low'],
      busy: 2,
    });
    await plain.stat('processed', 40);
    await plain.stat('failed', 3);

    // lifecycle events, so that every per-class series exists: InvoiceJob succeeds three times
    // and fails once for good (dead), MailJob fails and is retried
    const at = (ms: number) => new Date(now - 60_000 + ms).toISOString();
    const events: Record<string, unknown>[] = [];
    const invoice = { job_class: 'InvoiceJob', queue: 'critical' };
    [200, 400, 600, 800].forEach((runMs, n) => {
      const job_id = makeJid();
      const start = n * 1000 + 100;
      events.push(
        { type: 'queued', job_id, occurred_at: at(n * 1000), ...invoice },
        { type: 'started', job_id, occurred_at: at(start), enqueued_at: at(n * 1000), ...invoice },
        n < 3
          ? { type: 'succeeded', job_id, occurred_at: at(start + runMs), duration_ms: runMs }
          : {
              type: 'failed',
              job_id,
              occurred_at: at(start + runMs),
              will_retry: false,
              error_class: 'Timeout',
              duration_ms: runMs,
            },
      );
      if (n === 3) {
        events.push({ type: 'dead', job_id, occurred_at: at(start + runMs + 1) });
      }
    });
    const mail = makeJid();
    events.push(
      { type: 'queued', job_id: mail, occurred_at: at(0), job_class: 'MailJob', queue: 'low' },
      { type: 'started', job_id: mail, occurred_at: at(50), enqueued_at: at(0) },
      {
        type: 'failed',
        job_id: mail,
        occurred_at: at(150),
        will_retry: true,
        error_class: 'SMTPError',
        duration_ms: 100,
      },
      { type: 'retrying', job_id: mail, occurred_at: at(151), retry_count: 0 },
    );
    const ingested = await fetch(`${base}/api/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ingestToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ events }),
    });
    expect(ingested.status).toBe(200);
  });

  afterAll(async () => {
    await plain?.close();
    await shard?.close();
    await ctx?.close();
    await removeOwnKeys();
    for (const name of OWN_ENV) {
      if (saved[name] === undefined) {
        delete process.env[name];
      } else {
        process.env[name] = saved[name];
      }
    }
  });

  it('passes `promtool check metrics` on a real scrape, with no warning', async () => {
    const text = await scrape();
    // the scrape holds every kind of series: Sidekiq state, per-class histograms, Node's own
    expect(text).toMatch(/^sidekiq_queue_size\{sidekiq_instance="shard",queue="critical"\} 5$/m);
    expect(text).toMatch(/^sidekiq_job_run_seconds_bucket\{[^}]*job_class="InvoiceJob"/m);
    expect(text).toMatch(/^nodejs_active_handles\{type="/m);
    const checked = await run(PROMTOOL, ['check', 'metrics'], text);
    expect({ code: checked.code, output: (checked.stdout + checked.stderr).trim() }).toEqual({
      code: 0,
      output: '',
    });
    // and this promtool does reject what prom-client registers by default
    const stock = await run(
      PROMTOOL,
      ['check', 'metrics'],
      '# HELP nodejs_active_handles_total Total number of active handles.\n' +
        '# TYPE nodejs_active_handles_total gauge\nnodejs_active_handles_total 3\n',
    );
    expect(stock.code).not.toBe(0);
    expect(stock.stdout + stock.stderr).toContain('non-counter metrics should not have "_total"');
  });

  it('ships an importable Grafana dashboard whose every series is in a real scrape', async () => {
    expect(dashboard).toMatchObject({ uid: 'sidekiq-supervisor', title: 'Sidekiq Supervisor' });
    expect(dashboard.id).toBeNull();
    expect(dashboard.__inputs).toEqual([
      expect.objectContaining({
        name: 'DS_PROMETHEUS',
        type: 'datasource',
        pluginId: 'prometheus',
      }),
    ]);
    const ds = { type: 'prometheus', uid: '${DS_PROMETHEUS}' };
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect(panel.datasource, panel.title).toEqual(ds);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect(target.datasource, panel.title).toEqual(ds);
      }
    }
    for (const variable of dashboard.templating.list) {
      expect(variable.datasource).toEqual(ds);
    }

    const used = new Set([
      ...dashboardExprs.flatMap(metricNames),
      ...variableQueries.map(variableSelector).flatMap(metricNames),
    ]);
    // what the dashboard is for: queues, throughput, workers, classes
    expect([...used]).toEqual(
      expect.arrayContaining([
        'sidekiq_queue_size',
        'sidekiq_queue_latency_seconds',
        'sidekiq_processed_jobs',
        'sidekiq_failed_jobs',
        'sidekiq_busy_workers',
        'sidekiq_job_run_seconds_bucket',
        'sidekiq_jobs_failed_total',
        'sidekiq_jobs_succeeded_total',
      ]),
    );
    const exposed = exposedNames(await scrape());
    expect([...used].filter((name) => !exposed.has(name))).toEqual([]);
    // every dashboard query groups by the Sidekiq instance's label, never by the target's
    for (const expr of dashboardExprs) {
      expect(expr).not.toMatch(/[{(,\s]instance\b/);
    }
  });

  it('is scraped by a real Prometheus with a Bearer token; the queue size series, the dashboard queries and the rules evaluate', async () => {
    const rules = await run(PROMTOOL, ['check', 'rules', RULES_FILE]);
    expect(rules, rules.stdout + rules.stderr).toMatchObject({ code: 0 });
    const { port } = new URL(base);
    const prometheus = await RealPrometheus.start(
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 1s',
        '  evaluation_interval: 1s',
        'rule_files:',
        `  - ${JSON.stringify(RULES_FILE)}`,
        'scrape_configs:',
        '  - job_name: sidekiq-supervisor',
        '    authorization:',
        '      type: Bearer',
        `      credentials: ${JSON.stringify(readToken)}`,
        '    static_configs:',
        `      - targets: ["127.0.0.1:${port}"]`,
        '',
      ].join('\n'),
    );
    try {
      const target = `127.0.0.1:${port}`;
      const health = await until('the target to be up', async () => {
        const data = await prometheus.api<{
          activeTargets: { health: string; lastError: string; labels: Record<string, string> }[];
        }>('targets');
        const t = data.activeTargets.find((a) => a.labels.instance === target);
        return t && t.health !== 'unknown' ? t : undefined;
      });
      expect(health, prometheus.logTail).toMatchObject({ health: 'up', lastError: '' });

      const sizes = await until('sidekiq_queue_size in Prometheus', async () => {
        const result = await prometheus.query('sidekiq_queue_size');
        return result.some((s) => s.metric.sidekiq_instance === 'shard') ? result : undefined;
      });
      const critical = sizes
        .filter((s) => s.metric.queue === 'critical')
        .map((s) => ({ labels: s.metric, value: s.value[1] }))
        .sort((a, b) => a.labels.sidekiq_instance.localeCompare(b.labels.sidekiq_instance));
      expect(critical).toEqual([
        {
          labels: {
            __name__: 'sidekiq_queue_size',
            instance: target,
            job: 'sidekiq-supervisor',
            queue: 'critical',
            sidekiq_instance: 'default',
          },
          value: '3',
        },
        {
          labels: {
            __name__: 'sidekiq_queue_size',
            instance: target,
            job: 'sidekiq-supervisor',
            queue: 'critical',
            sidekiq_instance: 'shard',
          },
          value: '5',
        },
      ]);
      expect(await prometheus.query('count({exported_instance=~".+"})')).toEqual([]);

      // every dashboard query, as Grafana sends it with "All" selected, returns series
      for (const expr of [...dashboardExprs, ...variableQueries.map(variableSelector)]) {
        const sent = asGrafanaSends(expr);
        const result = await until(`a result for ${sent}`, async () => {
          const r = await prometheus.query(sent);
          return r.length > 0 ? r : undefined;
        });
        expect(result.length, sent).toBeGreaterThan(0);
      }

      // the rules load and evaluate; a job dying now fires the dead-set alert, the 20 minutes old
      // job on "low" makes the latency alert pending
      const evaluated = await until('every rule evaluated', async () => {
        const data = await prometheus.api<{
          groups: {
            rules: { name: string; query: string; health: string; lastEvaluation: string }[];
          }[];
        }>('rules');
        const all = data.groups.flatMap((g) => g.rules);
        return all.length > 0 && all.every((r) => !r.lastEvaluation.startsWith('0001'))
          ? all
          : undefined;
      });
      expect(evaluated.map((r) => ({ name: r.name, health: r.health }))).toEqual(
        [
          'SidekiqInstanceUnreadable',
          'SidekiqQueueLatencyHigh',
          'SidekiqQueueLatencyCritical',
          'SidekiqQueueBacklogGrowing',
          'SidekiqNoProcesses',
          'SidekiqDeadJobsGrowing',
          'SidekiqJobClassFailing',
        ].map((name) => ({ name, health: 'ok' })),
      );
      const exposed = exposedNames(await scrape());
      const missing = evaluated.flatMap((r) => metricNames(r.query)).filter((n) => !exposed.has(n));
      expect(missing).toEqual([]);
      await plain.dead({ queue: 'critical' }, Math.floor(Date.now() / 1000));
      const alerts = await until('the dead-set alert to fire', async () => {
        const data = await prometheus.api<{
          alerts: { labels: Record<string, string>; state: string }[];
        }>('alerts');
        const fired = data.alerts.some(
          (a) =>
            a.labels.alertname === 'SidekiqDeadJobsGrowing' &&
            a.labels.sidekiq_instance === 'default' &&
            a.state === 'firing',
        );
        return fired ? data.alerts : undefined;
      });
      expect(
        alerts
          .filter((a) => a.labels.alertname === 'SidekiqQueueLatencyHigh')
          .map((a) => ({ ...a.labels, state: a.state })),
      ).toEqual([
        {
          alertname: 'SidekiqQueueLatencyHigh',
          queue: 'low',
          severity: 'warning',
          sidekiq_instance: 'default',
          state: 'pending',
        },
      ]);
      expect(
        alerts.filter((a) => a.labels.alertname === 'SidekiqDeadJobsGrowing').map((a) => a.labels),
      ).toEqual([
        { alertname: 'SidekiqDeadJobsGrowing', severity: 'warning', sidekiq_instance: 'default' },
      ]);
    } finally {
      await prometheus.stop();
    }
  });
});
