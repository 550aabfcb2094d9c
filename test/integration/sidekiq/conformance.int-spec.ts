// Conformance against a real Sidekiq (Debian's ruby-sidekiq 6.4.1): real Ruby code enqueues,
// schedules, fails, retries, kills and runs jobs (a real `sidekiq` server process), then every
// read route is compared with what Sidekiq's Ruby API returns on the same Redis, and every change
// route with the state Ruby's API sees after Ruby made the same change on an identical copy.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import request from 'supertest';
import { flushDb, redisUrlForDb, startSidekiqApp } from './sidekiq-test-app.js';
import { eventually } from '../../support/eventually.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const RUBY_DIR = join(ROOT, 'test/ruby');
const API = '/api/v1/sidekiq';
const A = redisUrlForDb(9); // Ruby seeds it and a real server runs on it
const B = redisUrlForDb(10); // twin changed by Ruby
const C = redisUrlForDb(11); // twin changed by us (instance "twin", declared 6.4.1)

type Json = any;

async function ruby(cmd: string, args: Record<string, unknown> = {}, url = A): Promise<Json> {
  const { stdout } = await run('ruby', ['sidekiq_api.rb', cmd, JSON.stringify(args)], {
    cwd: RUBY_DIR,
    env: { ...process.env, SIDEKIQ_REDIS_URL: url, RUBYOPT: '-W0' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout);
}

/** How Ruby's JSON reads the jobs of one of our responses: jid → JSON.generate of its args. */
async function rubyReads(
  body: string,
): Promise<Record<string, { args: string; display_args: string; display_args_json: string }>> {
  const pending = run('ruby', ['sidekiq_api.rb', 'jobs_in'], {
    cwd: RUBY_DIR,
    env: { ...process.env, SIDEKIQ_REDIS_URL: A, RUBYOPT: '-W0' },
    maxBuffer: 64 * 1024 * 1024,
  });
  pending.child.stdin!.end(body);
  return JSON.parse((await pending).stdout);
}

/**
 * Our arguments are the ones Ruby's API shows, number for number: Ruby reads our response and
 * writes each job's args and display_args again; the texts must be Ruby's own JSON.generate of
 * JobRecord#args and #display_args (so 2**64+1 stays exact and 3.0 stays a Float).
 */
async function expectExactArgs(res: request.Response, theirs: Json[]): Promise<void> {
  const ours = await rubyReads(res.text);
  expect(Object.keys(ours).sort()).toEqual(theirs.map((t) => t.jid).sort());
  for (const t of theirs) {
    expect(ours[t.jid], t.jid).toEqual({
      args: t.args_json,
      display_args: t.display_args_json,
      display_args_json: t.display_args_json,
    });
  }
}

const waitFor = (what: string, check: () => Promise<boolean>, seconds = 40) =>
  eventually(what, check, { timeoutMs: seconds * 1000, intervalMs: 250 });

/** Copies every key of DB A into `target` (flushed first): an identical twin for a change. */
async function twin(redis: Redis, target: string): Promise<void> {
  await flushDb(target);
  const db = Number(new URL(target).pathname.slice(1));
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      await redis.call('COPY', key, key, 'DB', String(db), 'REPLACE');
    }
  } while (cursor !== '0');
}

/** Ruby's view of a whole state, with times written during the change (t0…t1) replaced by NOW. */
function normalize(state: Json, t0: number, t1: number): Json {
  const during = (t: number) => t >= t0 && t <= t1;
  const fix = (raw: string) =>
    raw.replace(/"(enqueued_at|created_at)":([0-9.]+)/g, (m, key: string, v: string) =>
      during(Number(v)) ? `"${key}":"NOW"` : m,
    );
  const score = (s: number) => (during(s) ? 'NOW' : s);
  return {
    stats: state.stats,
    processes: state.processes,
    queues: Object.fromEntries(
      Object.entries(state.queues as Record<string, string[]>).map(([q, list]) => [
        q,
        list.map(fix),
      ]),
    ),
    scheduled: state.scheduled.map(([s, v]: [number, string]) => [score(s), fix(v)]),
    retry: state.retry.map(([s, v]: [number, string]) => [score(s), fix(v)]),
    dead: state.dead.map(([s, v]: [number, string]) => [score(s), fix(v)]),
  };
}

/** JobRecord fields our job JSON carries under Sidekiq's own (snake_case) names. */
const JOB_RECORD_FIELDS = [
  'jid',
  'queue',
  'class',
  'display_class',
  'args',
  'display_args',
  'enqueued_at',
  'created_at',
  'failed_at',
  'retried_at',
  'error_class',
  'error_message',
  'error_backtrace',
  'retry',
  'retry_count',
  'tags',
  'bid',
] as const;

