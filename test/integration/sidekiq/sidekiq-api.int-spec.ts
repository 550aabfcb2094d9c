import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { AppConfig } from '../../../src/config/app-config.js';
import { SidekiqJobsService } from '../../../src/sidekiq/sidekiq-jobs.service.js';
import { SidekiqSetName } from '../../../src/sidekiq/sidekiq-keys.js';
import { SidekiqRepository } from '../../../src/sidekiq/sidekiq.repository.js';
import { TimestampFormat } from '../../../src/sidekiq/payload/job-record.js';
import { newJid } from '../../factories/sidekiq-job.factory.js';
import { SidekiqWriter } from '../../support/sidekiq-writer.js';
import { flushDb, redisUrlForDb, startSidekiqApp } from './sidekiq-test-app.js';

const URL5 = redisUrlForDb(5);
const API = '/api/v1/sidekiq';

/** Every key of the Sidekiq REST JSON is snake_case, like the rest of the API and Sidekiq's own. */
function expectSnakeKeys(...objects: object[]): void {
  for (const object of objects) {
    for (const key of Object.keys(object)) {
      expect(key).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
    }
  }
}

describe('Sidekiq API on Sidekiq-shaped Redis data', () => {
  let app: INestApplication;
  let writer: SidekiqWriter;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    app = await startSidekiqApp({ REDIS_URL: URL5 });
    writer = SidekiqWriter.connect(URL5);
  });

  beforeEach(async () => {
    await flushDb(URL5);
  });

  afterAll(async () => {
    await writer.close();
    await app.close();
  });

  describe('queues', () => {
    it('lists queues by name with size and latency (0 when empty)', async () => {
      const now = Date.now();
      await writer.push({ queue: 'default' }, now - 10_000);
      await writer.push({ queue: 'default' }, now - 5_000);
      await writer.push({ queue: 'low' }, now - 2_500);
      await writer.redis.sadd('queues', 'drained');
      const res = await http().get(`${API}/queues`).expect(200);
      expect(res.body.map((q: { name: string }) => q.name)).toEqual(['default', 'drained', 'low']);
      const [def, drained, low] = res.body;
      expect(def.size).toBe(2);
      expect(def.latency).toBeGreaterThan(9.9);
      expect(def.latency).toBeLessThan(12);
      expect(drained).toEqual({ name: 'drained', size: 0, latency: 0 });
      expect(low.latency).toBeGreaterThan(2.4);
    });

    it('pages a queue newest first and validates pagination', async () => {
      const jids: string[] = [];
      for (let i = 0; i < 5; i++) {
        jids.push((await writer.push({ queue: 'q1', argsJson: `[${i}]` })).spec.jid);
      }
      const first = await http().get(`${API}/queues/q1?per_page=2`).expect(200);
      expect(first.body.size).toBe(5);
      expect(first.body.per_page).toBe(2);
      expectSnakeKeys(first.body, first.body.jobs[0]);
      expect(first.body.jobs.map((j: { jid: string }) => j.jid)).toEqual([jids[4], jids[3]]);
      const asc = await http().get(`${API}/queues/q1?per_page=2&direction=asc`).expect(200);
      expect(asc.body.jobs.map((j: { jid: string }) => j.jid)).toEqual([jids[0], jids[1]]);
      await http().get(`${API}/queues/q1?direction=sideways`).expect(400);
      const third = await http().get(`${API}/queues/q1?per_page=2&page=3`).expect(200);
      expect(third.body.jobs.map((j: { jid: string }) => j.jid)).toEqual([jids[0]]);
      expect(third.body.jobs[0]).toMatchObject({
        class: 'HardJob',
        args: [0],
        display_args: [0],
        decodable: true,
      });
      for (const bad of [
        'page=0',
        'per_page=0',
        'per_page=501',
        'page=abc',
        'page=1.5',
        'extra=1',
        'perPage=2',
      ]) {
        const res = await http().get(`${API}/queues/q1?${bad}`).expect(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
      }
      const unknown = await http().get(`${API}/queues/nope`).expect(404);
      expect(unknown.body).toMatchObject({ code: 'QUEUE_NOT_FOUND', details: { field: 'name' } });
      await http()
        .get(`${API}/queues/${encodeURIComponent('bad*name')}`)
        .expect(400);
    });

    it('shows a malformed payload as undecodable instead of failing', async () => {
      await writer.push({ queue: 'q2' });
      await writer.pushRaw('q2', '{"class":"Broken",');
      const res = await http().get(`${API}/queues/q2`).expect(200);
      expect(res.body.jobs[0]).toMatchObject({
        decodable: false,
        raw: '{"class":"Broken",',
        jid: null,
      });
      expect(res.body.jobs[1].decodable).toBe(true);
    });

    it('answers 502 with the Redis reply when a Sidekiq key has the wrong type', async () => {
      await writer.redis.set('queue:weird', 'not a list');
      await writer.redis.sadd('queues', 'weird');
      const res = await http().get(`${API}/queues/weird`).expect(502);
      expect(res.body).toMatchObject({
        code: 'SIDEKIQ_REDIS_ERROR',
        details: { instance: 'default' },
      });
      expect(res.body.details.reply).toMatch(/WRONGTYPE/);
    });

    it('finds and deletes one job by jid with its exact stored bytes', async () => {
      const { spec, raw } = await writer.push({ queue: 'q3', argsJson: '[1.0,9007199254740993]' });
      await writer.push({ queue: 'q3' });
      const found = await http().get(`${API}/queues/q3/jobs/${spec.jid}`).expect(200);
      expect(found.body.raw).toBe(raw);
      await http().get(`${API}/queues/q3/jobs/${newJid()}`).expect(404);
      await http().get(`${API}/queues/q3/jobs/bad*jid`).expect(400);
      await http().delete(`${API}/queues/q3/jobs/${spec.jid}`).expect(200);
      expect(await writer.redis.lrange('queue:q3', 0, -1)).not.toContain(raw);
      expect(await writer.redis.llen('queue:q3')).toBe(1);
      await http().delete(`${API}/queues/q3/jobs/${spec.jid}`).expect(404);
    });

    it('clears a queue as Queue#clear (list gone, name out of queues)', async () => {
      await writer.push({ queue: 'q4' });
      await writer.push({ queue: 'q4' });
      const res = await http().post(`${API}/queues/q4/clear`).send({ confirm: true }).expect(200);
      expect(res.body).toEqual({ name: 'q4', deleted: 2 });
      expect(await writer.redis.exists('queue:q4')).toBe(0);
      expect(await writer.redis.sismember('queues', 'q4')).toBe(0);
    });
  });

  describe('scheduled, retry and dead sets', () => {
    it('pages by score in the Web order, with direction and search', async () => {
      const now = Date.now() / 1000;
      const a = await writer.schedule({ queue: 'q', argsJson: '["a"]' }, now + 300);
      const b = await writer.schedule({ queue: 'q', argsJson: '["needle-b"]' }, now + 100);
      const c = await writer.schedule({ queue: 'q', argsJson: '["c"]' }, now + 200);
      const asc = await http().get(`${API}/sets/scheduled`).expect(200);
      expect(asc.body.size).toBe(3);
      expect(asc.body.direction).toBe('asc');
      expect(asc.body.per_page).toBe(25);
      expectSnakeKeys(asc.body, asc.body.entries[0]);
      expect(asc.body.entries.map((e: { jid: string }) => e.jid)).toEqual([
        b.spec.jid,
        c.spec.jid,
        a.spec.jid,
      ]);
      expect(asc.body.entries[0].score).toBeCloseTo(now + 100, 3);
      expect(asc.body.entries[0].key).toBe(`${asc.body.entries[0].score}-${b.spec.jid}`);
      const desc = await http()
        .get(`${API}/sets/scheduled?direction=desc&per_page=1&page=2`)
        .expect(200);
      expect(desc.body.entries.map((e: { jid: string }) => e.jid)).toEqual([c.spec.jid]);
      const search = await http().get(`${API}/sets/scheduled?search=needle`).expect(200);
      expect(search.body.entries.map((e: { jid: string }) => e.jid)).toEqual([b.spec.jid]);
      expect(search.body.size).toBe(1);
      await http().get(`${API}/sets/morgue`).expect(400);
      await http().get(`${API}/sets/scheduled?direction=up`).expect(400);
      expect((await http().get(`${API}/sets/scheduled/size`).expect(200)).body).toEqual({
        set: 'scheduled',
        size: 3,
      });
    });

    it('lists the dead set latest death first and decodes error fields', async () => {
      const now = Date.now() / 1000;
      const old = await writer.dead({ retry: 3 }, now - 100, { retryCount: 3, message: 'old' });
      const recent = await writer.dead({}, now - 10, {
        errorClass: 'ArgumentError',
        message: 'recent',
      });
      const res = await http().get(`${API}/sets/dead`).expect(200);
      expect(res.body.entries.map((e: { jid: string }) => e.jid)).toEqual([
        recent.spec.jid,
        old.spec.jid,
      ]);
      expect(res.body.entries[0]).toMatchObject({
        error_class: 'ArgumentError',
        error_message: 'recent',
        retry_count: 0,
      });
      expect(res.body.entries[1]).toMatchObject({ retry: 3, retry_count: 3 });
      const found = await http().get(`${API}/sets/dead/jobs/${old.spec.jid}`).expect(200);
      expect(found.body.raw).toBe(old.raw);
      await http().get(`${API}/sets/retry/jobs/${old.spec.jid}`).expect(404);
    });

    it('retries an entry: out of the set, into its queue with retry_count − 1 and a new enqueued_at', async () => {
      const { spec, raw } = await writer.retry(
        { queue: 'mail', argsJson: '[1.0]' },
        Date.now() / 1000 + 60,
        {
          retryCount: 2,
        },
      );
      const before = Date.now() / 1000;
      const res = await http().post(`${API}/sets/retry/jobs/${spec.jid}/retry`).expect(200);
      expect(await writer.redis.zcard('retry')).toBe(0);
      const [pushed] = await writer.redis.lrange('queue:mail', 0, -1);
      expect(await writer.redis.sismember('queues', 'mail')).toBe(1);
      expect(pushed).toBe(res.body.raw);
      const job = JSON.parse(pushed!);
      expect(job.retry_count).toBe(1);
      expect(job.enqueued_at).toBeGreaterThanOrEqual(before - 0.01);
      // every other byte unchanged: replace the two edited values and compare
      const expected = raw
        .replace('"retry_count":2', '"retry_count":1')
        .replace(
          /"enqueued_at":[0-9.]+/,
          `"enqueued_at":${/"enqueued_at":([0-9.]+)/.exec(pushed!)![1]}`,
        );
      expect(pushed).toBe(expected);
    });

    it('adds a scheduled entry to its queue (enqueued_at appended) and leaves a same-score sibling', async () => {
      const at = Date.now() / 1000 + 3600;
      const one = await writer.schedule({ queue: 'parked', argsJson: '["b1"]' }, at);
      const two = await writer.schedule({ queue: 'parked', argsJson: '["b2"]' }, at);
      await http().post(`${API}/sets/scheduled/jobs/${one.spec.jid}/add-to-queue`).expect(200);
      expect(await writer.redis.zrange('schedule', '0', '-1')).toEqual([two.raw]);
      const [pushed] = await writer.redis.lrange('queue:parked', 0, -1);
      expect(pushed!.startsWith(one.raw.slice(0, -1) + ',"enqueued_at":')).toBe(true);
    });

    it('kills a retry entry: byte-identical in dead with score now, dead-set age limit applied', async () => {
      const ancient = await writer.dead({}, Date.now() / 1000 - 200 * 86_400);
      const { spec, raw } = await writer.retry({}, Date.now() / 1000 + 60);
      const before = Date.now() / 1000;
      await http().post(`${API}/sets/retry/jobs/${spec.jid}/kill`).expect(200);
      expect(await writer.redis.zcard('retry')).toBe(0);
      const dead = await writer.redis.zrange('dead', '0', '-1', 'WITHSCORES');
      expect(dead[0]).toBe(raw);
      expect(Number(dead[1])).toBeGreaterThanOrEqual(before - 0.01);
      expect(dead).not.toContain(ancient.raw);
    });

    it('trims the dead set as DeadSet#kill does: max − 1 entries kept, too old ones dropped', async () => {
      const store = app.get(SidekiqRepository).store();
      const now = Date.now() / 1000;
      for (let i = 0; i < 5; i++) {
        const { raw } = await writer.retry({ argsJson: `[${i}]` }, now + 60 + i);
        await store.sets.kill(SidekiqSetName.Retry, [{ raw, diedAt: now + i }], {
          maxJobs: 3,
          timeoutSeconds: 3600,
        });
      }
      const dead = await writer.redis.zrange('dead', '0', '-1');
      expect(dead.map((raw) => JSON.parse(raw).args[0])).toEqual([3, 4]);
      const old = await writer.dead({}, now - 7200);
      await store.sets.kill(SidekiqSetName.Dead, [{ raw: dead[0]!, diedAt: now + 10 }], {
        maxJobs: 10,
        timeoutSeconds: 3600,
      });
      expect(await writer.redis.zscore('dead', old.raw)).toBeNull();
    });

    it('uses the Sidekiq defaults for the dead-set limits', () => {
      const config = app.get(AppConfig);
      expect([config.sidekiqDeadMaxJobs, config.sidekiqDeadTimeoutSeconds]).toEqual([
        10_000, 15_552_000,
      ]);
    });

    it('kill and kill-all trim the dead set by SIDEKIQ_DEAD_MAX_JOBS and SIDEKIQ_DEAD_TIMEOUT_SECONDS', async () => {
      const small = await startSidekiqApp({
        REDIS_URL: URL5,
        SIDEKIQ_DEAD_MAX_JOBS: '3',
        SIDEKIQ_DEAD_TIMEOUT_SECONDS: '3600',
      });
      try {
        const now = Date.now() / 1000;
        const tooOld = await writer.dead({ argsJson: '["too-old"]' }, now - 7200);
        const recent = await writer.dead({ argsJson: '["recent"]' }, now - 1800);
        const one = await writer.retry({ argsJson: '["one"]' }, now + 60);
        await request(small.getHttpServer())
          .post(`${API}/sets/retry/jobs/${one.spec.jid}/kill`)
          .expect(200);
        // age limit: older than 3600 s dropped; size limit: max − 1 = 2 kept
        expect(await writer.redis.zrange('dead', '0', '-1')).toEqual([recent.raw, one.raw]);
        expect(await writer.redis.zscore('dead', tooOld.raw)).toBeNull();
        for (let i = 0; i < 4; i++) {
          await writer.retry({ argsJson: `[${i}]` }, now + 100 + i);
        }
        const killed = await request(small.getHttpServer())
          .post(`${API}/sets/retry/kill-all`)
          .send({ confirm: true })
          .expect(200);
        expect(killed.body).toEqual({ affected: 4, skipped: 0 });
        expect(await writer.redis.zcard('retry')).toBe(0);
        expect(await writer.redis.zcard('dead')).toBe(2);
        // the default limits (10 000, 180 days) would have kept all of them
        const ancientForDefault = await writer.dead({}, now - 7200);
        const two = await writer.retry({}, now + 60);
        await http().post(`${API}/sets/retry/jobs/${two.spec.jid}/kill`).expect(200);
        expect(await writer.redis.zscore('dead', ancientForDefault.raw)).not.toBeNull();
        expect(await writer.redis.zcard('dead')).toBe(4);
      } finally {
        await small.close();
      }
    });

    it('deletes one entry, and refuses bad input', async () => {
      const { spec } = await writer.retry({}, Date.now() / 1000 + 60);
      await http().delete(`${API}/sets/retry/jobs/${spec.jid}`).expect(200);
      expect(await writer.redis.zcard('retry')).toBe(0);
      await http().delete(`${API}/sets/retry/jobs/${spec.jid}`).expect(404);
      await http().post(`${API}/sets/nope/jobs/${spec.jid}/retry`).expect(400);
      await http().get(`${API}/sets/retry/jobs/${spec.jid}?score=abc`).expect(400);
    });

    it('retries all, kills all and clears', async () => {
      for (let i = 0; i < 120; i++) {
        await writer.retry({ queue: i % 2 ? 'odd' : 'even' }, Date.now() / 1000 + i, {
          retryCount: 1,
        });
      }
      await writer.redis.zadd('retry', String(Date.now() / 1000 + 50.5), 'not json at all');
      const res = await http()
        .post(`${API}/sets/retry/retry-all`)
        .send({ confirm: true })
        .expect(200);
      expect(res.body).toEqual({ affected: 120, skipped: 1 });
      expect(await writer.redis.llen('queue:odd')).toBe(60);
      expect(await writer.redis.llen('queue:even')).toBe(60);
      expect(await writer.redis.zrange('retry', '0', '-1')).toEqual(['not json at all']);

      const scheduled = await writer.schedule({ queue: 'later' }, Date.now() / 1000 + 600);
      expect(
        (await http().post(`${API}/sets/scheduled/retry-all`).send({ confirm: true }).expect(200))
          .body,
      ).toEqual({
        affected: 1,
        skipped: 0,
      });
      // the scheduled set is added to its queue as is (no retry_count change), enqueued_at appended
      const [added] = await writer.redis.lrange('queue:later', 0, -1);
      expect(added!.startsWith(scheduled.raw.slice(0, -1) + ',"enqueued_at":')).toBe(true);
      for (let i = 0; i < 3; i++) {
        await writer.retry({}, Date.now() / 1000 + i);
      }
      const killed = await http()
        .post(`${API}/sets/retry/kill-all`)
        .send({ confirm: true })
        .expect(200);
      expect(killed.body.affected).toBe(4);
      expect(await writer.redis.zcard('retry')).toBe(0);
      expect(await writer.redis.zcard('dead')).toBe(4);
      await http().post(`${API}/sets/dead/kill-all`).send({ confirm: true }).expect(409);
      const cleared = await http()
        .post(`${API}/sets/dead/clear`)
        .send({ confirm: true })
        .expect(200);
      expect(cleared.body.affected).toBe(4);
      expect(await writer.redis.exists('dead')).toBe(0);
    });
  });

  describe('processes and workers', () => {
    const identity = 'worker-1:4242:0123456789ab';

    async function beat(extra: Partial<Parameters<SidekiqWriter['heartbeat']>[0]> = {}) {
      const job = await writer.push({ queue: 'low', argsJson: '[90]' });
      await writer.redis.del('queue:low');
      await writer.heartbeat({
        identity,
        hostname: 'worker-1',
        pid: 4242,
        startedAt: 1795394269.0112197,
        tag: 'app',
        concurrency: 3,
        queues: ['critical', 'default', 'low'],
        labels: ['lab-a'],
        rss: 31504,
        work: { g24: { queue: 'low', payload: job.raw, runAt: 1795394269 } },
        ...extra,
      });
      return job;
    }

    it('lists live processes, prunes stale ones as ProcessSet does', async () => {
      await beat();
      await writer.ghostProcess('ghost:1:deadbeef0000');
      const res = await http().get(`${API}/processes`).expect(200);
      expect(res.body).toHaveLength(1);
      expectSnakeKeys(res.body[0]);
      expect(res.body[0]).toMatchObject({
        identity,
        hostname: 'worker-1',
        pid: 4242,
        tag: 'app',
        labels: ['lab-a'],
        queues: ['critical', 'default', 'low'],
        weights: [],
        concurrency: 3,
        busy: 1,
        started_at: 1795394269.0112197,
        quiet: false,
        stopping: false,
        rss: 31504,
      });
      expect(await writer.redis.smembers('processes')).toEqual([identity]);
      await http().get(`${API}/processes/${identity}`).expect(200);
      await http().get(`${API}/processes/ghost:1:deadbeef0000`).expect(404);
    });

    it('quiets and stops a process with the signal list, 404 for a dead one', async () => {
      await beat();
      await http().post(`${API}/processes/${identity}/quiet`).expect(200);
      await http().post(`${API}/processes/${identity}/stop`).expect(200);
      expect(await writer.redis.lrange(`${identity}-signals`, 0, -1)).toEqual(['TERM', 'TSTP']);
      expect(await writer.redis.ttl(`${identity}-signals`)).toBeGreaterThan(55);
      await http().post(`${API}/processes/nope:1:ab/quiet`).expect(404);
    });

    it('refuses to signal an embedded process (7.0.3+)', async () => {
      await beat({ extraInfo: { version: '7.3.10', embedded: true } });
      await http().post(`${API}/processes/${identity}/stop`).expect(409);
      expect(await writer.redis.exists(`${identity}-signals`)).toBe(0);
    });

    it('lists the running jobs from the work hash', async () => {
      const job = await beat();
      const res = await http().get(`${API}/workers`).expect(200);
      expect(res.body).toHaveLength(1);
      expect(res.body[0]).toMatchObject({
        process: identity,
        thread: 'g24',
        queue: 'low',
        run_at: 1795394269,
      });
      expectSnakeKeys(res.body[0], res.body[0].job);
      expect(res.body[0].job).toMatchObject({
        jid: job.spec.jid,
        class: 'HardJob',
        args: [90],
        raw: job.raw,
      });
    });
  });

  describe('stats', () => {
    it('reports Sidekiq::Stats numbers and resets the lifetime counters only', async () => {
      const today = new Date().toISOString().slice(0, 10);
      await writer.stat('processed', 13);
      await writer.stat('failed', 8);
      await writer.push({ queue: 'default' }, Date.now() - 4000);
      await writer.push({ queue: 'other' });
      await writer.schedule({}, Date.now() / 1000 + 60);
      await writer.retry({}, Date.now() / 1000 + 60);
      await writer.dead({}, Date.now() / 1000);
      await writer.heartbeat({ identity: 'h:1:aa', hostname: 'h', pid: 1, startedAt: 1, busy: 2 });
      const res = await http().get(`${API}/stats`).expect(200);
      expect(res.body).toMatchObject({
        processed: 13,
        failed: 8,
        scheduled_size: 1,
        retry_size: 1,
        dead_size: 1,
        processes_size: 1,
        workers_size: 2,
        enqueued: 2,
      });
      expect(res.body.default_queue_latency).toBeGreaterThan(3.9);
      expectSnakeKeys(res.body);
      await http()
        .post(`${API}/stats/reset`)
        .send({ counters: ['processed', 'failed'] })
        .expect(200);
      expect(
        await writer.redis.mget('stat:processed', 'stat:failed', `stat:processed:${today}`),
      ).toEqual(['0', '0', '13']);
      await http()
        .post(`${API}/stats/reset`)
        .send({ counters: ['bogus'] })
        .expect(400);
    });

    it('returns history per UTC day, newest first, 0 for missing days', async () => {
      await writer.stat('processed', 5, '2026-11-23');
      await writer.stat('processed', 2, '2026-11-21');
      await writer.stat('failed', 1, '2026-11-22');
      const res = await http().get(`${API}/stats/history?days=3&start_date=2026-11-23`).expect(200);
      expect(res.body).toEqual({
        start_date: '2026-11-23',
        days: 3,
        processed: { '2026-11-23': 5, '2026-11-22': 0, '2026-11-21': 2 },
        failed: { '2026-11-23': 0, '2026-11-22': 1, '2026-11-21': 0 },
      });
      expect(Object.keys(res.body.processed)).toEqual(['2026-11-23', '2026-11-22', '2026-11-21']);
      await http().get(`${API}/stats/history?days=0`).expect(400);
      await http().get(`${API}/stats/history?days=1826`).expect(400);
      await http().get(`${API}/stats/history?start_date=2026-02-30`).expect(400);
      await http().get(`${API}/stats/history?startDate=2026-11-23`).expect(400);
    });
  });
  describe('SidekiqJobsService (for JobManager)', () => {
    it('locates a jid in a queue, a set or a live worker, and null when Sidekiq no longer holds it', async () => {
      const sut = app.get(SidekiqJobsService);
      const queued = await writer.push({ queue: 'deep' });
      for (let i = 0; i < 2500; i++) {
        await writer.pushRaw('deep', `{"class":"Filler","args":[${i}],"jid":"f${i}"}`);
      }
      const retrying = await writer.retry({}, Date.now() / 1000 + 60);
      const running = await writer.push({ queue: 'gone' });
      await writer.redis.del('queue:gone');
      await writer.heartbeat({
        identity: 'w:1:aa',
        hostname: 'w',
        pid: 1,
        startedAt: 1,
        work: { t1: { queue: 'gone', payload: running.raw, runAt: 1 } },
      });
      expect(await sut.locate(queued.spec.jid)).toEqual({
        where: 'queue',
        queue: 'deep',
        raw: queued.raw,
      });
      expect(await sut.locate(retrying.spec.jid)).toMatchObject({
        where: 'retry',
        raw: retrying.raw,
      });
      expect(await sut.locate(running.spec.jid)).toEqual({
        where: 'working',
        process: 'w:1:aa',
        thread: 't1',
        raw: running.raw,
      });
      expect(await sut.locate(newJid())).toBeNull();
    });

    it('pushes a new payload with the arguments text verbatim, where Ruby will find it', async () => {
      const sut = app.get(SidekiqJobsService);
      const pushed = await sut.push({
        jobClass: 'HardJob',
        queue: 'fresh',
        argsJson: '[1.0,{"b":1,"a":2}]',
      });
      expect(pushed.jid).toMatch(/^[0-9a-f]{24}$/);
      expect(await writer.redis.lrange('queue:fresh', 0, -1)).toEqual([pushed.payload]);
      expect(await writer.redis.sismember('queues', 'fresh')).toBe(1);
      expect(pushed.payload).toMatch(
        /^\{"retry":true,"queue":"fresh","class":"HardJob","args":\[1\.0,\{"b":1,"a":2\}\],"jid":"[0-9a-f]{24}","created_at":\d+\.\d+,"enqueued_at":\d+\.\d+\}$/,
      );
      const v8 = await sut.push({
        jobClass: 'HardJob',
        queue: 'fresh',
        argsJson: '[]',
        timestampFormat: TimestampFormat.Millis,
      });
      expect(v8.payload).toMatch(/"enqueued_at":\d{13}\}$/);
      const restarted = await sut.push({
        jobClass: 'HardJob',
        queue: 'fresh',
        argsJson: '[2]',
        restartedFrom: pushed.jid,
      });
      expect(restarted.payload).toContain(
        `"jid":"${restarted.jid}","restarted_from":"${pushed.jid}","created_at":`,
      );
      expect(await writer.redis.lindex('queue:fresh', 0)).toBe(restarted.payload);
      await expect(
        sut.push({ jobClass: 'X', queue: 'fresh', argsJson: '{}' }),
      ).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
    });
  });
});
