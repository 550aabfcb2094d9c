import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Gitlab, GitbeakerRequestError } from '@gitbeaker/rest';
import request from 'supertest';
import { redisUrlForDb } from '../integration/sidekiq/sidekiq-test-app.js';
import { SidekiqWriter } from '../support/sidekiq-writer.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { TEST_TOKEN, TestApp } from '../support/test-context.js';
import { eventually } from '../support/eventually.js';

// GitLab's Sidekiq Metrics API through the real GitLab clients: Debian's python3-gitlab (installed
// by scripts/ensure-python-gitlab.sh) and npm's @gitbeaker/rest, against the app listening on a
// real port, with Sidekiq-shaped data in Redis. Their answers are compared with GitLab's documented
// example responses (test/fixtures/gitlab) for shape and with what was written for values.

const ROOT = resolve(import.meta.dirname, '../..');
// Debian's interpreter by path: a python3 earlier on PATH (pyenv, venv) does not see dist-packages
const PYTHON = '/usr/bin/python3';
const SCRIPT = join(ROOT, 'test/python/gitlab_sidekiq.py');
// DB 15 is also the metrics e2e's; this file keeps to its own namespace and deletes only that
const NAMESPACE = 'gitlab_clients';
const REDIS = redisUrlForDb(15);
const CALLS = ['queue_metrics', 'process_metrics', 'job_stats', 'compound_metrics'] as const;
type Call = (typeof CALLS)[number];

const EXAMPLES = JSON.parse(
  readFileSync(join(ROOT, 'test/fixtures/gitlab/sidekiq-metrics-examples.json'), 'utf8'),
) as Record<Call, Record<string, unknown>>;

function kind(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  if (Array.isArray(value)) {
    return 'array';
  }
  if (typeof value === 'number') {
    return Number.isInteger(value) ? 'integer' : 'number';
  }
  return typeof value;
}

/**
 * Where `actual` differs in shape from GitLab's example `doc`, one line per difference (empty when
 * the shapes agree): the same keys and the same JSON types, recursively. Two rules read the
 * examples as GitLab means them: `queues` at the top is keyed by queue name (every queue is shaped
 * like the example's `default`), and an empty array in the example (`labels: []`) fixes only that
 * the value is an array.
 */
function shapeDiff(actual: unknown, doc: unknown, path = '$'): string[] {
  if (kind(actual) !== kind(doc)) {
    return [`${path}: ${kind(actual)} where GitLab has ${kind(doc)}`];
  }
  if (Array.isArray(doc)) {
    const items = actual as unknown[];
    return doc.length === 0
      ? []
      : items.flatMap((item, i) => shapeDiff(item, doc[0], `${path}[${i}]`));
  }
  if (kind(doc) !== 'object') {
    return [];
  }
  const ours = actual as Record<string, unknown>;
  const theirs = doc as Record<string, unknown>;
  if (path === '$.queues') {
    const example = Object.values(theirs)[0];
    return Object.entries(ours).flatMap(([name, q]) => shapeDiff(q, example, `${path}.${name}`));
  }
  const missing = Object.keys(theirs).filter((k) => !(k in ours));
  const extra = Object.keys(ours).filter((k) => !(k in theirs));
  return [
    ...missing.map((k) => `${path}.${k}: missing`),
    ...extra.map((k) => `${path}.${k}: not in GitLab's example`),
    ...Object.keys(theirs)
      .filter((k) => k in ours)
      .flatMap((k) => shapeDiff(ours[k], theirs[k], `${path}.${k}`)),
  ];
}

interface PythonCall {
  type: string;
  value?: Record<string, unknown>;
  status?: number;
  content_type?: string;
  exception?: string;
  response_code?: number;
  error_message?: string;
}

type PythonOutput = { python_gitlab: string } & Record<Call, PythonCall>;

async function pythonGitlab(url: string, token: string): Promise<PythonOutput> {
  const { stdout } = await promisify(execFile)(PYTHON, [SCRIPT, url, token], { timeout: 60_000 });
  return JSON.parse(stdout) as PythonOutput;
}

