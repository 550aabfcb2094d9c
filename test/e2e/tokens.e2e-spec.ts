import request from 'supertest';
import { TokenVerifierService } from '../../src/auth/token-verifier.service.js';
import { TestClock } from '../support/clock.js';
import { TEST_TOKEN, TestApp } from '../support/test-context.js';

const DAY_MS = 86_400_000;

interface Token {
  id: string;
  token: string;
  state: string;
  expires_at: string | null;
  previous_valid_until: string | null;
}

// Token lifecycle (#24): default and longest expiry, rotation with a grace period, revocation,
// last_used_at throttling. The service's clock is a TestClock the tests move; the cache of valid
// tokens stays on (5 s), so what they show holds with it.
describe('token lifecycle (e2e)', () => {
  let ctx: TestApp;
  const clock = new TestClock();

  beforeAll(async () => {
    ctx = await TestApp.start({
      clock,
      env: { TOKEN_DEFAULT_DAYS: '30', TOKEN_MAX_DAYS: '60', TOKEN_MAX_GRACE_SECONDS: '7200' },
    });
  });

  afterAll(async () => {
    await ctx?.close();
  });

  const admin = () => ({ 'PRIVATE-TOKEN': TEST_TOKEN });
  const create = async (body: Record<string, unknown> = {}): Promise<Token> =>
    (
      await request(ctx.http)
        .post('/api/v1/tokens')
        .set(admin())
        .send({ name: 'app', scopes: ['read'], ...body })
        .expect(201)
    ).body;
  const rotate = (id: string, body: Record<string, unknown> = {}) =>
    request(ctx.http).post(`/api/v1/tokens/${id}/rotate`).set(admin()).send(body);
  const works = async (token: string) =>
    (await request(ctx.http).get('/api/v1/tokens/self').set('PRIVATE-TOKEN', token)).status === 200;
  const lastUsedAt = async (id: string): Promise<number | null> => {
    const res = await ctx.db.sql.query<{ last_used_at: Date | null }>(
      'select last_used_at from api_tokens where id = $1',
      [id],
    );
    return res.rows[0].last_used_at?.getTime() ?? null;
  };

  describe('expiry', () => {
    it('gives a token without expires_at now + TOKEN_DEFAULT_DAYS', async () => {
      const before = clock.now();
      const token = await create();
      const expires = Date.parse(token.expires_at!);
      expect(expires).toBeGreaterThanOrEqual(before + 30 * DAY_MS);
      expect(expires).toBeLessThanOrEqual(clock.now() + 30 * DAY_MS);
      expect(token.state).toBe('active');
    });

    it('refuses expires_at beyond TOKEN_MAX_DAYS with a 400 naming expires_at', async () => {
      const res = await request(ctx.http)
        .post('/api/v1/tokens')
        .set(admin())
        .send({
          name: 'forever',
          scopes: ['read'],
          expires_at: new Date(clock.now() + 61 * DAY_MS).toISOString(),
        })
        .expect(400);
      expect(res.body).toMatchObject({
        statusCode: 400,
        code: 'VALIDATION_FAILED',
        details: {
          errors: [
            { field: 'expires_at', message: 'must be at most 60 days from now (TOKEN_MAX_DAYS)' },
          ],
        },
      });
      const within = new Date(clock.now() + 59 * DAY_MS).toISOString();
      expect((await create({ expires_at: within })).expires_at).toBe(within);
    });

    it('keeps tokens stored without an expiry working (made before expiry was required)', async () => {
      const token = await create();
      await ctx.db.sql.query('update api_tokens set expires_at = null where id = $1', [token.id]);
      expect(await works(token.token)).toBe(true);
      const listed = await request(ctx.http).get('/api/v1/tokens').set(admin()).expect(200);
      expect(listed.body.find((t: Token) => t.id === token.id)).toMatchObject({
        expires_at: null,
        state: 'active',
      });
    });
  });

  describe('rotation', () => {
    it('keeps the old secret working through the grace period and refuses it after', async () => {
      const token = await create();
      expect(await works(token.token)).toBe(true); // cached as valid before the rotation
      const rotatedAt = clock.now();
      const res = await rotate(token.id, { grace_seconds: 600 }).expect(200);
      const rotated = res.body as Token;
      expect(rotated).toMatchObject({ id: token.id, state: 'rotating' });
      expect(rotated.token).not.toBe(token.token);
      expect(Date.parse(rotated.previous_valid_until!)).toBeGreaterThanOrEqual(rotatedAt + 600_000);
      expect(Date.parse(rotated.expires_at!)).toBeGreaterThanOrEqual(rotatedAt + 30 * DAY_MS);

      expect(await works(token.token)).toBe(true);
      expect(await works(rotated.token)).toBe(true);
      clock.advance(590_000);
      expect(await works(token.token)).toBe(true);
      clock.advance(10_001);
      expect(await works(token.token)).toBe(false);
      expect(await works(rotated.token)).toBe(true);
      const listed = await request(ctx.http).get('/api/v1/tokens').set(admin()).expect(200);
      expect(listed.body.find((t: Token) => t.id === token.id)).toMatchObject({
        state: 'active',
        previous_valid_until: null,
      });
    });

    it('with grace_seconds 0 refuses the old secret at once, though it was just used', async () => {
      const token = await create();
      expect(await works(token.token)).toBe(true);
      const rotated = (await rotate(token.id, { grace_seconds: 0 }).expect(200)).body as Token;
      expect(rotated).toMatchObject({ state: 'active', previous_valid_until: null });
      expect(await works(token.token)).toBe(false);
      expect(await works(rotated.token)).toBe(true);
    });

    it('gives an hour of grace by default, bounded by TOKEN_MAX_GRACE_SECONDS', async () => {
      const token = await create();
      const before = clock.now();
      // no body at all
      const rotated = (
        await request(ctx.http).post(`/api/v1/tokens/${token.id}/rotate`).set(admin()).expect(200)
      ).body as Token;
      const until = Date.parse(rotated.previous_valid_until!);
      expect(until).toBeGreaterThanOrEqual(before + 3_600_000);
      expect(until).toBeLessThanOrEqual(clock.now() + 3_600_000);
      const tooLong = await rotate(token.id, { grace_seconds: 7201 }).expect(400);
      expect(tooLong.body.details.errors).toEqual([
        { field: 'grace_seconds', message: 'must be at most 7200 (TOKEN_MAX_GRACE_SECONDS)' },
      ]);
      const negative = await rotate(token.id, { grace_seconds: -1 }).expect(400);
      expect(negative.body.details.errors[0].field).toBe('grace_seconds');
    });

    it('ends the grace of an earlier rotation at once when the token is rotated again', async () => {
      const token = await create();
      const first = (await rotate(token.id, { grace_seconds: 600 }).expect(200)).body as Token;
      const second = (await rotate(token.id, { grace_seconds: 600 }).expect(200)).body as Token;
      expect(await works(token.token)).toBe(false);
      expect(await works(first.token)).toBe(true);
      expect(await works(second.token)).toBe(true);
    });

    it('revoking a rotated token refuses both secrets at once', async () => {
      const token = await create();
      const rotated = (await rotate(token.id, { grace_seconds: 600 }).expect(200)).body as Token;
      expect(await works(token.token)).toBe(true);
      expect(await works(rotated.token)).toBe(true);
      const revoked = await request(ctx.http)
        .delete(`/api/v1/tokens/${token.id}`)
        .set(admin())
        .expect(200);
      expect(revoked.body).toMatchObject({ state: 'revoked' });
      expect(await works(token.token)).toBe(false);
      expect(await works(rotated.token)).toBe(false);
    });

    it('refuses to rotate a revoked or expired token (409) and an unknown one (404)', async () => {
      const revoked = await create();
      await request(ctx.http).delete(`/api/v1/tokens/${revoked.id}`).set(admin()).expect(200);
      const conflict = await rotate(revoked.id).expect(409);
      expect(conflict.body).toEqual({
        statusCode: 409,
        code: 'TOKEN_NOT_ROTATABLE',
        message: `Token ${revoked.id} is revoked; create a new one`,
        details: { field: 'id', state: 'revoked' },
      });

      const expiring = await create({ expires_at: new Date(clock.now() + 60_000).toISOString() });
      clock.advance(60_001);
      expect(await works(expiring.token)).toBe(false);
      const expired = await rotate(expiring.id).expect(409);
      expect(expired.body).toMatchObject({
        code: 'TOKEN_NOT_ROTATABLE',
        details: { state: 'expired' },
      });

      const missing = await rotate('00000000-0000-4000-8000-000000000000').expect(404);
      expect(missing.body).toMatchObject({ statusCode: 404, code: 'TOKEN_NOT_FOUND' });
      await rotate('not-a-uuid').expect(400);
    });

    it('is for admins only: a read or ingest token gets 403, even on itself', async () => {
      for (const scopes of [['read'], ['ingest']]) {
        const token = await create({ scopes });
        const res = await request(ctx.http)
          .post(`/api/v1/tokens/${token.id}/rotate`)
          .set('PRIVATE-TOKEN', token.token)
          .send({})
          .expect(403);
        expect(res.body).toMatchObject({ statusCode: 403, code: 'FORBIDDEN' });
        await request(ctx.http).get('/api/v1/tokens').set('PRIVATE-TOKEN', token.token).expect(403);
      }
      const adminToken = await create({ scopes: ['admin'] });
      const other = await create();
      await request(ctx.http)
        .post(`/api/v1/tokens/${other.id}/rotate`)
        .set('PRIVATE-TOKEN', adminToken.token)
        .send({})
        .expect(200);
    });
  });

  it('lists the bootstrap PRIVATE_TOKEN first, flagged, without any part of it', async () => {
    const token = await create();
    const res = await request(ctx.http).get('/api/v1/tokens').set(admin()).expect(200);
    expect(res.body[0]).toEqual({
      id: null,
      bootstrap: true,
      name: 'bootstrap (PRIVATE_TOKEN env)',
      token_prefix: null,
      scopes: ['admin'],
      created_at: null,
      expires_at: null,
      last_used_at: null,
      revoked_at: null,
      previous_valid_until: null,
      state: 'active',
    });
    expect(res.body.slice(1).every((t: { bootstrap: boolean }) => t.bootstrap === false)).toBe(
      true,
    );
    expect(res.body.map((t: Token) => t.id)).toContain(token.id);
    expect(JSON.stringify(res.body)).not.toContain(TEST_TOKEN.slice(0, 8));
  });

  it('writes last_used_at at most once a minute per token', async () => {
    const verifier = ctx.get(TokenVerifierService);
    const token = await create();
    await verifier.flushLastUsed(); // whatever earlier tests left pending
    expect(await lastUsedAt(token.id)).toBeNull();

    expect(await works(token.token)).toBe(true);
    await verifier.flushLastUsed();
    const first = await lastUsedAt(token.id);
    expect(first).not.toBeNull();

    // used again within the minute: not written again
    clock.advance(30_000);
    expect(await works(token.token)).toBe(true);
    await verifier.flushLastUsed();
    clock.advance(25_000);
    expect(await works(token.token)).toBe(true);
    await verifier.flushLastUsed();
    expect(await lastUsedAt(token.id)).toBe(first);

    // a minute after the write, the next use is written
    clock.advance(5_001);
    expect(await works(token.token)).toBe(true);
    await verifier.flushLastUsed();
    const second = await lastUsedAt(token.id);
    expect(second).toBeGreaterThanOrEqual(first! + 60_000);

    // another copy of the service (its own memory of writes) writes no sooner either
    const other = await TestApp.startOn(ctx.db, { clock });
    try {
      clock.advance(10_000);
      expect(
        (await request(other.http).get('/api/v1/tokens/self').set('PRIVATE-TOKEN', token.token))
          .status,
      ).toBe(200);
      await other.get(TokenVerifierService).flushLastUsed();
      expect(await lastUsedAt(token.id)).toBe(second);
    } finally {
      await other.closeApp();
    }
  });
});
