// npm run bench:sidekiq-api — the Sidekiq API against Sidekiq's own Ruby API on the same Redis.
// Fills a Redis DB (REDIS_URL from scripts/services.sh, DB BENCH_REDIS_DB, default 12) with 1,000
// queues and 1,000,000 Sidekiq-shaped jobs across queues and the scheduled/retry/dead sets, then
// times, side by side: stats, queue list, the first page of the largest queue (and of a small one,
// to show the page does not depend on queue length), the first page of the retry set, and jid
// lookups (retry set, and the oldest job of the largest queue). Ours is measured at the service
// (in process, like Ruby's in-process API: the ratio) and over HTTP on loopback (for reference).
// Knobs: BENCH_ITERATIONS (20), BENCH_SLOW_ITERATIONS (5), BENCH_REDIS_DB (12), BENCH_KEEP=1 (reuse data).
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import { promisify } from 'node:util';
import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { configureApp } from '../dist/src/app.setup.js';
import { AuditModule } from '../dist/src/audit/audit.module.js';
import { ClockModule } from '../dist/src/common/clock.js';
import { DomainErrorFilter } from '../dist/src/common/errors/domain-error.filter.js';
import { AppConfig } from '../dist/src/config/app-config.js';
import { validateEnv } from '../dist/src/config/env.schema.js';
import { DatabaseModule } from '../dist/src/database/database.module.js';
import { RedisModule } from '../dist/src/redis/redis.module.js';
import { QueuesService } from '../dist/src/sidekiq/queues/queues.service.js';
import { SidekiqModule } from '../dist/src/sidekiq/sidekiq.module.js';
import { SortedSetsService } from '../dist/src/sidekiq/sorted-sets/sorted-sets.service.js';
import { StatsService } from '../dist/src/sidekiq/stats/stats.service.js';

const run = promisify(execFile);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 20);
const SLOW_ITERATIONS = Number(process.env.BENCH_SLOW_ITERATIONS ?? 5);
const DB = Number(process.env.BENCH_REDIS_DB ?? 12);
if (!process.env.REDIS_URL) {
  throw new Error('REDIS_URL is not set: run through `npm run bench:sidekiq-api`');
}
const url = new URL(process.env.REDIS_URL);
url.pathname = `/${DB}`;
const REDIS_URL = url.toString();

// ---------------------------------------------------------------- data (Sidekiq 6.x shapes)
const QUEUES = 1000;
const LARGEST = 'bulk';
const LARGEST_SIZE = 500_000;
const SMALL_SIZE = 200; // each of the 999 other queues (one of them is "default")
const RETRY_SIZE = 150_000;
const SCHEDULED_SIZE = 100_000;
const DEAD_SIZE =
  1_000_000 - LARGEST_SIZE - (QUEUES - 1) * SMALL_SIZE - RETRY_SIZE - SCHEDULED_SIZE;
const jid = () => randomBytes(12).toString('hex');
const f = (ms) => {
  const t = String(ms / 1000);
  return t.includes('.') ? t : `${t}.0`;
};
const now = Date.now();
const job = (queue, i, enqueued, extra = '') =>
  `{"retry":true,"queue":"${queue}","class":"BenchJob","args":[${i},"user-${i}",{"n":${i}.5}],"jid":"${jid()}","created_at":${f(now - 3_600_000 + i)}${enqueued ? `,"enqueued_at":${f(now - 1_800_000 + i)}` : ''}${extra}}`;
const failure = (i) =>
  `,"error_message":"boom ${i}","error_class":"RuntimeError","failed_at":${f(now - 600_000)},"retry_count":${i % 5}`;

