import type { INestApplication } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { configureApp } from '../../../src/app.setup.js';
import { AuditModule } from '../../../src/audit/audit.module.js';
import { ClockModule } from '../../../src/common/clock.js';
import { DomainErrorFilter } from '../../../src/common/errors/domain-error.filter.js';
import { AppConfig } from '../../../src/config/app-config.js';
import { validateEnv } from '../../../src/config/env.schema.js';
import { DatabaseModule } from '../../../src/database/database.module.js';
import { RedisModule } from '../../../src/redis/redis.module.js';
import { SidekiqModule } from '../../../src/sidekiq/sidekiq.module.js';
import { TestDatabase } from '../../support/test-context.js';

/** REDIS_URL of the run with its DB index replaced (each test file uses its own DB, flushes only it). */
export function redisUrlForDb(db: number, base = process.env.REDIS_URL): string {
  if (!base) {
    throw new Error('REDIS_URL is not set: run through scripts/services.sh');
  }
  const url = new URL(base);
  url.pathname = `/${db}`;
  return url.toString();
}

/**
 * SidekiqModule with the real RedisModule and the app's pipes and error filter (no auth guard).
 * Its change routes write their audit record first (@Audited): the audit log lives in a fresh
 * database of its own, dropped when the app closes.
 */
export async function startSidekiqApp(env: Record<string, string>): Promise<INestApplication> {
  const db = await TestDatabase.create();
  const config = new AppConfig(
    validateEnv({
      DATABASE_URL: db.url,
      PRIVATE_TOKEN: 'sidekiq-int-test-token-0123456789abcdef',
      NODE_ENV: 'test',
      ...env,
    }),
  );
  @Module({ providers: [{ provide: AppConfig, useValue: config }], exports: [AppConfig] })
  class TestConfigModule {}
  const moduleRef = await Test.createTestingModule({
    imports: [
      { module: TestConfigModule, global: true },
      ClockModule,
      DatabaseModule,
      AuditModule,
      RedisModule,
      SidekiqModule,
    ],
    providers: [{ provide: APP_FILTER, useClass: DomainErrorFilter }],
  }).compile();
  const app = configureApp(moduleRef.createNestApplication({ logger: ['error'] }));
  await app.init();
  const close = app.close.bind(app);
  app.close = async () => {
    await close();
    await db.drop();
  };
  return app;
}

export async function flushDb(url: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  await redis.flushdb();
  await redis.quit();
}
