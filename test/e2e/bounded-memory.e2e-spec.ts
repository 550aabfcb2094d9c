import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { MAX_OFFSET } from '../../src/common/validation/paging.js';
import { TEST_TOKEN, TestDatabase } from '../support/test-context.js';

// The built service (`node dist/src/main.js`, built by `npm test` before the tiers run) with a
// 256 MB heap, through the requests that used to read everything: lost_jobs over many running
// jobs at deep and absurd offsets, and lists over jobs with multi-MB arguments, several at once.
// It must keep answering, with bounded bodies, and stay alive.
const HEAP_MB = 256;
const RUNNING_JOBS = 100_000;
const BIG_JOBS = 30;
const BIG_BYTES = 4 * 1024 * 1024;
const MAX_LIST_BODY = 1024 * 1024;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('Bounded work and memory on a small heap (e2e, built app as a child process)', () => {
  let db: TestDatabase;
  let child: ChildProcess;
  let base: string;
  let output = '';

  // a crash (heap out of memory aborts) sets signalCode, not exitCode
  const alive = () => child.exitCode === null && child.signalCode === null;

  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`, { headers: { 'PRIVATE-TOKEN': TEST_TOKEN } });
    const text = await res.text();
    return { status: res.status, bytes: Buffer.byteLength(text), text };
  };

  beforeAll(async () => {
    if (!existsSync('dist/src/main.js')) {
      throw new Error('dist/src/main.js is missing: run `npm run build` first');
    }
    db = await TestDatabase.create();
    // running jobs on processes that are gone (no Sidekiq heartbeat in this Redis): all lost
    await db.sql.query(
      `insert into jobs (instance, jid, job_class, queue, arguments, status, attempt, started_at,
         hostname, pid, event_count, first_event_at, last_event_at)
       select 'default', md5('run' || g), 'RunJob', 'default', '["run",' || g || ']', 'running', 0,
         now() - interval '1 hour', 'gone-' || (g % 16), 1000 + g % 16, 2,
         now() - interval '1 hour', now() - interval '1 hour'
       from generate_series(1, $1::int) g`,
      [RUNNING_JOBS],
    );
    // multi-MB arguments of hex text (incompressible enough that TOAST keeps them big)
    await db.sql.query(
      `insert into jobs (instance, jid, job_class, queue, arguments, status, attempt,
         event_count, first_event_at, last_event_at)
       select 'default', md5('big' || g), 'BigJob', 'big',
         '["big",' || g || ',"' || (select string_agg(md5(g || '-' || i), '')
           from generate_series(1, $2::int) i) || '"]',
         'queued', 0, 1, now(), now()
       from generate_series(1, $1::int) g`,
      [BIG_JOBS, BIG_BYTES / 32],
    );
    await db.sql.query('analyze jobs');

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, 'dist/src/main.js'], {
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        REDIS_URL: process.env.TEST_REDIS_URL ?? process.env.REDIS_URL,
        HOST: '127.0.0.1',
        PORT: String(port),
        PRIVATE_TOKEN: TEST_TOKEN,
        NODE_ENV: 'test',
        LOG_LEVEL: 'error',
        SCHEDULER_ENABLED: 'false',
      },
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    for (let i = 0; ; i++) {
      if (!alive()) {
        throw new Error(`the service exited (${child.exitCode ?? child.signalCode}):\n${output}`);
      }
      const ok = await fetch(`${base}/api/v1/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) {
        break;
      }
      if (i > 600) {
        throw new Error(`the service never answered:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  afterAll(async () => {
    if (child && alive()) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await db?.drop();
  });

  afterEach(() => {
    // every case leaves the service alive and answering
    expect(alive(), output.slice(-2000)).toBe(true);
  });

  it('refuses absurd lost-jobs offsets with 400 at once', async () => {
    for (const offset of ['99999999999999999999', '1e21', '1000000', String(MAX_OFFSET + 1)]) {
      const res = await get(`/api/v1/job-manager/lost-jobs?offset=${offset}&limit=1`);
      expect(res.status, res.text).toBe(400);
      expect(JSON.parse(res.text).details.errors[0].field).toBe('offset');
    }
  });

  it('answers the deepest lost-jobs page and full pages of lost jobs', async () => {
    const deep = await get(`/api/v1/job-manager/lost-jobs?offset=${MAX_OFFSET}&limit=1`);
    expect(deep.status, deep.text).toBe(200);
    const page = JSON.parse(deep.text);
    expect(page).toMatchObject({ offset: MAX_OFFSET, limit: 1, next_offset: MAX_OFFSET + 1 });
    expect(page.jobs).toHaveLength(1);
    expect(page.jobs[0].reason).toContain('has no heartbeat');
    const answers = await Promise.all(
      [0, 10_000, 20_000, MAX_OFFSET - 1000].map((offset) =>
        get(`/api/v1/job-manager/lost-jobs?offset=${offset}&limit=1000`),
      ),
    );
    for (const res of answers) {
      expect(res.status, res.text).toBe(200);
      expect(JSON.parse(res.text).jobs).toHaveLength(1000);
      expect(res.bytes).toBeLessThan(MAX_LIST_BODY * 2);
    }
    const uncompleted = await get(`/api/v1/job-manager/uncompleted-jobs?offset=${MAX_OFFSET}`);
    expect(uncompleted.status).toBe(200);
    expect(JSON.parse(uncompleted.text).jobs).toHaveLength(50);
  });

  it('lists jobs with multi-MB arguments as previews, several requests at once', async () => {
    const lists = await Promise.all([
      ...Array.from({ length: 4 }, () => get('/api/v1/jobs?queue=big&limit=100')),
      get('/api/v1/job-manager/queued-jobs?filter=big&limit=1000'),
      get('/api/v1/job-manager/all-jobs?filter=big&limit=1000'),
    ]);
    for (const res of lists) {
      expect(res.status, res.text.slice(0, 500)).toBe(200);
      expect(res.bytes).toBeLessThan(MAX_LIST_BODY);
      const jobs = JSON.parse(res.text).jobs as {
        arguments: string;
        arguments_truncated: boolean;
        arguments_bytes: number;
      }[];
      expect(jobs).toHaveLength(BIG_JOBS);
      for (const job of jobs) {
        expect(job.arguments_truncated).toBe(true);
        expect(job.arguments_bytes).toBeGreaterThan(BIG_BYTES);
        expect(job.arguments.length).toBeLessThan(job.arguments_bytes);
      }
    }
  });

  it('still gives one big job whole on its own route, then answers health', async () => {
    const jid = (await db.sql.query<{ jid: string }>(`select md5('big1') as jid`)).rows[0].jid;
    const res = await get(`/api/v1/jobs/${jid}`);
    expect(res.status).toBe(200);
    const job = JSON.parse(res.text);
    expect(job.arguments_truncated).toBe(false);
    expect(Buffer.byteLength(job.arguments)).toBe(job.arguments_bytes);
    expect(job.arguments_bytes).toBeGreaterThan(BIG_BYTES);
    const health = await fetch(`${base}/api/v1/health`);
    expect(health.status).toBe(200);
  });
});