async function populate(redis, targets) {
  await redis.flushdb();
  const queueNames = [
    LARGEST,
    'default',
    ...Array.from({ length: QUEUES - 2 }, (_, i) => `q${String(i + 1).padStart(3, '0')}`),
  ];
  await redis.sadd('queues', ...queueNames);
  const pushList = async (queue, count, special) => {
    for (let start = 0; start < count; start += 1000) {
      const pipe = redis.pipeline();
      const values = [];
      for (let i = start; i < Math.min(count, start + 1000); i++) {
        values.push(i === 0 && special ? special : job(queue, i, true));
      }
      pipe.lpush(`queue:${queue}`, ...values);
      await pipe.exec();
    }
  };
  // the target of the queue lookup is the oldest job (index −1): the worst case for a newest-first scan
  const queueTarget = `{"retry":true,"queue":"${LARGEST}","class":"BenchJob","args":["target"],"jid":"${targets.queue}","created_at":${f(now - 7_200_000)},"enqueued_at":${f(now - 7_200_000)}}`;
  await pushList(LARGEST, LARGEST_SIZE, queueTarget);
  for (const name of queueNames.slice(1)) {
    const pipe = redis.pipeline();
    pipe.lpush(
      `queue:${name}`,
      ...Array.from({ length: SMALL_SIZE }, (_, i) => job(name, i, true)),
    );
    await pipe.exec();
  }
  const fillSet = async (key, count, scoreBase, member, special) => {
    for (let start = 0; start < count; start += 1000) {
      const args = [];
      for (let i = start; i < Math.min(count, start + 1000); i++) {
        args.push(
          f(scoreBase + i * 10),
          i === Math.floor(count / 2) && special ? special : member(i),
        );
      }
      await redis.zadd(key, ...args);
    }
  };
  const retryTarget = `{"retry":true,"queue":"default","class":"BenchJob","args":["target"],"jid":"${targets.retry}","created_at":${f(now - 3_600_000)},"enqueued_at":${f(now - 3_000_000)}${failure(1)}}`;
  await fillSet(
    'retry',
    RETRY_SIZE,
    now + 60_000,
    (i) => job('default', i, true, failure(i)),
    retryTarget,
  );
  await fillSet('schedule', SCHEDULED_SIZE, now + 120_000, (i) => job('default', i, false));
  await fillSet('dead', DEAD_SIZE, now - 86_400_000, (i) => job('default', i, true, failure(i)));
  await redis.set('stat:processed', '123456789');
  await redis.set('stat:failed', '12345');
  await redis.set('bench:targets', JSON.stringify(targets)); // not a Sidekiq key; ignored by both APIs
}

// ---------------------------------------------------------------- timing
async function timeMs(iterations, warmup, fn) {
  for (let i = 0; i < warmup; i++) {
    await fn();
  }
  const samples = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return {
    median_ms: samples[Math.floor(samples.length / 2)],
    min_ms: samples[0],
    runs: iterations,
  };
}

async function bootApp() {
  const config = new AppConfig(
    validateEnv({
      DATABASE_URL: 'postgresql://unused@127.0.0.1:1/unused',
      PRIVATE_TOKEN: randomBytes(24).toString('hex'),
      REDIS_URL,
      NODE_ENV: 'production',
    }),
  );
  class BenchConfigModule {}
  Module({ providers: [{ provide: AppConfig, useValue: config }], exports: [AppConfig] })(
    BenchConfigModule,
  );
  class BenchModule {}
  Module({
    // the change routes write their audit record first (none is called here: no database is used)
    imports: [
      { module: BenchConfigModule, global: true },
      ClockModule,
      DatabaseModule,
      AuditModule,
      RedisModule,
      SidekiqModule,
    ],
    providers: [{ provide: APP_FILTER, useClass: DomainErrorFilter }],
  })(BenchModule);
  const app = configureApp(await NestFactory.create(BenchModule, { logger: ['error'] }));
  await app.listen(0, '127.0.0.1');
  return app;
}

