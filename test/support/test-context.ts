import { randomBytes } from 'node:crypto';
import type { INestApplication, Type } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import pg from 'pg';
import request from 'supertest';
import { AppModule } from '../../src/app.module.js';
import { configureApp } from '../../src/app.setup.js';
import { Clock } from '../../src/common/clock.js';
import { adminUrl, databaseUrl, templateName } from './global-setup.js';
import { TcpProxy } from './tcp-proxy.js';

export const TEST_TOKEN = 'test-bootstrap-admin-token-0123456789abcdef';

/** A fresh database cloned from the migrated template (or empty); dropped by drop(). */
export class TestDatabase {
  private constructor(
    readonly name: string,
    readonly url: string,
    readonly sql: pg.Pool,
  ) {}

  static create(): Promise<TestDatabase> {
    return TestDatabase.createFrom(templateName());
  }

  /** A fresh database without any table: for a test that runs the migrations itself. */
  static createEmpty(): Promise<TestDatabase> {
    return TestDatabase.createFrom('template0');
  }

  private static async createFrom(template: string): Promise<TestDatabase> {
    const name = `t_${process.pid}_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    try {
      await admin.query(`create database "${name}" template "${template}"`);
    } finally {
      await admin.end();
    }
    const url = databaseUrl(name);
    return new TestDatabase(name, url, new pg.Pool({ connectionString: url, max: 4 }));
  }

  async drop(): Promise<void> {
    await this.sql.end();
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    try {
      // pools close their sockets asynchronously: wait for them rather than killing them (a
      // killed connection that is still ending raises an unhandled error in its pool)
      for (let i = 0; ; i++) {
        try {
          await admin.query(
            `drop database if exists "${this.name}"${i >= 40 ? ' with (force)' : ''}`,
          );
          break;
        } catch (error) {
          if ((error as { code?: string }).code !== '55006' || i >= 40) {
            throw error;
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    } finally {
      await admin.end();
    }
  }
}

export interface TestAppOptions {
  env?: Record<string, string>;
  /** the app's Clock (e.g. a TestClock the test moves) */
  clock?: Clock;
  /** e.g. route the app's database connections through a TcpProxy */
  rewriteDatabaseUrl?: (url: string) => string;
}

// process.env as it was before the first open TestApp changed it; put back when the last closes
// (the app reads its environment once, at boot)
let openApps = 0;
let savedEnv = new Map<string, string | undefined>();

function setEnv(values: Record<string, string | undefined>): void {
  for (const [key, value] of Object.entries(values)) {
    if (!savedEnv.has(key)) {
      savedEnv.set(key, process.env[key]);
    }
    if (value === undefined) {
      delete process.env[key];
    } else {
      process.env[key] = value;
    }
  }
}

function appClosed(): void {
  openApps--;
  if (openApps > 0) {
    return;
  }
  for (const [key, value] of savedEnv) {
    if (value === undefined) {
      delete process.env[key];
    } else {
      process.env[key] = value;
    }
  }
  savedEnv = new Map();
}

/** The real AppModule on a private database (and the run's Redis), configured like main.ts. */
export class TestApp {
  private constructor(
    readonly app: INestApplication,
    readonly db: TestDatabase,
  ) {}

  private ownsDatabase = true;
  private open = true;

  static async start(options: TestAppOptions = {}): Promise<TestApp> {
    return TestApp.startOn(await TestDatabase.create(), options, true);
  }

  /** A second copy of the service on another app's database (closeApp() leaves it). */
  static async startOn(
    db: TestDatabase,
    options: TestAppOptions = {},
    owns = false,
  ): Promise<TestApp> {
    openApps++;
    setEnv({
      TEST_REDIS_URL: process.env.TEST_REDIS_URL ?? process.env.REDIS_URL,
      REDIS_URL: process.env.TEST_REDIS_URL ?? process.env.REDIS_URL,
      DATABASE_URL: options.rewriteDatabaseUrl ? options.rewriteDatabaseUrl(db.url) : db.url,
      PRIVATE_TOKEN: TEST_TOKEN,
      NODE_ENV: 'test',
      LOG_LEVEL: 'error',
      // tests drive the scheduler's ticks themselves
      SCHEDULER_ENABLED: 'false',
      ...options.env,
    });
    let app: INestApplication;
    try {
      const builder = Test.createTestingModule({ imports: [AppModule, DiscoveryModule] });
      if (options.clock) {
        builder.overrideProvider(Clock).useValue(options.clock);
      }
      const moduleRef = await builder.compile();
      app = configureApp(moduleRef.createNestApplication({ bodyParser: false, logger: ['error'] }));
      await app.init();
    } catch (error) {
      appClosed();
      throw error;
    }
    const testApp = new TestApp(app, db);
    testApp.ownsDatabase = owns;
    return testApp;
  }

  get http() {
    return this.app.getHttpServer() as import('node:http').Server;
  }

  /** POSTs `events` to the batch route with the test token; every one must be accepted. */
  postEvents(events: Record<string, unknown>[]) {
    return request(this.http)
      .post('/api/v1/events')
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .send({ events })
      .expect(200);
  }

  get<T>(type: Type<T>): T {
    return this.app.get(type, { strict: false });
  }

  /** Stops the app (and puts back the environment once no TestApp is open); keeps the database. */
  async closeApp(): Promise<void> {
    if (!this.open) {
      return;
    }
    this.open = false;
    try {
      await this.app.close();
    } finally {
      appClosed();
    }
  }

  async close(): Promise<void> {
    await this.closeApp();
    if (this.ownsDatabase) {
      await this.db.drop();
    }
  }
}

/** The app with its database connections going through a TcpProxy that a test can cut. */
export async function startBehindDatabaseProxy(
  options: TestAppOptions = {},
): Promise<{ ctx: TestApp; proxy: TcpProxy }> {
  const target = new URL(process.env.TEST_ADMIN_DATABASE_URL ?? process.env.DATABASE_URL!);
  const proxy = new TcpProxy(target.hostname, Number(target.port));
  const port = await proxy.start();
  const ctx = await TestApp.start({
    ...options,
    rewriteDatabaseUrl: (url) => {
      const proxied = new URL(url);
      proxied.port = String(port);
      return proxied.toString();
    },
  });
  return { ctx, proxy };
}
