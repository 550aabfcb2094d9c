import request from 'supertest';
import { TcpProxy } from '../../support/tcp-proxy.js';
import { SidekiqWriter } from '../../support/sidekiq-writer.js';
import { flushDb, redisUrlForDb, startSidekiqApp } from './sidekiq-test-app.js';
import { eventually } from '../../support/eventually.js';

const API = '/api/v1/sidekiq';
const URL7 = redisUrlForDb(7);
const URL8 = redisUrlForDb(8);

describe('Sidekiq instances, namespace, read-only mode and outages', () => {
  beforeEach(async () => {
    await flushDb(URL7);
    await flushDb(URL8);
  });

  it('serves several instances, 404 for an unknown one, and a redis-namespace prefix', async () => {
    const plain = SidekiqWriter.connect(URL7);
    const namespaced = SidekiqWriter.connect(URL8, 'v6', 'legacy');
    const app = await startSidekiqApp({
      REDIS_URL: URL7,
      SIDEKIQ_INSTANCES: `legacy=${URL8}?namespace=legacy`,
    });
    try {
      await plain.push({ queue: 'only-default' });
      const { spec } = await namespaced.push({ queue: 'only-legacy' });
      await namespaced.retry({}, Date.now() / 1000 + 60);
      const http = () => request(app.getHttpServer());
      const def = await http().get(`${API}/queues`).expect(200);
      expect(def.body.map((q: { name: string }) => q.name)).toEqual(['only-default']);
      const legacy = await http().get(`${API}/queues?instance=legacy`).expect(200);
      expect(legacy.body.map((q: { name: string }) => q.name)).toEqual(['only-legacy']);
      await http().get(`${API}/queues/only-legacy/jobs/${spec.jid}?instance=legacy`).expect(200);
      const stats = await http().get(`${API}/stats?instance=legacy`).expect(200);
      expect(stats.body.retry_size).toBe(1);
      // the namespaced writes went to prefixed keys only
      expect(await namespaced.redis.exists('legacy:queue:only-legacy', 'queue:only-legacy')).toBe(
        1,
      );
      await http()
        .post(`${API}/queues/only-legacy/clear?instance=legacy`)
        .send({ confirm: true })
        .expect(200);
      expect(await namespaced.redis.exists('legacy:queue:only-legacy')).toBe(0);
      expect(await namespaced.redis.smembers('legacy:queues')).toEqual([]);
      const unknown = await http().get(`${API}/stats?instance=nope`).expect(404);
      expect(unknown.body).toMatchObject({
        code: 'INSTANCE_NOT_FOUND',
        details: { field: 'instance' },
      });
      await http()
        .get(`${API}/stats?instance=${encodeURIComponent('a b')}`)
        .expect(400);
    } finally {
      await app.close();
      await plain.close();
      await namespaced.close();
    }
  });

  it('refuses every change with 403 in read-only mode and changes nothing', async () => {
    const writer = SidekiqWriter.connect(URL7);
    const app = await startSidekiqApp({ REDIS_URL: URL7, SIDEKIQ_READ_ONLY: 'true' });
    try {
      const queued = await writer.push({ queue: 'q' });
      const retry = await writer.retry({}, Date.now() / 1000 + 60);
      await writer.heartbeat({ identity: 'h:1:aa', hostname: 'h', pid: 1, startedAt: 1 });
      await writer.ghostProcess('ghost:2:bb');
      await writer.stat('processed', 3);
      const before = await dumpAll(writer);
      const http = () => request(app.getHttpServer());
      const changes = [
        http().delete(`${API}/queues/q/jobs/${queued.spec.jid}`),
        http().post(`${API}/queues/q/clear`).send({ confirm: true }),
        http().delete(`${API}/sets/retry/jobs/${retry.spec.jid}`),
        http().post(`${API}/sets/retry/jobs/${retry.spec.jid}/retry`),
        http().post(`${API}/sets/retry/jobs/${retry.spec.jid}/add-to-queue`),
        http().post(`${API}/sets/retry/jobs/${retry.spec.jid}/kill`),
        http().post(`${API}/sets/retry/retry-all`).send({ confirm: true }),
        http().post(`${API}/sets/retry/kill-all`).send({ confirm: true }),
        http().post(`${API}/sets/retry/clear`).send({ confirm: true }),
        http().post(`${API}/processes/h:1:aa/quiet`),
        http().post(`${API}/processes/h:1:aa/stop`),
        http().post(`${API}/processes/quiet-all`),
        http().post(`${API}/processes/stop-all`),
        http()
          .post(`${API}/stats/reset`)
          .send({ counters: ['processed', 'failed'] }),
      ];
      for (const change of changes) {
        const res = await change.expect(403);
        expect(res.body.code).toBe('READ_ONLY_MODE');
      }
      // reads still work, and the process listing does not prune in read-only mode
      expect((await http().get(`${API}/processes`).expect(200)).body).toHaveLength(1);
      await http().get(`${API}/sets/retry`).expect(200);
      expect(await dumpAll(writer)).toEqual(before);
    } finally {
      await app.close();
      await writer.close();
    }
  });

  it('answers 503 with a clear message while Redis is unreachable, and recovers', async () => {
    const target = new URL(URL7);
    const proxy = new TcpProxy(target.hostname, Number(target.port));
    const port = await proxy.start();
    const viaProxy = new URL(URL7);
    viaProxy.port = String(port);
    const app = await startSidekiqApp({
      REDIS_URL: viaProxy.toString(),
      SIDEKIQ_INSTANCES: 'never=redis://127.0.0.1:1/0',
    });
    try {
      const http = () => request(app.getHttpServer());
      await http().get(`${API}/stats`).expect(200);
      const never = await http().get(`${API}/processes?instance=never`).expect(503);
      expect(never.body).toMatchObject({
        code: 'SIDEKIQ_UNREACHABLE',
        details: { instance: 'never' },
      });
      await proxy.stop();
      const down = await http().get(`${API}/queues`).expect(503);
      expect(down.body.code).toBe('SIDEKIQ_UNREACHABLE');
      expect(down.body.message).toMatch(/unreachable/);
      await http().post(`${API}/sets/retry/clear`).send({ confirm: true }).expect(503);
      await proxy.start(port);
      await eventually(
        'the stats to answer again',
        async () => (await http().get(`${API}/stats`)).status === 200,
      );
    } finally {
      await app.close();
      await proxy.stop();
    }
  });
});

async function dumpAll(writer: SidekiqWriter): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  let cursor = '0';
  do {
    const [next, keys] = await writer.redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await writer.redis.type(key);
      switch (type) {
        case 'list':
          out[key] = await writer.redis.lrange(key, 0, -1);
          break;
        case 'set':
          out[key] = (await writer.redis.smembers(key)).sort();
          break;
        case 'zset':
          out[key] = await writer.redis.zrange(key, '0', '-1', 'WITHSCORES');
          break;
        case 'hash':
          out[key] = await writer.redis.hgetall(key);
          break;
        default:
          out[key] = await writer.redis.get(key);
      }
    }
  } while (cursor !== '0');
  return out;
}