async function main() {
  const redis = new Redis(REDIS_URL);
  let targets =
    process.env.BENCH_KEEP === '1'
      ? JSON.parse((await redis.get('bench:targets')) ?? 'null')
      : null;
  const counts = async () => {
    const [q, r, s, d] = await Promise.all([
      redis.llen(`queue:${LARGEST}`),
      redis.zcard('retry'),
      redis.zcard('schedule'),
      redis.zcard('dead'),
    ]);
    return { largest: q, retry: r, scheduled: s, dead: d };
  };
  if (!targets) {
    targets = { retry: jid(), queue: jid() };
    const t0 = Date.now();
    await populate(redis, targets);
    console.log(`populated ${REDIS_URL} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const sizes = await counts();
  const queueCount = await redis.scard('queues');
  let total = sizes.retry + sizes.scheduled + sizes.dead;
  for (let cursor = '0', first = true; first || cursor !== '0'; first = false) {
    const [next, names] = await redis.sscan('queues', cursor, 'COUNT', 1000);
    cursor = next;
    const pipe = redis.pipeline();
    names.forEach((n) => pipe.llen(`queue:${n}`));
    total += (await pipe.exec()).reduce((a, [, n]) => a + Number(n), 0);
  }
  console.log(`data: ${queueCount} queues, ${total.toLocaleString('en')} jobs`, sizes);

  const rubyArgs = {
    iterations: ITERATIONS,
    slow_iterations: SLOW_ITERATIONS,
    largest_queue: LARGEST,
    small_queue: 'q500',
    jid_retry: targets.retry,
    jid_queue: targets.queue,
  };
  const rubyOut = await run('ruby', ['bench/sidekiq-api.rb', JSON.stringify(rubyArgs)], {
    env: { ...process.env, SIDEKIQ_REDIS_URL: REDIS_URL, RUBYOPT: '-W0' },
    maxBuffer: 16 * 1024 * 1024,
  });
  const ruby = JSON.parse(rubyOut.stdout);
  const rubyVersion = (
    await run('ruby', [
      '-rsidekiq',
      '-e',
      'print "ruby #{RUBY_VERSION}, sidekiq #{Sidekiq::VERSION}"',
    ])
  ).stdout;

  const app = await bootApp();
  const base = `http://127.0.0.1:${app.getHttpServer().address().port}/api/v1/sidekiq`;
  const stats = app.get(StatsService);
  const queues = app.get(QueuesService);
  const sets = app.get(SortedSetsService);
  const get = async (path, expected = 200) => {
    const res = await fetch(base + path);
    if (res.status !== expected) {
      throw new Error(`${path}: ${res.status} ${await res.text()}`);
    }
    return res.json();
  };
  const calls = [
    ['stats', 'Stats.new (all nine numbers)', () => stats.stats(), '/stats', ITERATIONS, 2],
    [
      'queue_list',
      'Queue.all with size and latency',
      () => queues.list(),
      '/queues',
      ITERATIONS,
      2,
    ],
    [
      'largest_queue_page',
      `first page (25) of the largest queue (${sizes.largest.toLocaleString('en')} jobs)`,
      () => queues.page(undefined, LARGEST, 1, 25),
      `/queues/${LARGEST}`,
      ITERATIONS,
      2,
    ],
    [
      'small_queue_page',
      `first page (25) of a ${SMALL_SIZE}-job queue`,
      () => queues.page(undefined, 'q500', 1, 25),
      '/queues/q500',
      ITERATIONS,
      2,
    ],
    [
      'retry_page',
      `first page (25) of the retry set (${sizes.retry.toLocaleString('en')})`,
      () => sets.page(undefined, 'retry', { page: 1, per_page: 25 }),
      '/sets/retry',
      ITERATIONS,
      2,
    ],
    [
      'jid_in_retry_set',
      'find a jid in the retry set (RetrySet#find_job)',
      () => sets.find(undefined, 'retry', targets.retry),
      `/sets/retry/jobs/${targets.retry}`,
      SLOW_ITERATIONS,
      1,
    ],
    [
      'missing_jid_in_retry_set',
      'look up a jid that is in no set (full ZSCAN of the retry set)',
      () =>
        sets.find(undefined, 'retry', 'f'.repeat(24)).then(
          () => {
            throw new Error('found?');
          },
          (e) => {
            if (e.code !== 'SIDEKIQ_JOB_NOT_FOUND') {
              throw e;
            }
          },
        ),
      `/sets/retry/jobs/${'f'.repeat(24)}`,
      SLOW_ITERATIONS,
      1,
      404,
    ],
    [
      'jid_in_largest_queue',
      'find the oldest jid of the largest queue (Queue#find_job)',
      () => queues.find(undefined, LARGEST, targets.queue),
      `/queues/${LARGEST}/jobs/${targets.queue}`,
      SLOW_ITERATIONS,
      0,
    ],
  ];
  const rows = [];
  for (const [key, label, service, path, iterations, warmup, status = 200] of calls) {
    const ours = await timeMs(iterations, warmup, service);
    const http = await timeMs(iterations, warmup, () => get(path, status));
    const theirs = ruby[key];
    rows.push({ key, label, ours, http, ruby: theirs, ratio: ours.median_ms / theirs.median_ms });
  }
  await app.close();
  await redis.quit();

  const fmt = (ms) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
  const lines = rows.map(
    (r) =>
      `| ${r.label} | ${fmt(r.ruby.median_ms)} | ${fmt(r.ours.median_ms)} | ${fmt(r.http.median_ms)} | **${r.ratio.toFixed(2)}** | ${r.ours.runs} |`,
  );
  const pageRatio = (
    rows.find((r) => r.key === 'largest_queue_page').ours.median_ms /
    rows.find((r) => r.key === 'small_queue_page').ours.median_ms
  ).toFixed(2);
  const worst = Math.max(...rows.map((r) => r.ratio));
  const section = `<!-- bench:sidekiq-api -->
## Sidekiq API vs Sidekiq's Ruby API (\`npm run bench:sidekiq-api\`)

Run ${new Date().toISOString()} on ${os.cpus().length} cores, Node ${process.version}, ${rubyVersion}, Redis on loopback
(scripts/services.sh). Data: ${queueCount.toLocaleString('en')} queues and ${total.toLocaleString('en')} Sidekiq-shaped jobs
(largest queue ${sizes.largest.toLocaleString('en')}, the others ${SMALL_SIZE} each; retry ${sizes.retry.toLocaleString('en')},
scheduled ${sizes.scheduled.toLocaleString('en')}, dead ${sizes.dead.toLocaleString('en')}). Medians of ${ITERATIONS} runs
(${SLOW_ITERATIONS} for lookups). Ruby: Sidekiq's API in one process (pages through \`Sidekiq::Paginator\` + records, as
Sidekiq::Web does). Ours: the service method in process (the ratio's basis, like for like) and the REST route over HTTP.

| call | Ruby ms | ours ms | ours over HTTP ms | ratio ours/Ruby | runs |
| --- | ---: | ---: | ---: | ---: | ---: |
${lines.join('\n')}

- **worst ratio: ${worst.toFixed(2)}** (target ≤ 1.00)
- first page of the ${sizes.largest.toLocaleString('en')}-job queue / of the ${SMALL_SIZE}-job queue: **${pageRatio}×** (independent of queue length)
<!-- /bench:sidekiq-api -->`;
  let doc = existsSync('bench/RESULTS.md')
    ? readFileSync('bench/RESULTS.md', 'utf8')
    : '# Benchmark results\n';
  doc = doc.includes('<!-- bench:sidekiq-api -->')
    ? doc.replace(/<!-- bench:sidekiq-api -->[\s\S]*<!-- \/bench:sidekiq-api -->/, section)
    : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync('bench/RESULTS.md', doc);
  console.log(section);
}

await main();
