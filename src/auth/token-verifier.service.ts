import { MikroORM } from '@mikro-orm/postgresql';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/errors/domain-error.js';
import { AppConfig } from '../config/app-config.js';
import { isDatabaseUnavailable } from '../database/pg-errors.js';
import { ApiToken } from './api-token.entity.js';
import type { TokenMatch } from './api-token.repository.js';
import { FailureLimiter } from './failure-limiter.js';
import { LookupGate } from './lookup-gate.js';
import { LruCache } from './lru-cache.js';
import { Scope } from './scopes.decorator.js';
import { digestsMatch, tokenDigest } from './token-hash.js';

export interface Principal {
  /** null for the bootstrap admin token from PRIVATE_TOKEN */
  tokenId: string | null;
  name: string;
  scopes: Scope[];
}

// Tokens are 240 random bits, so a hash unknown now stays unknown: this only bounds how long a
// token inserted behind the service's back (a restore) waits to be seen
const UNKNOWN_TTL_MS = 60_000;
const TOUCH_EVERY_MS = 30_000;
// last_used_at is written at most this often per token (README "Tokens"): a busy token costs one
// UPDATE a minute, not one per request
export const LAST_USED_EVERY_MS = 60_000;
// unknown-token lookups waiting for one of the gate's slots; beyond that, 429 at once
const UNKNOWN_LOOKUP_QUEUE = 1_000;

interface Known {
  principal: Principal;
  until: number;
  /** from here on, a request starts a re-check while the entry still answers */
  refreshAt: number;
}

/**
 * Resolves a token (PRIVATE-TOKEN or Authorization: Bearer) to its principal, and counts failed attempts per client address.
 *
 * - Valid tokens: an LRU of AUTH_TOKEN_CACHE_SIZE hashes, each trusted for AUTH_TOKEN_CACHE_MS (or
 *   until the token expires, or for a rotated token's old secret until its grace period ends),
 *   re-checked in the background in its last fifth; a revocation or rotation on this copy takes
 *   effect at once (forget), on other copies within that time. An entry past its time stays in
 *   the LRU as "was valid": its re-check goes to Postgres whatever the address's failures, since
 *   nobody guesses a hash that was valid.
 * - last_used_at: written at most once a minute per token (LAST_USED_EVERY_MS), by a flush every
 *   30 s.
 * - Unknown hashes: an LRU of AUTH_UNKNOWN_CACHE_SIZE, so a repeated wrong token costs no query.
 * - Failures (no token, a wrong one, one that is no longer valid) take from the address's
 *   allowance (FailureLimiter); when it is spent the answer is 429 TOO_MANY_REQUESTS, and a token
 *   this copy does not know yet is refused without a query. Each attempt that does go to Postgres
 *   takes from the allowance first and gets it back if the token is valid, so a limited address
 *   still gets one probe every AUTH_FAILURE_WINDOW_SECONDS / AUTH_FAILURE_LIMIT, never more.
 */
@Injectable()
export class TokenVerifierService implements OnApplicationShutdown {
  private readonly logger = new Logger(TokenVerifierService.name);
  private readonly valid: LruCache<string, Known>;
  private readonly unknown: LruCache<string, number>;
  private readonly limiter: FailureLimiter;
  /** lookups of hashes nobody has shown valid: a bounded share of the database pool */
  private readonly gate: LookupGate;
  /** one query per hash at a time, however many requests carry it */
  private readonly pending = new Map<string, Promise<Principal | null>>();
  /** bumped by forget(): a lookup that started before a revocation must not cache its answer */
  private generation = 0;
  /** tokens used since the last flush whose last_used_at this copy has not written for a minute */
  private readonly used = new Set<string>();
  /** when this copy last wrote each token's last_used_at; kept for LAST_USED_EVERY_MS */
  private readonly touched = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  /** digest of the bootstrap token, computed once: a request costs one hash, whatever its token */
  private readonly bootstrapDigest: Buffer;

  constructor(
    private readonly config: AppConfig,
    private readonly orm: MikroORM,
    private readonly clock: Clock,
  ) {
    this.bootstrapDigest = tokenDigest(config.privateToken);
    this.valid = new LruCache(config.auth.tokenCacheSize);
    this.unknown = new LruCache(config.auth.unknownCacheSize);
    this.limiter = new FailureLimiter({
      limit: config.auth.failureLimit,
      windowMs: config.auth.failureWindowMs,
      addresses: config.auth.failureAddresses,
    });
    this.gate = new LookupGate(config.auth.unknownLookupConcurrency, UNKNOWN_LOOKUP_QUEUE);
    this.timer = setInterval(() => void this.flushLastUsed(), TOUCH_EVERY_MS);
    this.timer.unref();
  }

