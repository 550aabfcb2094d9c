import type { MikroORM } from '@mikro-orm/postgresql';
import { TestClock } from '../../test/support/clock.js';
import { AppConfig } from '../config/app-config.js';
import { validateEnv } from '../config/env.schema.js';
import type { ApiToken } from './api-token.entity.js';
import type { TokenMatch } from './api-token.repository.js';
import { Scope } from './scopes.decorator.js';
import { hashToken } from './token-hash.js';
import { LAST_USED_EVERY_MS, TokenVerifierService } from './token-verifier.service.js';

const ADDRESS = '10.0.0.1';

/** api_tokens as ApiTokenRepository reads and writes it, in memory. */
class FakeTokens {
  readonly rows: ApiToken[] = [];
  readonly touches: { ids: string[]; at: number; staleBefore: number }[] = [];
  queries = 0;
  failTouch = false;

  add(secret: string, overrides: Partial<ApiToken> = {}): ApiToken {
    const row = {
      id: `token-${this.rows.length + 1}`,
      name: `t${this.rows.length + 1}`,
      tokenHash: hashToken(secret),
      tokenPrefix: secret.slice(0, 8),
      scopes: [Scope.Read],
      createdAt: new Date(),
      expiresAt: null,
      lastUsedAt: null,
      revokedAt: null,
      previousTokenHash: null,
      previousValidUntil: null,
      ...overrides,
    } as ApiToken;
    this.rows.push(row);
    return row;
  }

  findActiveByHash(hash: string, now: Date): Promise<TokenMatch | null> {
    this.queries++;
    const t = now.getTime();
    const token = this.rows.find(
      (row) =>
        (row.tokenHash === hash ||
          (row.previousTokenHash === hash && row.previousValidUntil!.getTime() > t)) &&
        row.revokedAt === null &&
        (row.expiresAt === null || row.expiresAt.getTime() > t),
    );
    return Promise.resolve(token ? { token, previous: token.tokenHash !== hash } : null);
  }

  touch(ids: string[], at: Date, staleBefore: Date): Promise<void> {
    if (this.failTouch) {
      return Promise.reject(new Error('connection refused'));
    }
    this.touches.push({
      ids: [...ids].sort(),
      at: at.getTime(),
      staleBefore: staleBefore.getTime(),
    });
    return Promise.resolve();
  }
}

