import { readFileSync } from 'node:fs';
import request from 'supertest';
import { buildOpenApi } from '../../src/app.setup.js';
import { sortKeys } from '../../src/common/sort-keys.js';
import { TestApp } from '../support/test-context.js';

describe('health (e2e)', () => {
  let ctx: TestApp;

  beforeAll(async () => {
    ctx = await TestApp.start();
  });

  afterAll(async () => {
    await ctx?.close();
  });

  it('is live and ready with Postgres and Redis up, without a token', async () => {
    await request(ctx.http)
      .get('/api/v1/health')
      .expect(200, { status: 'ok', info: {}, error: {}, details: {} });
    const ready = await request(ctx.http).get('/api/v1/health/ready').expect(200);
    expect(ready.body.info.database.status).toBe('up');
    expect(ready.body.info['redis:default'].status).toBe('up');
  });

  it('keeps the committed OpenAPI spec in step with the code (run `npm run openapi`)', () => {
    const committed = JSON.parse(readFileSync('openapi/openapi.json', 'utf8')) as unknown;
    expect(sortKeys(buildOpenApi(ctx.app))).toEqual(committed);
  });
});

describe('health with Redis unreachable (e2e)', () => {
  let ctx: TestApp;

  beforeAll(async () => {
    // port 1 on loopback: nothing listens, connections are refused at once
    ctx = await TestApp.start({
      env: { REDIS_URL: 'redis://127.0.0.1:1/0', HEALTH_TIMEOUT_MS: '500' },
    });
  });

  afterAll(async () => {
    await ctx?.close();
  });

  it('answers 503 and names the Redis instance that is down', async () => {
    const res = await request(ctx.http).get('/api/v1/health/ready').expect(503);
    expect(res.body).toMatchObject({
      statusCode: 503,
      code: 'NOT_READY',
      message: 'Not ready: redis:default down',
    });
    expect(res.body.details.info.database.status).toBe('up');
    await request(ctx.http).get('/api/v1/health').expect(200);
  });
});
