// A child of bench/ingest.mjs (BENCH_DETECTORS=1): the detectors of the service, evaluated back to
// back (FindingsService.evaluate, as the scheduler's tick calls it, with no pause between), or one
// every BENCH_DETECTOR_INTERVAL_MS from start to start (as a cron tick), while the parent says "on";
// idle while it says "off". Answers each "off" once the evaluation under way
// has finished, with how many evaluations ran and their CPU. Same database and Redis as the app.
process.env.LOG_LEVEL = 'error';
process.env.SCHEDULER_ENABLED = 'false';
const { NestFactory } = await import('@nestjs/core');
const { Module } = await import('@nestjs/common');
const { ConfigModule } = await import('../dist/src/config/config.module.js');
const { ClockModule } = await import('../dist/src/common/clock.js');
const { DatabaseModule } = await import('../dist/src/database/database.module.js');
const { RedisModule } = await import('../dist/src/redis/redis.module.js');
const { FindingsModule } = await import('../dist/src/findings/findings.module.js');
const { AuditModule } = await import('../dist/src/audit/audit.module.js');
const { FindingsService } = await import('../dist/src/findings/findings.service.js');
class LoopModule {}
Module({
  imports: [ConfigModule, ClockModule, DatabaseModule, AuditModule, RedisModule, FindingsModule],
})(LoopModule);
const app = await NestFactory.createApplicationContext(LoopModule, { logger: ['error'] });
const findings = app.get(FindingsService);

let on = false;
let stopping = false;
let evaluations = 0;
let wake = () => {};
process.on('message', (m) => {
  if (m === 'on') {
    on = true;
    evaluations = 0;
    wake();
  } else if (m === 'off') {
    on = false;
    cut();
  } else if (m === 'exit') {
    stopping = true;
    on = false;
    wake();
  }
});
process.send('ready');
const cpu = () => process.cpuUsage();
const INTERVAL_MS = Number(process.env.BENCH_DETECTOR_INTERVAL_MS ?? 0);
let cut = () => {};
const pause = (ms) =>
  new Promise((r) => {
    const timer = setTimeout(r, ms);
    cut = () => {
      clearTimeout(timer);
      r();
    };
  });
while (!stopping) {
  if (!on) {
    await new Promise((r) => {
      wake = r;
    });
    continue;
  }
  const start = cpu();
  const t = performance.now();
  while (on) {
    const started = performance.now();
    await findings.evaluate(new Date());
    evaluations++;
    if (on && INTERVAL_MS > 0) {
      await pause(INTERVAL_MS - (performance.now() - started));
    }
  }
  const busyMs = performance.now() - t;
  const used = process.cpuUsage(start);
  process.send({ evaluations, busyMs, cpuMs: (used.user + used.system) / 1000 });
}
await app.close();
process.exit(0);
