import { SidekiqWriter } from './sidekiq-writer.js';
import { TestApp } from './test-context.js';

/** The run's Redis at DB index `db`: a file that writes Sidekiq data keeps to its own index. */
export function testRedisUrl(db: number): string {
  // TEST_REDIS_URL: TestApp.start points REDIS_URL at the last app's DB
  const url = new URL(process.env.TEST_REDIS_URL ?? process.env.REDIS_URL!);
  url.pathname = `/${db}`;
  return url.toString();
}

/** The app on Redis DB `db`, flushed first, and a SidekiqWriter on the same DB. */
export async function startWithSidekiq(
  db: number,
): Promise<{ ctx: TestApp; writer: SidekiqWriter; redisUrl: string }> {
  const redisUrl = testRedisUrl(db);
  const writer = SidekiqWriter.connect(redisUrl);
  await writer.redis.flushdb();
  const ctx = await TestApp.start({ env: { REDIS_URL: redisUrl } });
  return { ctx, writer, redisUrl };
}

/** Undoes startWithSidekiq (either may be missing when it failed part way). */
export async function stopWithSidekiq(ctx?: TestApp, writer?: SidekiqWriter): Promise<void> {
  await ctx?.close();
  await writer?.redis.flushdb();
  await writer?.close();
}