async function gitbeakerError(call: () => Promise<unknown>) {
  try {
    await call();
  } catch (error) {
    expect(error).toBeInstanceOf(GitbeakerRequestError);
    const e = error as GitbeakerRequestError;
    return { status: e.cause?.response?.status, message: e.message };
  }
  throw new Error('gitbeaker resolved where an error was expected');
}

describe('GitLab API clients: python-gitlab and gitbeaker on the Sidekiq Metrics API (e2e)', () => {
  let ctx: TestApp;
  let proxy: TcpProxy;
  let writer: SidekiqWriter;
  let base: string;
  let readToken: string;
  let ingestToken: string;
  /** The bodies the service sends, by route, read with supertest: what the clients must return. */
  const served: Partial<Record<Call, Record<string, unknown>>> = {};
  const now = Date.now();

  const clearNamespace = async () => {
    for await (const keys of writer.redis.scanStream({ match: `${NAMESPACE}:*`, count: 500 })) {
      if ((keys as string[]).length > 0) {
        await writer.redis.del(...(keys as string[]));
      }
    }
  };

  /** Redis reachable again, and the service reading it: job_stats answers 200. */
  const restoreRedis = async () => {
    await proxy.restore();
    await eventually(
      'job_stats to answer again',
      async () =>
        (await request(ctx.http).get('/api/v4/sidekiq/job_stats').set('PRIVATE-TOKEN', readToken))
          .status === 200,
    );
  };

  const token = async (scopes: string[]) =>
    (
      await request(ctx.http)
        .post('/api/v1/tokens')
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .send({ name: `gitlab-clients-${scopes.join('-')}`, scopes })
        .expect(201)
    ).body.token as string;

  beforeAll(async () => {
    await promisify(execFile)('bash', [join(ROOT, 'scripts/ensure-python-gitlab.sh')]);
    writer = SidekiqWriter.connect(REDIS, 'v6', NAMESPACE);
    await clearNamespace();
    // three queues, two live processes, counters, one dead job
    for (let i = 0; i < 3; i++) {
      await writer.push({ queue: 'default' }, now - 40_000 + i * 1000);
    }
    await writer.push({ queue: 'mailers' }, now - 5_000);
    await writer.push({ queue: 'low' }, now - 120_000);
    await writer.push({ queue: 'low' }, now - 60_000);
    await writer.heartbeat({
      identity: 'worker-1:4242:0123456789ab',
      hostname: 'worker-1',
      pid: 4242,
      startedAt: 1_718_000_000.25,
      tag: 'app',
      concurrency: 25,
      queues: ['default', 'mailers'],
      labels: ['reliable'],
      busy: 2,
    });
    await writer.heartbeat({
      identity: 'worker-2:4343:ba9876543210',
      hostname: 'worker-2',
      pid: 4343,
      startedAt: 1_718_000_100,
      concurrency: 5,
      queues: ['low'],
      busy: 0,
    });
    await writer.stat('processed', 9);
    await writer.stat('failed', 2);
    await writer.dead({ queue: 'default' }, Math.floor(now / 1000));

    const target = new URL(REDIS);
    proxy = new TcpProxy(target.hostname, Number(target.port));
    const viaProxy = new URL(target);
    viaProxy.port = String(await proxy.start());
    viaProxy.searchParams.set('namespace', NAMESPACE);
    ctx = await TestApp.start({ env: { REDIS_URL: viaProxy.toString() } });
    await ctx.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(ctx.http.address() as AddressInfo).port}`;
    readToken = await token(['read']);
    ingestToken = await token(['ingest']);
    for (const call of CALLS) {
      served[call] = (
        await request(ctx.http)
          .get(`/api/v4/sidekiq/${call}`)
          .set('PRIVATE-TOKEN', readToken)
          .expect(200)
      ).body as Record<string, unknown>;
    }
  });

  afterAll(async () => {
    await ctx?.close();
    await proxy?.stop();
    if (writer) {
      await clearNamespace();
      await writer.close();
    }
  });

  it('serves what was written, in the shape of GitLab’s documented examples', () => {
    const compound = served.compound_metrics!;
    expect(compound.jobs).toEqual({ processed: 9, failed: 2, enqueued: 6, dead: 1 });
    const queues = compound.queues as Record<string, { backlog: number; latency: number }>;
    expect(Object.keys(queues)).toEqual(['default', 'low', 'mailers']);
    expect([queues.default.backlog, queues.low.backlog, queues.mailers.backlog]).toEqual([3, 2, 1]);
    expect(queues.low.latency).toBeGreaterThanOrEqual(120);
    expect(queues.default.latency).toBeGreaterThanOrEqual(40);
    expect(queues.default.latency).toBeLessThan(queues.low.latency);
    const processes = compound.processes as { hostname: string; labels: string[] }[];
    expect(processes.map((p) => p.hostname).sort()).toEqual(['worker-1', 'worker-2']);
    for (const call of CALLS) {
      expect({ call, diff: shapeDiff(served[call], EXAMPLES[call]) }).toEqual({ call, diff: [] });
    }
  });

  it('python-gitlab: gl.sidekiq.* return dicts equal to what the service sends, shaped like GitLab’s examples', async () => {
    const out = await pythonGitlab(base, readToken);
    for (const call of CALLS) {
      // before the fix: {"type": "Response", "content_type": "application/json; charset=utf-8"}
      expect({ call, type: out[call].type, content_type: out[call].content_type }).toEqual({
        call,
        type: 'dict',
        content_type: undefined,
      });
      expect({ call, diff: shapeDiff(out[call].value, EXAMPLES[call]) }).toEqual({
        call,
        diff: [],
      });
      const value = out[call].value!;
      if (call === 'compound_metrics' || call === 'queue_metrics') {
        // latency is read at call time: compare it apart from the backlogs
        const queues = value.queues as Record<string, { backlog: number; latency: number }>;
        const want = served[call]!.queues as typeof queues;
        expect(Object.keys(queues)).toEqual(Object.keys(want));
        for (const [name, q] of Object.entries(queues)) {
          expect({ name, backlog: q.backlog }).toEqual({ name, backlog: want[name].backlog });
          expect(q.latency).toBeGreaterThanOrEqual(want[name].latency);
        }
        expect({ ...value, queues: {} }).toEqual({ ...served[call], queues: {} });
      } else {
        expect(value).toEqual(served[call]);
      }
    }
  });

  it('gitbeaker: SidekiqMetrics.* return the bodies as sent (keys not camelized), shaped like GitLab’s examples', async () => {
    const api = new Gitlab({ host: base, token: readToken });
    const results: Record<Call, unknown> = {
      queue_metrics: await api.SidekiqMetrics.queueMetrics(),
      process_metrics: await api.SidekiqMetrics.processMetrics(),
      job_stats: await api.SidekiqMetrics.jobStats(),
      compound_metrics: await api.SidekiqMetrics.compoundMetrics(),
    };
    for (const call of CALLS) {
      const value = results[call] as Record<string, unknown>;
      expect({ call, diff: shapeDiff(value, EXAMPLES[call]) }).toEqual({ call, diff: [] });
      if ('queues' in value) {
        const queues = value.queues as Record<string, { backlog: number }>;
        const want = served[call]!.queues as typeof queues;
        expect(Object.entries(queues).map(([n, q]) => [n, q.backlog])).toEqual(
          Object.entries(want).map(([n, q]) => [n, q.backlog]),
        );
      }
      expect({ ...value, queues: null }).toEqual({ ...served[call], queues: null });
    }
    const process = (results.process_metrics as { processes: Record<string, unknown>[] })
      .processes[0];
    expect(Object.keys(process)).toContain('started_at');
  });

  it('answers Content-Type: application/json exactly, as GitLab does, on every /api/v4 answer: 200, 401, 403, 404, 503', async () => {
    const get = async (path: string, token?: string) => {
      const res = await fetch(`${base}${path}`, {
        headers: token ? { 'PRIVATE-TOKEN': token } : {},
      });
      return {
        path,
        status: res.status,
        type: res.headers.get('content-type'),
        nosniff: res.headers.get('x-content-type-options'),
        body: (await res.json()) as Record<string, unknown>,
      };
    };
    const exact = { type: 'application/json', nosniff: 'nosniff' };
    for (const call of CALLS) {
      const path = `/api/v4/sidekiq/${call}`;
      expect(await get(path, readToken)).toMatchObject({ path, status: 200, ...exact });
      expect(await get(path)).toMatchObject({
        path,
        status: 401,
        ...exact,
        body: { statusCode: 401, code: 'UNAUTHORIZED' },
      });
      expect(await get(path, ingestToken)).toMatchObject({
        path,
        status: 403,
        ...exact,
        body: { statusCode: 403, code: 'FORBIDDEN' },
      });
    }
    expect(await get('/api/v4/sidekiq/no_such_metrics', readToken)).toMatchObject({
      status: 404,
      ...exact,
      body: { statusCode: 404, code: 'NOT_FOUND' },
    });
    // the service's own API keeps Express's default
    expect((await get('/api/v1/sidekiq/stats', readToken)).type).toBe(
      'application/json; charset=utf-8',
    );

    await proxy.cut();
    try {
      for (const call of CALLS) {
        const path = `/api/v4/sidekiq/${call}`;
        expect(await get(path, readToken)).toMatchObject({
          path,
          status: 503,
          ...exact,
          body: { statusCode: 503, code: 'SIDEKIQ_UNREACHABLE' },
        });
      }
    } finally {
      await restoreRedis();
    }
  });

  it('both clients raise their own errors with the service’s message on 401, 403 and 503', async () => {
    const messageOf = async (path: string, token?: string) =>
      (
        await request(ctx.http)
          .get(path)
          .set(token ? { 'PRIVATE-TOKEN': token } : {})
      ).body.message as string;
    const wrong = 'glpat-not-a-token-of-this-service-000000';
    const unauthorized = await messageOf('/api/v4/sidekiq/job_stats', wrong);
    const forbidden = await messageOf('/api/v4/sidekiq/job_stats', ingestToken);
    expect(unauthorized).toBeTruthy();
    expect(forbidden).toBeTruthy();

    const asWrong = await pythonGitlab(base, wrong);
    const asIngest = await pythonGitlab(base, ingestToken);
    // what python-gitlab raised, as the script reports it
    const raised = (exception: string, code: number, message: string) => ({
      type: 'error',
      exception,
      response_code: code,
      error_message: message,
    });
    for (const call of CALLS) {
      expect(asWrong[call]).toEqual(raised('GitlabAuthenticationError', 401, unauthorized));
      expect(asIngest[call]).toEqual(raised('GitlabGetError', 403, forbidden));
    }
    const gitbeaker = (t: string) => new Gitlab({ host: base, token: t }).SidekiqMetrics;
    expect(await gitbeakerError(() => gitbeaker(wrong).jobStats())).toEqual({
      status: 401,
      message: unauthorized,
    });
    expect(await gitbeakerError(() => gitbeaker(ingestToken).compoundMetrics())).toEqual({
      status: 403,
      message: forbidden,
    });

    await proxy.cut();
    try {
      const unreachable = await messageOf('/api/v4/sidekiq/job_stats', readToken);
      expect(unreachable).toMatch(/unreachable/);
      const down = await pythonGitlab(base, readToken);
      for (const call of CALLS) {
        expect(down[call]).toEqual(raised('GitlabGetError', 503, unreachable));
      }
      expect(await gitbeakerError(() => gitbeaker(readToken).queueMetrics())).toEqual({
        status: 503,
        message: unreachable,
      });
    } finally {
      await restoreRedis();
    }
    // and back: the clients read again once Redis is reachable
    const after = await pythonGitlab(base, readToken);
    expect(after.job_stats).toEqual({ type: 'dict', value: served.job_stats });
  });
});