  /**
   * The principal of `sent`, or null (401) when it is missing or invalid; throws
   * TOO_MANY_REQUESTS when `address` has spent its allowance of failures.
   */
  async verify(sent: string, address: string): Promise<Principal | null> {
    const now = this.clock.now();
    if (!sent) {
      return this.failed(address, now);
    }
    const digest = tokenDigest(sent);
    if (digestsMatch(digest, this.bootstrapDigest)) {
      return { tokenId: null, name: 'bootstrap admin (PRIVATE_TOKEN)', scopes: [Scope.Admin] };
    }
    const hash = digest.toString('hex');
    const known = this.valid.get(hash);
    if (known) {
      if (known.until > now) {
        if (known.refreshAt <= now && !this.pending.has(hash)) {
          // refreshed ahead of its end, in the background: a busy token's requests never wait
          // for Postgres, and an entry is never trusted past its time
          this.lookup(hash).catch(() => undefined);
        }
        this.markUsed(known.principal, now);
        return known.principal;
      }
      return (await this.lookup(hash)) ?? this.failed(address, this.clock.now());
    }
    const unknownUntil = this.unknown.get(hash);
    if (unknownUntil !== undefined && unknownUntil > now) {
      return this.failed(address, now);
    }
    this.takeOrRefuse(address, now);
    let principal: Principal | null;
    try {
      const gated = await this.gate.run(async () => ({ principal: await this.lookupOnce(hash) }));
      if (gated === null) {
        throw new DomainError(
          'TOO_MANY_REQUESTS',
          'Too many unknown tokens are being checked right now; retry in 1 s',
          { retry_after_seconds: 1 },
        );
      }
      principal = gated.principal;
    } catch (error) {
      // an outage is not the client's failure
      this.limiter.refund(address, this.clock.now());
      throw error;
    }
    if (principal) {
      this.limiter.refund(address, this.clock.now());
    }
    return principal;
  }

  /**
   * A request refused before any token is looked up (two headers naming different tokens): a
   * failure of `address` like a wrong token; throws TOO_MANY_REQUESTS once the allowance is spent.
   */
  refuse(address: string): void {
    this.failed(address, this.clock.now());
  }

  forget(tokenId: string): void {
    this.generation++;
    this.valid.deleteWhere((entry) => entry.principal.tokenId === tokenId);
  }

  /** Writes last_used_at of the tokens used since the last flush (every 30 s, and at shutdown). */
  async flushLastUsed(): Promise<void> {
    const now = this.clock.now();
    for (const [id, at] of this.touched) {
      if (at <= now - LAST_USED_EVERY_MS) {
        this.touched.delete(id);
      }
    }
    if (this.used.size === 0) {
      return;
    }
    const ids = [...this.used];
    this.used.clear();
    for (const id of ids) {
      this.touched.set(id, now);
    }
    try {
      await this.orm.em
        .fork()
        .getRepository(ApiToken)
        .touch(ids, new Date(now), new Date(now - LAST_USED_EVERY_MS));
    } catch (error) {
      this.logger.warn(`could not record token use: ${(error as Error).message}`);
      for (const id of ids) {
        this.touched.delete(id);
        this.used.add(id);
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flushLastUsed();
  }

  private failed(address: string, now: number): null {
    this.takeOrRefuse(address, now);
    return null;
  }

  private takeOrRefuse(address: string, now: number): void {
    const waitMs = this.limiter.take(address, now);
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      throw new DomainError(
        'TOO_MANY_REQUESTS',
        `Too many failed PRIVATE-TOKEN attempts from this address; retry in ${seconds} s`,
        { retry_after_seconds: seconds },
      );
    }
  }

  /** lookup, unless a request that waited ahead of this one at the gate has answered it already */
  private lookupOnce(hash: string): Promise<Principal | null> {
    const now = this.clock.now();
    if ((this.unknown.get(hash) ?? 0) > now) {
      return Promise.resolve(null);
    }
    const known = this.valid.get(hash);
    if (known && known.until > now) {
      this.markUsed(known.principal, now);
      return Promise.resolve(known.principal);
    }
    return this.lookup(hash);
  }

  private lookup(hash: string): Promise<Principal | null> {
    let pending = this.pending.get(hash);
    if (!pending) {
      pending = this.query(hash).finally(() => this.pending.delete(hash));
      this.pending.set(hash, pending);
    }
    return pending.then((principal) => {
      this.markUsed(principal, this.clock.now());
      return principal;
    });
  }

  private async query(hash: string): Promise<Principal | null> {
    const generation = this.generation;
    const now = this.clock.now();
    let match: TokenMatch | null;
    try {
      match = await this.orm.em
        .fork()
        .getRepository(ApiToken)
        .findActiveByHash(hash, new Date(now));
    } catch (error) {
      if (isDatabaseUnavailable(error)) {
        throw new DomainError(
          'DATABASE_UNAVAILABLE',
          'Cannot check the token: database unavailable',
        );
      }
      throw error;
    }
    if (!match) {
      this.valid.delete(hash);
      this.unknown.set(hash, now + UNKNOWN_TTL_MS);
      return null;
    }
    const { token, previous } = match;
    const principal: Principal = {
      tokenId: token.id,
      name: token.name,
      scopes: token.scopes as Scope[],
    };
    this.unknown.delete(hash);
    if (generation === this.generation) {
      const until = Math.min(
        now + this.config.auth.tokenCacheMs,
        token.expiresAt?.getTime() ?? Infinity,
        // an old secret stops at the end of its grace, whatever the cache's time
        previous ? token.previousValidUntil!.getTime() : Infinity,
      );
      const refreshAt = until - (until - now) / 5;
      this.valid.set(hash, { principal, until, refreshAt });
    }
    return principal;
  }

  private markUsed(principal: Principal | null, now: number): void {
    const id = principal?.tokenId;
    if (id && (this.touched.get(id) ?? -Infinity) <= now - LAST_USED_EVERY_MS) {
      this.used.add(id);
    }
  }
}

export function hasScope(principal: Principal, required: readonly Scope[]): boolean {
  // admin stands for every scope but `sensitive`, which a token holds only by name
  return required.some(
    (scope) =>
      principal.scopes.includes(scope) ||
      (scope !== Scope.Sensitive && principal.scopes.includes(Scope.Admin)),
  );
}
