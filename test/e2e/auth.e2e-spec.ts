import request from 'supertest';
import { TestClock } from '../support/clock.js';
import { listRoutes } from '../support/routes.js';
import { TEST_TOKEN, TestApp } from '../support/test-context.js';
import { makeEvent } from '../factories/job-event.factory.js';

describe('PRIVATE-TOKEN auth (e2e)', () => {
  let ctx: TestApp;
  const clock = new TestClock();

  beforeAll(async () => {
    ctx = await TestApp.start({ clock });
  });

  afterAll(async () => {
    await ctx?.close();
  });

  const createToken = async (scopes: string[], extra: Record<string, unknown> = {}) => {
    const res = await request(ctx.http)
      .post('/api/v1/tokens')
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .send({ name: `t-${scopes.join('-')}`, scopes, ...extra })
      .expect(201);
    return res.body as { id: string; token: string; token_prefix: string };
  };

  it('opens exactly health and the dashboard shell; every other route answers 401 without a token', async () => {
    const routes = listRoutes(ctx.app);
    expect(routes.length).toBeGreaterThan(8);
    const open = routes
      .filter((r) => r.public)
      .map((r) => `${r.method} ${r.path}`)
      .sort();
    // the /sidekiq page's files hold no data: every number on it comes from the API with a token
    expect(open).toEqual([
      'GET /api/v1/health',
      'GET /api/v1/health/ready',
      'GET /sidekiq',
      'GET /sidekiq/assets/:name',
      'GET /sidekiq/assets/views/:name',
      'GET /sidekiq/vendor/:name',
    ]);
    for (const route of routes.filter((r) => !r.public)) {
      const path = route.path.replace(/:[a-z_]+/g, 'abc');
      const res = await request(ctx.http)[route.method.toLowerCase() as 'get'](path).send({});
      expect({ route: `${route.method} ${route.path}`, status: res.status }).toEqual({
        route: `${route.method} ${route.path}`,
        status: 401,
      });
      expect(res.body).toMatchObject({ statusCode: 401, code: 'UNAUTHORIZED' });
    }
  });

  it('serves the Swagger UI and spec without a token, with the PRIVATE-TOKEN and Bearer schemes', async () => {
    await request(ctx.http).get('/api/docs/').expect(200).expect('content-type', /html/);
    const spec = await request(ctx.http).get('/api/docs-json').expect(200);
    expect(spec.body.components.securitySchemes).toEqual({
      'private-token': { type: 'apiKey', in: 'header', name: 'PRIVATE-TOKEN' },
      bearer: { type: 'http', scheme: 'bearer' },
    });
    expect(spec.body.paths['/api/v1/health'].get.security).toEqual([]);
    // two requirements: either one will do
    expect(spec.body.security).toEqual([{ 'private-token': [] }, { bearer: [] }]);
  });

  it('tells any valid token its own name and scopes, never the secret', async () => {
    const created = await createToken(['ingest']);
    const self = await request(ctx.http)
      .get('/api/v1/tokens/self')
      .set('PRIVATE-TOKEN', created.token)
      .expect(200);
    expect(self.body).toEqual({ id: created.id, name: 't-ingest', scopes: ['ingest'] });
    const boot = await request(ctx.http)
      .get('/api/v1/tokens/self')
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(200);
    expect(boot.body).toMatchObject({ id: null, scopes: ['admin'] });
    expect(JSON.stringify(boot.body)).not.toContain(TEST_TOKEN);
    await request(ctx.http).get('/api/v1/tokens/self').expect(401);
  });

  it('rejects a wrong token with 401 in the common error shape', async () => {
    const res = await request(ctx.http)
      .get('/api/v1/jobs')
      .set('PRIVATE-TOKEN', 'nope')
      .expect(401);
    expect(res.body).toEqual({
      statusCode: 401,
      code: 'UNAUTHORIZED',
      message: 'Missing or invalid PRIVATE-TOKEN',
      details: {},
    });
  });

  it('gives each scope what it allows and 403 for the rest', async () => {
    const ingest = await createToken(['ingest']);
    const read = await createToken(['read']);
    const event = () => makeEvent();

    await request(ctx.http)
      .post('/api/v1/jobs')
      .set('PRIVATE-TOKEN', ingest.token)
      .send(event())
      .expect(201);
    const forbidden = await request(ctx.http)
      .get('/api/v1/jobs')
      .set('PRIVATE-TOKEN', ingest.token)
      .expect(403);
    expect(forbidden.body).toMatchObject({ statusCode: 403, code: 'FORBIDDEN' });
    await request(ctx.http).get('/api/v1/tokens').set('PRIVATE-TOKEN', ingest.token).expect(403);

    await request(ctx.http).get('/api/v1/jobs').set('PRIVATE-TOKEN', read.token).expect(200);
    await request(ctx.http)
      .post('/api/v1/jobs')
      .set('PRIVATE-TOKEN', read.token)
      .send(event())
      .expect(403);
    await request(ctx.http)
      .post('/api/v1/tokens')
      .set('PRIVATE-TOKEN', read.token)
      .send({ name: 'x', scopes: ['admin'] })
      .expect(403);
  });

  it('stores only a hash, lists tokens without them, and revokes at once', async () => {
    const admin = await createToken(['admin']);
    const stored = await ctx.db.sql.query(
      'select token_hash, token_prefix from api_tokens where id = $1',
      [admin.id],
    );
    expect(stored.rows[0].token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored.rows)).not.toContain(admin.token);
    expect(admin.token.startsWith(stored.rows[0].token_prefix)).toBe(true);

    const list = await request(ctx.http)
      .get('/api/v1/tokens')
      .set('PRIVATE-TOKEN', admin.token)
      .expect(200);
    expect(JSON.stringify(list.body)).not.toContain(admin.token);
    expect(list.body.map((t: { id: string }) => t.id)).toContain(admin.id);

    await request(ctx.http)
      .delete(`/api/v1/tokens/${admin.id}`)
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(200);
    await request(ctx.http).get('/api/v1/jobs').set('PRIVATE-TOKEN', admin.token).expect(401);
  });

  it('refuses an expired token and validates token input', async () => {
    const bad = await request(ctx.http)
      .post('/api/v1/tokens')
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .send({ name: '', scopes: ['root'], extra: 1 })
      .expect(400);
    const fields = bad.body.details.errors.map((e: { field: string }) => e.field).sort();
    expect(fields).toEqual(expect.arrayContaining(['extra', 'name', 'scopes']));
    await request(ctx.http)
      .post('/api/v1/tokens')
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .send({ name: 'old', scopes: ['read'], expires_at: '2001-01-01T00:00:00Z' })
      .expect(400);
    // valid for an hour of the service's clock, which the test then moves past that hour
    const soon = await createToken(['read'], {
      expires_at: new Date(clock.now() + 3_600_000).toISOString(),
    });
    await request(ctx.http).get('/api/v1/jobs').set('PRIVATE-TOKEN', soon.token).expect(200);
    clock.advance(3_600_000 - 60_000);
    await request(ctx.http).get('/api/v1/jobs').set('PRIVATE-TOKEN', soon.token).expect(200);
    clock.advance(60_001);
    await request(ctx.http).get('/api/v1/jobs').set('PRIVATE-TOKEN', soon.token).expect(401);
    await request(ctx.http)
      .delete('/api/v1/tokens/not-a-uuid')
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(400);
    await request(ctx.http)
      .delete('/api/v1/tokens/00000000-0000-4000-8000-000000000000')
      .set('PRIVATE-TOKEN', TEST_TOKEN)
      .expect(404);
  });

  describe('Authorization: Bearer (what Prometheus sends)', () => {
    it('is accepted on every route that takes a PRIVATE-TOKEN, with the same outcome', async () => {
      // a read token: every route either serves it or refuses it for its scope, never for the
      // header; nothing it reaches changes state
      const read = await createToken(['read']);
      const outcomes = { served: 0, forbidden: 0 };
      for (const route of listRoutes(ctx.app).filter((r) => !r.public)) {
        const path = route.path.replace(/:[a-z_]+/g, 'abc');
        const send = (header: string, value: string) =>
          request(ctx.http)[route.method.toLowerCase() as 'get'](path).set(header, value).send({});
        const viaHeader = await send('PRIVATE-TOKEN', read.token);
        const viaBearer = await send('Authorization', `Bearer ${read.token}`);
        const name = `${route.method} ${route.path}`;
        expect({ route: name, status: viaBearer.status }).toEqual({
          route: name,
          status: viaHeader.status,
        });
        expect({ route: name, status: viaBearer.status }).not.toEqual({ route: name, status: 401 });
        outcomes[viaBearer.status === 403 ? 'forbidden' : 'served']++;
      }
      expect(outcomes.served).toBeGreaterThan(10);
      expect(outcomes.forbidden).toBeGreaterThan(5);
    });

    it('carries the token scopes: ingest, read and the bootstrap admin', async () => {
      const ingest = await createToken(['ingest']);
      const bearer = (token: string) => `Bearer ${token}`;
      await request(ctx.http)
        .post('/api/v1/jobs')
        .set('Authorization', bearer(ingest.token))
        .send(makeEvent())
        .expect(201);
      await request(ctx.http)
        .get('/api/v1/jobs')
        .set('Authorization', bearer(ingest.token))
        .expect(403);
      const self = await request(ctx.http)
        .get('/api/v1/tokens/self')
        .set('Authorization', `bearer ${ingest.token}`)
        .expect(200);
      expect(self.body).toEqual({ id: ingest.id, name: 't-ingest', scopes: ['ingest'] });
      const boot = await request(ctx.http)
        .get('/api/v1/tokens/self')
        .set('Authorization', bearer(TEST_TOKEN))
        .expect(200);
      expect(boot.body).toMatchObject({ id: null, scopes: ['admin'] });
      // the same token in both headers is one credential
      await request(ctx.http)
        .get('/api/v1/tokens')
        .set('PRIVATE-TOKEN', TEST_TOKEN)
        .set('Authorization', bearer(TEST_TOKEN))
        .expect(200);
      // revoked: refused in either header at once
      await request(ctx.http)
        .delete(`/api/v1/tokens/${ingest.id}`)
        .set('Authorization', bearer(TEST_TOKEN))
        .expect(200);
      await request(ctx.http)
        .get('/api/v1/tokens/self')
        .set('Authorization', bearer(ingest.token))
        .expect(401);
    });

    it('refuses a token in the query string, other schemes, and two headers that disagree', async () => {
      const read = await createToken(['read']);
      for (const query of ['private_token', 'access_token']) {
        await request(ctx.http)
          .get('/api/v1/jobs')
          .query({ [query]: read.token })
          .expect(401);
      }
      await request(ctx.http)
        .get('/api/v1/jobs')
        .set('Authorization', `Basic ${Buffer.from(`x:${read.token}`).toString('base64')}`)
        .expect(401);
      await request(ctx.http).get('/api/v1/jobs').set('Authorization', read.token).expect(401);
      const conflict = await request(ctx.http)
        .get('/api/v1/jobs')
        .set('PRIVATE-TOKEN', read.token)
        .set('Authorization', `Bearer ${TEST_TOKEN}`)
        .expect(401);
      expect(conflict.body).toEqual({
        statusCode: 401,
        code: 'UNAUTHORIZED',
        message: 'PRIVATE-TOKEN and Authorization: Bearer carry different tokens; send one',
        details: {},
      });
    });

    it('counts wrong Bearer tokens and disagreeing headers against the address like wrong PRIVATE-TOKENs', async () => {
      const limitEnv = { AUTH_FAILURE_LIMIT: '3', AUTH_FAILURE_WINDOW_SECONDS: '3600' };
      const saved = Object.fromEntries(Object.keys(limitEnv).map((k) => [k, process.env[k]]));
      const limited = await TestApp.startOn(ctx.db, { env: limitEnv });
      try {
        const read = await createToken(['read']);
        const get = () => request(limited.http).get('/api/v1/tokens/self');
        await get().set('Authorization', 'Bearer sks_wrong-one').expect(401);
        await get()
          .set('PRIVATE-TOKEN', read.token)
          .set('Authorization', `Bearer ${TEST_TOKEN}`)
          .expect(401);
        await get().set('PRIVATE-TOKEN', 'sks_wrong-two').expect(401);
        const refused = await get().set('Authorization', 'Bearer sks_wrong-three').expect(429);
        expect(refused.body).toMatchObject({ code: 'TOO_MANY_REQUESTS' });
        expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
        await get()
          .set('PRIVATE-TOKEN', read.token)
          .set('Authorization', `Bearer ${TEST_TOKEN}`)
          .expect(429);
        // valid tokens are never limited, in either header
        await get().set('Authorization', `Bearer ${TEST_TOKEN}`).expect(200);
        await get().set('PRIVATE-TOKEN', TEST_TOKEN).expect(200);
      } finally {
        await limited.closeApp();
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) {
            delete process.env[k];
          } else {
            process.env[k] = v;
          }
        }
      }
    });
  });
});