function expectSameJob(ours: Json, theirs: Json): void {
  expect(ours.raw).toBe(theirs.value);
  for (const field of JOB_RECORD_FIELDS) {
    expect(ours[field], field).toEqual(theirs[field]);
  }
  expect(Math.abs(ours.latency - theirs.latency)).toBeLessThan(3);
}

describe('conformance with a real Sidekiq 6.4.1 (Ruby API on the same Redis)', () => {
  let app: INestApplication;
  let redis: Redis;
  let server: ChildProcess | null = null;
  let jids: Json;
  let identity: string;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    await run('bash', [join(ROOT, 'scripts/ensure-ruby.sh')]);
    for (const url of [A, B, C]) {
      await flushDb(url);
    }
    redis = new Redis(A, { maxRetriesPerRequest: 1 });
    // "twin" declares its Sidekiq version (no process ever runs on it); "undeclared" is the same
    // Redis without a declaration
    app = await startSidekiqApp({
      REDIS_URL: A,
      SIDEKIQ_INSTANCES: `twin=${C}?sidekiq_version=6.4.1,undeclared=${C}`,
    });
    jids = await ruby('seed');
    const log = openSync(join(tmpdir(), `sidekiq-conformance-${process.pid}.log`), 'w');
    server = spawn('sidekiq', ['-r', './conformance_jobs.rb', '-C', './sidekiq.yml'], {
      cwd: RUBY_DIR,
      env: { ...process.env, SIDEKIQ_REDIS_URL: A, RUBYOPT: '-W0' },
      stdio: ['ignore', log, log],
    });
    // let the server fail, retry, kill and run: FailJob → retry, DeadJob/QuickRetryJob → dead, SlowJob busy
    await waitFor(
      'the server to settle',
      async () => {
        const [retry, dead, procs] = await Promise.all([
          redis.zcard('retry'),
          redis.zcard('dead'),
          redis.smembers('processes'),
        ]);
        const busy = procs.length === 1 ? Number(await redis.hget(procs[0]!, 'busy')) : 0;
        const queued = await redis.llen('queue:default');
        return retry === 4 && dead === 4 && busy === 1 && queued === 0;
      },
      60,
    );
    identity = (await redis.smembers('processes'))[0]!;
    jids = { ...jids, ...(await ruby('seed_exact')) };
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => server!.once('exit', r));
    }
    await app?.close();
    await redis?.quit();
  });

  describe('reads on the live Redis', () => {
    it('stats match Sidekiq::Stats', async () => {
      const theirs = await ruby('stats');
      const ours = (await http().get(`${API}/stats`).expect(200)).body;
      expect(ours).toMatchObject({
        processed: theirs.processed,
        failed: theirs.failed,
        scheduled_size: theirs.scheduled_size,
        retry_size: theirs.retry_size,
        dead_size: theirs.dead_size,
        processes_size: theirs.processes_size,
        workers_size: theirs.workers_size,
        enqueued: theirs.enqueued,
      });
      expect(Math.abs(ours.default_queue_latency - theirs.default_queue_latency)).toBeLessThan(3);
    });

    it('queue list matches Queue.all with size and latency', async () => {
      const theirs: Json[] = await ruby('queues');
      const ours: Json[] = (await http().get(`${API}/queues`).expect(200)).body;
      expect(ours.map((q) => [q.name, q.size])).toEqual(theirs.map((q) => [q.name, q.size]));
      ours.forEach((q, i) => expect(Math.abs(q.latency - theirs[i].latency)).toBeLessThan(3));
      expect(theirs.find((q) => q.name === 'parked').latency).toBeGreaterThan(0);
    });

    it('a queue page matches Queue#each (newest first) record by record', async () => {
      const theirs: Json[] = await ruby('queue_jobs', { name: 'parked', count: 25 });
      const res = await http().get(`${API}/queues/parked?per_page=25`).expect(200);
      const ours = res.body;
      expect(ours.jobs.map((j: Json) => j.jid)).toEqual(theirs.map((j) => j.jid));
      ours.jobs.forEach((j: Json, i: number) => expectSameJob(j, theirs[i]));
      await expectExactArgs(res, theirs);
      // JobRecord#queue is the list read from: also for a payload without a queue field
      const noQueue = ours.jobs.find((j: Json) => j.jid === jids.no_queue);
      expect(JSON.parse(noQueue.raw).queue).toBeUndefined();
      expect(noQueue.queue).toBe('parked');
      const page2 = (await http().get(`${API}/queues/parked?per_page=3&page=2`).expect(200)).body;
      expect(page2.jobs.map((j: Json) => j.jid)).toEqual(theirs.slice(3, 6).map((j) => j.jid));
    });

    it('Queue#find_job: Active Job and mailer records decode like JobRecord', async () => {
      for (const jid of [
        jids.parked_aj,
        jids.parked_mailer,
        jids.parked_bid,
        jids.parked_tags,
        jids.exact,
        jids.no_queue,
      ]) {
        const theirs = await ruby('queue_find', { name: 'parked', jid });
        const res = await http().get(`${API}/queues/parked/jobs/${jid}`).expect(200);
        expectSameJob(res.body, theirs);
        await expectExactArgs(res, [theirs]);
      }
      const exact = await ruby('queue_find', { name: 'parked', jid: jids.exact });
      expect(exact.args_json).toBe(
        '[18446744073709551617,3.0,1.0e+20,-0.0,0.1,1.0e-05,{"n":[1180591620717411303424,1.5]}]',
      );
      expect(await ruby('queue_find', { name: 'parked', jid: '0'.repeat(24) })).toBeNull();
      await http()
        .get(`${API}/queues/parked/jobs/${'0'.repeat(24)}`)
        .expect(404);
    });

    it.each(['scheduled', 'retry', 'dead'])(
      'the %s set matches JobSet#each, find_job and scan',
      async (set) => {
        const theirs: Json[] = await ruby('set_each', { set });
        const res = await http().get(`${API}/sets/${set}?direction=desc&per_page=500`).expect(200);
        const ours = res.body;
        expect(ours.size).toBe(theirs.length);
        expect(ours.entries.map((e: Json) => [e.score, e.jid])).toEqual(
          theirs.map((e) => [e.score, e.jid]),
        );
        ours.entries.forEach((e: Json, i: number) => expectSameJob(e, theirs[i]));
        expect(ours.entries.map((e: Json) => e.key)).toEqual(theirs.map((e) => e.key));
        if (set === 'scheduled') {
          expect(theirs.map((e) => e.key)).toContain(`1924992000.0-${jids.exact_scheduled}`);
        }
        await expectExactArgs(res, theirs);
        const target = theirs[theirs.length - 1];
        const found = await http().get(`${API}/sets/${set}/jobs/${target.jid}`).expect(200);
        const theirFind = await ruby('set_find', { set, jid: target.jid });
        expectSameJob(found.body, theirFind);
        await expectExactArgs(found, [theirFind]);
        for (const match of [
          '"args":["f1"',
          'Parked',
          target.jid.slice(0, 10),
          'no-such-text',
          '18446744073709551617',
        ]) {
          const scanned: Json[] = await ruby('set_scan', { set, match });
          const search = await http()
            .get(`${API}/sets/${set}`)
            .query({ search: match, per_page: 500 })
            .expect(200);
          expect(search.body.entries.map((e: Json) => e.jid).sort()).toEqual(
            scanned.map((e) => e.jid).sort(),
          );
          await expectExactArgs(search, scanned);
        }
      },
    );

    it('processes match ProcessSet', async () => {
      const theirs: Json[] = await ruby('processes');
      const ours: Json[] = (await http().get(`${API}/processes`).expect(200)).body;
      expect(ours).toHaveLength(theirs.length);
      const [o, t] = [ours[0], theirs[0]];
      expect(o).toMatchObject({
        identity: t.identity,
        hostname: t.hostname,
        pid: t.pid,
        tag: t.tag,
        labels: t.labels,
        queues: t.queues,
        concurrency: t.concurrency,
        busy: t.busy,
        started_at: t.started_at,
        quiet: t.quiet === 'true',
        stopping: t.stopping,
      });
      expect(Math.abs(o.beat - t.beat)).toBeLessThan(6);
      expect(o.rss).toBeGreaterThan(0);
      expect(typeof t.rss).toBe('number');
    });

    it('workers match WorkSet', async () => {
      const theirs: Json[] = await ruby('workers');
      const ours: Json[] = (await http().get(`${API}/workers`).expect(200)).body;
      expect(ours.map((w) => [w.process, w.thread, w.queue, w.run_at])).toEqual(
        theirs.map((w) => [w.process, w.thread, w.work.queue, w.work.run_at]),
      );
      expect(ours.map((w) => JSON.parse(w.job.raw))).toEqual(theirs.map((w) => w.work.payload));
      expect(ours[0].job).toMatchObject({ jid: jids.slow, class: 'SlowJob' });
    });

    it('stats history matches Stats::History', async () => {
      const start = new Date().toISOString().slice(0, 10);
      const theirs = await ruby('history', { days: 5, start });
      const ours = (await http().get(`${API}/stats/history?days=5&start_date=${start}`).expect(200))
        .body;
      expect(ours.processed).toEqual(theirs.processed);
      expect(ours.failed).toEqual(theirs.failed);
      expect(Object.keys(ours.processed)).toEqual(Object.keys(theirs.processed));
    });
  });

  describe('quiet and stop reach the real server', () => {
    it('quiet: the server stops fetching and Ruby sees it stopping', async () => {
      await http().post(`${API}/processes/${identity}/quiet`).expect(200);
      await waitFor('Ruby to see the process quiet', async () => {
        const procs: Json[] = await ruby('processes');
        return procs.length === 1 && procs[0].stopping === true;
      });
      const ours = (await http().get(`${API}/processes/${identity}`).expect(200)).body;
      expect(ours.quiet).toBe(true);
    });

    it('stop: the server exits, requeues its running job, and leaves the process set', async () => {
      await http().post(`${API}/processes/${identity}/stop`).expect(200);
      await waitFor('the server to exit', () => Promise.resolve(server!.exitCode !== null), 40);
      expect(await ruby('processes')).toEqual([]);
      expect((await http().get(`${API}/processes`).expect(200)).body).toEqual([]);
      const low = (await http().get(`${API}/queues/low`).expect(200)).body;
      expect(low.jobs.map((j: Json) => j.jid)).toEqual([jids.slow]);
    });
  });

  describe('display rules with no process alive', () => {
    it('the last version seen (default) and the declared one (twin) keep 6.x rules; nothing known: 7.1+', async () => {
      expect(await ruby('processes')).toEqual([]);
      await twin(redis, C);
      const theirs = await ruby('queue_find', { name: 'parked', jid: jids.parked_aj });
      for (const instance of ['default', 'twin']) {
        const res = await http()
          .get(`${API}/queues/parked/jobs/${jids.parked_aj}`)
          .query({ instance })
          .expect(200);
        expectSameJob(res.body, theirs);
      }
      const undeclared = (
        await http()
          .get(`${API}/queues/parked/jobs/${jids.parked_aj}`)
          .query({ instance: 'undeclared' })
          .expect(200)
      ).body;
      expect(theirs.display_args).toEqual([42, { _aj_globalid: 'gid://app/User/7' }]);
      expect(undeclared.display_args).toEqual([42, 'gid://app/User/7']);
    });
  });

  describe('changes: same change by Ruby on one twin and by us on the other, then Ruby compares', () => {
    const cases: {
      name: string;
      rubyCmd: string;
      rubyArgs: () => Record<string, unknown>;
      ours: () => request.Test;
    }[] = [
      {
        name: 'delete a queued job',
        rubyCmd: 'queue_delete',
        rubyArgs: () => ({ name: 'parked', jid: jids.parked[1] }),
        ours: () => http().delete(`${API}/queues/parked/jobs/${jids.parked[1]}?instance=twin`),
      },
      {
        name: 'clear a queue',
        rubyCmd: 'queue_clear',
        rubyArgs: () => ({ name: 'parked' }),
        ours: () => http().post(`${API}/queues/parked/clear?instance=twin`).send({ confirm: true }),
      },
      {
        name: 'delete a scheduled entry',
        rubyCmd: 'entry_delete',
        rubyArgs: () => ({ set: 'scheduled', jid: jids.scheduled_far }),
        ours: () => http().delete(`${API}/sets/scheduled/jobs/${jids.scheduled_far}?instance=twin`),
      },
      {
        name: 'add a scheduled entry with a same-score sibling to its queue',
        rubyCmd: 'entry_add_to_queue',
        rubyArgs: () => ({ set: 'scheduled', jid: jids.scheduled_bulk[0] }),
        ours: () =>
          http().post(
            `${API}/sets/scheduled/jobs/${jids.scheduled_bulk[0]}/add-to-queue?instance=twin`,
          ),
      },
      {
        name: 'retry a retry entry now',
        rubyCmd: 'entry_retry',
        rubyArgs: () => ({ set: 'retry', jid: jids.fail[0] }),
        ours: () => http().post(`${API}/sets/retry/jobs/${jids.fail[0]}/retry?instance=twin`),
      },
      {
        name: 'kill a retry entry',
        rubyCmd: 'entry_kill',
        rubyArgs: () => ({ set: 'retry', jid: jids.fail[1] }),
        ours: () => http().post(`${API}/sets/retry/jobs/${jids.fail[1]}/kill?instance=twin`),
      },
      {
        name: 'delete a retry entry',
        rubyCmd: 'entry_delete',
        rubyArgs: () => ({ set: 'retry', jid: jids.fail[2] }),
        ours: () => http().delete(`${API}/sets/retry/jobs/${jids.fail[2]}?instance=twin`),
      },
      {
        name: 'retry a dead entry',
        rubyCmd: 'entry_retry',
        rubyArgs: () => ({ set: 'dead', jid: jids.dead[0] }),
        ours: () => http().post(`${API}/sets/dead/jobs/${jids.dead[0]}/retry?instance=twin`),
      },
      {
        name: 'delete a dead entry',
        rubyCmd: 'entry_delete',
        rubyArgs: () => ({ set: 'dead', jid: jids.dead[1] }),
        ours: () => http().delete(`${API}/sets/dead/jobs/${jids.dead[1]}?instance=twin`),
      },
      {
        name: 'add a dead entry to its queue',
        rubyCmd: 'entry_add_to_queue',
        rubyArgs: () => ({ set: 'dead', jid: jids.quick_retry }),
        ours: () =>
          http().post(`${API}/sets/dead/jobs/${jids.quick_retry}/add-to-queue?instance=twin`),
      },
      {
        name: 'retry an entry without created_at (Client.push adds it)',
        rubyCmd: 'entry_retry',
        rubyArgs: () => ({ set: 'retry', jid: jids.exact_retry }),
        ours: () => http().post(`${API}/sets/retry/jobs/${jids.exact_retry}/retry?instance=twin`),
      },
      {
        name: 'add a scheduled entry without created_at (score 1924992000.0) to its queue',
        rubyCmd: 'entry_add_to_queue',
        rubyArgs: () => ({ set: 'scheduled', jid: jids.exact_scheduled }),
        ours: () =>
          http().post(
            `${API}/sets/scheduled/jobs/${jids.exact_scheduled}/add-to-queue?instance=twin`,
          ),
      },
      {
        name: 'retry all retries',
        rubyCmd: 'retry_all',
        rubyArgs: () => ({ set: 'retry' }),
        ours: () =>
          http().post(`${API}/sets/retry/retry-all?instance=twin`).send({ confirm: true }),
      },
      {
        name: 'kill all retries',
        rubyCmd: 'kill_all',
        rubyArgs: () => ({ set: 'retry' }),
        ours: () => http().post(`${API}/sets/retry/kill-all?instance=twin`).send({ confirm: true }),
      },
      {
        name: 'retry all dead',
        rubyCmd: 'retry_all',
        rubyArgs: () => ({ set: 'dead' }),
        ours: () => http().post(`${API}/sets/dead/retry-all?instance=twin`).send({ confirm: true }),
      },
      {
        name: 'clear the dead set',
        rubyCmd: 'set_clear',
        rubyArgs: () => ({ set: 'dead' }),
        ours: () => http().post(`${API}/sets/dead/clear?instance=twin`).send({ confirm: true }),
      },
      {
        name: 'clear the scheduled set',
        rubyCmd: 'set_clear',
        rubyArgs: () => ({ set: 'scheduled' }),
        ours: () =>
          http().post(`${API}/sets/scheduled/clear?instance=twin`).send({ confirm: true }),
      },
      {
        name: 'reset the stats',
        rubyCmd: 'stats_reset',
        rubyArgs: () => ({}),
        ours: () =>
          http()
            .post(`${API}/stats/reset?instance=twin`)
            .send({ counters: ['processed', 'failed'] }),
      },
    ];

    it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      await twin(redis, B);
      await twin(redis, C);
      const before = await ruby('state', {}, B);
      const t0 = Date.now() / 1000 - 0.001;
      await ruby(c.rubyCmd, c.rubyArgs(), B);
      await c.ours().expect(200);
      const t1 = Date.now() / 1000 + 0.001;
      const [theirs, ours] = await Promise.all([ruby('state', {}, B), ruby('state', {}, C)]);
      expect(theirs).not.toEqual(before); // the change did something
      // in order: retry-all and kill-all move entries in 6.4.1's order (twin declares 6.4.1)
      expect(normalize(ours, t0, t1)).toEqual(normalize(theirs, t0, t1));
    });
  });
});