describe('TokenVerifierService', () => {
  let tokens: FakeTokens;
  let clock: TestClock;
  let sut: TokenVerifierService;

  // a cache far longer than the grace periods below: what ends an old secret is its grace
  const start = (env: Record<string, string> = { AUTH_TOKEN_CACHE_MS: '300000' }) => {
    const config = new AppConfig(
      validateEnv({
        DATABASE_URL: 'postgresql://app@127.0.0.1:5432/app',
        REDIS_URL: 'redis://127.0.0.1:6379/0',
        PRIVATE_TOKEN: 'b'.repeat(32),
        ...env,
      }),
    );
    const orm = { em: { fork: () => ({ getRepository: () => tokens }) } } as unknown as MikroORM;
    sut = new TokenVerifierService(config, orm, clock);
  };

  beforeEach(() => {
    tokens = new FakeTokens();
    clock = new TestClock();
    start();
  });

  afterEach(async () => {
    tokens.failTouch = false;
    await sut.onApplicationShutdown();
  });

  /** a rotation as TokensService.rotate stores it */
  const rotate = (row: ApiToken, secret: string, graceMs: number) => {
    row.previousTokenHash = graceMs > 0 ? row.tokenHash : null;
    row.previousValidUntil = graceMs > 0 ? new Date(clock.now() + graceMs) : null;
    row.tokenHash = hashToken(secret);
  };

  describe('rotation', () => {
    it('accepts the old secret until its grace ends, even while it is cached', async () => {
      const row = tokens.add('sks_old');
      expect(await sut.verify('sks_old', ADDRESS)).toMatchObject({ tokenId: row.id });
      rotate(row, 'sks_new', 10_000);
      sut.forget(row.id);

      expect(await sut.verify('sks_old', ADDRESS)).toMatchObject({ tokenId: row.id });
      expect(await sut.verify('sks_new', ADDRESS)).toMatchObject({ tokenId: row.id });
      const queries = tokens.queries;
      // (re-checked in the background only in the last fifth of the 10 s)
      clock.advance(7_000);
      expect(await sut.verify('sks_old', ADDRESS)).toMatchObject({ tokenId: row.id });
      expect(tokens.queries).toBe(queries); // answered from the cache

      clock.advance(3_001);
      expect(await sut.verify('sks_old', ADDRESS)).toBeNull();
      expect(await sut.verify('sks_new', ADDRESS)).toMatchObject({ tokenId: row.id });
    });

    it('refuses the old secret at once after a rotation without grace, though it was cached', async () => {
      const row = tokens.add('sks_old');
      await sut.verify('sks_old', ADDRESS);
      rotate(row, 'sks_new', 0);
      // before forget, the cache still answers: that is what forget is for
      expect(await sut.verify('sks_old', ADDRESS)).not.toBeNull();
      sut.forget(row.id);
      expect(await sut.verify('sks_old', ADDRESS)).toBeNull();
      expect(await sut.verify('sks_new', ADDRESS)).toMatchObject({ tokenId: row.id });
    });

    it('refuses both secrets at once when a rotated token is revoked', async () => {
      const row = tokens.add('sks_old');
      rotate(row, 'sks_new', 3_600_000);
      expect(await sut.verify('sks_old', ADDRESS)).not.toBeNull();
      expect(await sut.verify('sks_new', ADDRESS)).not.toBeNull();
      row.revokedAt = clock.date();
      sut.forget(row.id);
      expect(await sut.verify('sks_old', ADDRESS)).toBeNull();
      expect(await sut.verify('sks_new', ADDRESS)).toBeNull();
    });

    it('ends the old secret with the token when the token expires first', async () => {
      const row = tokens.add('sks_old', { expiresAt: new Date(clock.now() + 5_000) });
      rotate(row, 'sks_new', 3_600_000);
      expect(await sut.verify('sks_old', ADDRESS)).not.toBeNull();
      clock.advance(5_001);
      expect(await sut.verify('sks_old', ADDRESS)).toBeNull();
      expect(await sut.verify('sks_new', ADDRESS)).toBeNull();
    });
  });

  describe('last_used_at', () => {
    it('is written at most once a minute per token, at the time of the flush', async () => {
      const a = tokens.add('sks_a');
      const b = tokens.add('sks_b');
      await sut.verify('sks_a', ADDRESS);
      await sut.verify('sks_a', ADDRESS);
      const first = clock.now();
      await sut.flushLastUsed();
      expect(tokens.touches).toEqual([
        { ids: [a.id], at: first, staleBefore: first - LAST_USED_EVERY_MS },
      ]);

      // within the minute: a is not written again, b (never written) is
      clock.advance(30_000);
      await sut.verify('sks_a', ADDRESS);
      await sut.verify('sks_b', ADDRESS);
      await sut.flushLastUsed();
      expect(tokens.touches.map((t) => t.ids)).toEqual([[a.id], [b.id]]);
      clock.advance(29_000);
      await sut.verify('sks_a', ADDRESS);
      await sut.flushLastUsed();
      expect(tokens.touches).toHaveLength(2);

      // a minute after its write, a use of a is written again
      clock.advance(1_000);
      await sut.verify('sks_a', ADDRESS);
      await sut.flushLastUsed();
      expect(tokens.touches.map((t) => t.ids)).toEqual([[a.id], [b.id], [a.id]]);
    });

    it('writes nothing when no token was used, nor for the bootstrap token', async () => {
      await sut.verify('b'.repeat(32), ADDRESS);
      await sut.flushLastUsed();
      expect(tokens.touches).toEqual([]);
    });

    it('tries again at the next flush when the write fails', async () => {
      const a = tokens.add('sks_a');
      await sut.verify('sks_a', ADDRESS);
      tokens.failTouch = true;
      await sut.flushLastUsed();
      tokens.failTouch = false;
      await sut.flushLastUsed();
      expect(tokens.touches.map((t) => t.ids)).toEqual([[a.id]]);
    });
  });
});
