import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { makeActiveJob } from '../../factories/sidekiq-job.factory.js';
import { SidekiqWriter } from '../../support/sidekiq-writer.js';
import { flushDb, redisUrlForDb, startSidekiqApp } from './sidekiq-test-app.js';

const URL6 = redisUrlForDb(6);
const API = '/api/v1/sidekiq';

// Payload and heartbeat shapes of Sidekiq 8.x (integer-millisecond timestamps, `<id>:work`,
// `concurrency` as a hash field from 8.1.2, `info.version`), written as the model document describes.
describe('Sidekiq 8.x shapes', () => {
  let app: INestApplication;
  let writer: SidekiqWriter;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    await flushDb(URL6);
    app = await startSidekiqApp({ REDIS_URL: URL6 });
    writer = SidekiqWriter.connect(URL6, 'v8');
  });

  afterAll(async () => {
    await writer.close();
    await app.close();
  });

  it('reads ms timestamps, :work hashes, the concurrency field and 7.1+ display rules', async () => {
    const now = Date.now();
    const aj = await writer.push(
      makeActiveJob('ReportJob', '[42,{"_aj_globalid":"gid://app/User/7"}]', { queue: 'default' }),
      now - 2000,
    );
    await writer.heartbeat({
      identity: 'pod-1:7:abcdefabcdef',
      hostname: 'pod-1',
      pid: 7,
      startedAt: now / 1000 - 60,
      hashConcurrency: 10,
      extraInfo: { version: '8.1.7', weights: [{ default: 3, low: 1 }], embedded: false },
      work: { t9: { queue: 'default', payload: aj.raw, runAt: Math.floor(now / 1000) } },
    });
    const processes = (await http().get(`${API}/processes`).expect(200)).body;
    expect(processes[0]).toMatchObject({
      identity: 'pod-1:7:abcdefabcdef',
      concurrency: 10,
      version: '8.1.7',
      weights: [{ default: 3, low: 1 }],
    });
    const page = (await http().get(`${API}/queues/default`).expect(200)).body;
    expect(page.latency).toBeGreaterThan(1.9);
    expect(page.latency).toBeLessThan(5);
    expect(page.jobs[0]).toMatchObject({
      display_class: 'ReportJob',
      display_args: [42, 'gid://app/User/7'],
      enqueued_at: (now - 2000) / 1000,
    });
    const workers = (await http().get(`${API}/workers`).expect(200)).body;
    expect(workers[0]).toMatchObject({ process: 'pod-1:7:abcdefabcdef', thread: 't9' });
    expect(workers[0].job.jid).toBe(aj.spec.jid);
  });

  it('writes integer-millisecond enqueued_at when re-pushing an 8.x payload', async () => {
    const { spec } = await writer.retry({ queue: 'eight' }, Date.now() / 1000 + 60, {
      retryCount: 3,
    });
    await http().post(`${API}/sets/retry/jobs/${spec.jid}/retry`).expect(200);
    const [pushed] = await writer.redis.lrange('queue:eight', 0, -1);
    expect(pushed).toMatch(/"enqueued_at":\d{13},"error_message"/);
    expect(pushed).toContain('"retry_count":2');
  });
});
