import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { TestClock } from '../support/clock.js';
import { QueryLog } from '../support/query-log.js';
import type { TcpProxy } from '../support/tcp-proxy.js';
import { startBehindDatabaseProxy, TEST_TOKEN, TestApp } from '../support/test-context.js';

// the token lookup (findActiveByHash) as MikroORM sends it; the last-used touch is an update
const TOKEN_LOOKUP = /^select\b[\s\S]*\bfrom "api_tokens"/i;

const wrongToken = () => `sks_${randomBytes(30).toString('base64url')}`;

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A plain HTTP client (keep-alive), optionally from another loopback address. */
class Client {
  private readonly agent: http.Agent;

  constructor(
    private readonly port: number,
    private readonly localAddress = '127.0.0.1',
    maxSockets = 16,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  get(path: string, token?: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = http.get(
        {
          host: '127.0.0.1',
          port: this.port,
          path,
          localAddress: this.localAddress,
          agent: this.agent,
          headers: token === undefined ? {} : { 'PRIVATE-TOKEN': token },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode!,
              headers: res.headers,
              body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

async function startApp(env: Record<string, string>, clock?: TestClock) {
  const { ctx, proxy } = await startBehindDatabaseProxy({ env, clock });
  const queries = new QueryLog(proxy);
  await ctx.app.listen(0, '127.0.0.1');
  const port = (ctx.http.address() as AddressInfo).port;
  return { ctx, proxy, queries, port };
}

async function createToken(ctx: TestApp, name: string): Promise<string> {
  const res = await request(ctx.http)
    .post('/api/v1/tokens')
    .set('PRIVATE-TOKEN', TEST_TOKEN)
    .send({ name, scopes: ['read'] })
    .expect(201);
  return (res.body as { token: string }).token;
}

const SELF = '/api/v1/tokens/self';

describe('PRIVATE-TOKEN caches (e2e)', () => {
  let ctx: TestApp;
  let proxy: TcpProxy;
  let queries: QueryLog;
  let client: Client;
  const lookups = () => queries.count(TOKEN_LOOKUP);

  beforeAll(async () => {
    let port: number;
    // no failure limit here: these tests look at what the caches save
    ({ ctx, proxy, queries, port } = await startApp({
      AUTH_FAILURE_LIMIT: '1000000',
      AUTH_FAILURE_WINDOW_SECONDS: '60',
      AUTH_TOKEN_CACHE_MS: '300000',
      AUTH_TOKEN_CACHE_SIZE: '1000',
      AUTH_UNKNOWN_CACHE_SIZE: '1000',
    }));
    client = new Client(port);
  });

  afterAll(async () => {
    client?.close();
    await ctx?.close();
    await proxy?.stop();
  });

  it('asks Postgres once for a wrong token however often, and however concurrently, it is sent', async () => {
    const wrong = wrongToken();
    const before = lookups();
    for (let i = 0; i < 5; i++) {
      expect((await client.get(SELF, wrong)).status).toBe(401);
    }
    expect(lookups() - before).toBe(1);

    const burst = wrongToken();
    const start = lookups();
    const replies = await Promise.all(Array.from({ length: 40 }, () => client.get(SELF, burst)));
    expect(replies.map((r) => r.status)).toEqual(Array<number>(40).fill(401));
    expect(lookups() - start).toBe(1);
  });

  it('keeps a valid token through 20,000 distinct wrong ones: the caches evict, never clear', async () => {
    const valid = await createToken(ctx, 'survivor');
    const first = lookups();
    expect((await client.get(SELF, valid)).status).toBe(200);
    expect((await client.get(SELF, valid)).status).toBe(200);
    expect(lookups() - first).toBe(1);

    const flood = Array.from({ length: 20_500 }, wrongToken);
    const floodStart = lookups();
    let next = 0;
    const statuses = new Map<number, number>();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < flood.length) {
          const { status } = await client.get(SELF, flood[next++]);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      }),
    );
    expect(Object.fromEntries(statuses)).toEqual({ 401: flood.length });
    expect(lookups() - floodStart).toBe(flood.length);

    // revoked behind the service's back (no forget()): only a cached entry can still answer 200
    await ctx.db.sql.query('update api_tokens set revoked_at = now() where name = $1', [
      'survivor',
    ]);
    const after = lookups();
    expect((await client.get(SELF, valid)).status).toBe(200);
    expect(lookups() - after).toBe(0);

    // the unknown-token cache holds the 1,000 most recent: the newest costs nothing, the oldest
    // was evicted and is looked up again
    expect((await client.get(SELF, flood.at(-1))).status).toBe(401);
    expect(lookups() - after).toBe(0);
    expect((await client.get(SELF, flood[0])).status).toBe(401);
    expect(lookups() - after).toBe(1);
  });
});

describe('PRIVATE-TOKEN failure limit per address (e2e)', () => {
  const LIMIT = 4;
  const WINDOW_SECONDS = 20; // one attempt back every 5 s
  let ctx: TestApp;
  let proxy: TcpProxy;
  let queries: QueryLog;
  let client: Client;
  let neighbour: Client;
  let seen: string;
  const lookups = () => queries.count(TOKEN_LOOKUP);
  // cache lifetimes and the failure window are passed by moving this clock, not by sleeping
  const clock = new TestClock();

  beforeAll(async () => {
    let port: number;
    ({ ctx, proxy, queries, port } = await startApp(
      {
        AUTH_FAILURE_LIMIT: String(LIMIT),
        AUTH_FAILURE_WINDOW_SECONDS: String(WINDOW_SECONDS),
        AUTH_TOKEN_CACHE_MS: '1000',
        AUTH_TOKEN_CACHE_SIZE: '1000',
        AUTH_UNKNOWN_CACHE_SIZE: '1000',
      },
      clock,
    ));
    client = new Client(port);
    neighbour = new Client(port, '127.0.0.2');
    // used once before any failure: this copy knows it was valid
    seen = await createToken(ctx, 'seen');
    expect((await client.get(SELF, seen)).status).toBe(200);
  });

  afterAll(async () => {
    client?.close();
    neighbour?.close();
    await ctx?.close();
    await proxy?.stop();
  });

  /** Spends whatever allowance 127.0.0.1 has got back (requests without a token: no query). */
  const drain = async (): Promise<Reply> => {
    for (let i = 0; i <= LIMIT; i++) {
      const reply = await client.get(SELF);
      if (reply.status === 429) {
        return reply;
      }
      expect(reply.status).toBe(401);
    }
    throw new Error('the address was never limited');
  };

  it('answers 429 with Retry-After after the allowance, and then asks Postgres nothing', async () => {
    const before = lookups();
    const statuses: number[] = [];
    let limited: Reply | undefined;
    while (!limited && statuses.length < 3 * LIMIT) {
      const reply = await client.get(SELF, wrongToken());
      statuses.push(reply.status);
      limited = reply.status === 429 ? reply : undefined;
    }
    expect(statuses.slice(0, LIMIT)).toEqual(Array<number>(LIMIT).fill(401));
    expect(limited?.body).toEqual({
      statusCode: 429,
      code: 'TOO_MANY_REQUESTS',
      message: expect.stringContaining('Too many failed PRIVATE-TOKEN attempts'),
      details: { retry_after_seconds: expect.any(Number) },
    });
    const retryAfter = (limited!.body.details as { retry_after_seconds: number })
      .retry_after_seconds;
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS / LIMIT);
    expect(limited!.headers['retry-after']).toBe(String(retryAfter));
    // one query per 401, none for the 429
    expect(lookups() - before).toBe(statuses.filter((s) => s === 401).length);

    // a flood of new wrong tokens from the limited address: refused without a query
    const flood = [];
    for (let i = 0; i < 50; i++) {
      flood.push((await client.get(SELF, wrongToken())).status);
    }
    expect(flood.filter((s) => s === 429).length).toBeGreaterThanOrEqual(45);
    expect(lookups() - before).toBe([...statuses, ...flood].filter((s) => s === 401).length);

    // no token at all: limited alike
    const none = await drain();
    expect(none.body).toMatchObject({ statusCode: 429, code: 'TOO_MANY_REQUESTS' });
  });

  it('lets valid tokens through from the limited address, and limits no other address', async () => {
    await drain();
    expect((await client.get(SELF, TEST_TOKEN)).status).toBe(200);
    expect((await client.get(SELF, seen)).status).toBe(200);

    // past AUTH_TOKEN_CACHE_MS the token is checked again, limited or not: nobody guesses a hash
    // that was valid
    clock.advance(1100);
    await drain();
    const before = lookups();
    expect((await client.get(SELF, seen)).status).toBe(200);
    expect(lookups() - before).toBe(1);

    // and that check still sees a revocation made elsewhere (here: straight in Postgres)
    await ctx.db.sql.query('update api_tokens set revoked_at = now() where name = $1', ['seen']);
    clock.advance(1100);
    await drain();
    expect((await client.get(SELF, seen)).status).toBe(429);
    expect(lookups() - before).toBe(2);

    const other = await neighbour.get(SELF, seen);
    expect(other.status).toBe(401);
    expect(lookups() - before).toBe(2);
    expect((await neighbour.get(SELF)).status).toBe(401);
  });

  it('lets a valid token it has not seen yet through on a probe (one per window/limit), which is given back', async () => {
    const late = await createToken(ctx, 'late');
    await drain();
    const before = lookups();
    const refused = await client.get(SELF, late);
    expect(refused.status).toBe(429);
    expect(lookups() - before).toBe(0);

    clock.advance(Number(refused.headers['retry-after']) * 1000);
    expect((await client.get(SELF, late)).status).toBe(200);
    expect(lookups() - before).toBe(1);
    // the probe was no failure: the attempt it took is back
    expect((await client.get(SELF)).status).toBe(401);
    await drain();
    expect((await client.get(SELF, late)).status).toBe(200);
  });
});
