import { MikroORM } from '@mikro-orm/postgresql';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { DomainError } from '../common/errors/domain-error.js';
import { AppConfig } from '../config/app-config.js';
import { isDatabaseUnavailable } from '../database/pg-errors.js';
import { ApiToken } from './api-token.entity.js';
import { Scope } from './scopes.decorator.js';
import { digestsMatch, tokenDigest } from './token-hash.js';

export interface Principal {
  /** null for the bootstrap admin token from PRIVATE_TOKEN */
  tokenId: string | null;
  name: string;
  scopes: Scope[];
}

const CACHE_TTL_MS = 5_000;
const CACHE_MAX = 10_000;
const TOUCH_EVERY_MS = 30_000;

/**
 * Resolves a PRIVATE-TOKEN to its principal. Lookups are cached for a few seconds (positive and
 * negative) so a busy ingest client costs one hash, not one query, per request; a revocation on
 * this copy takes effect at once, on other copies within CACHE_TTL_MS.
 */
@Injectable()
export class TokenVerifier implements OnApplicationShutdown {
  private readonly logger = new Logger(TokenVerifier.name);
  private readonly cache = new Map<string, { principal: Principal | null; until: number }>();
  private readonly used = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  /** digest of the bootstrap token, computed once: a request costs one hash, whatever its token */
  private readonly bootstrapDigest: Buffer;

  constructor(
    private readonly config: AppConfig,
    private readonly orm: MikroORM,
  ) {
    this.bootstrapDigest = tokenDigest(config.privateToken);
    this.timer = setInterval(() => void this.flushLastUsed(), TOUCH_EVERY_MS);
    this.timer.unref();
  }

  async verify(sent: string): Promise<Principal | null> {
    if (!sent) {
      return null;
    }
    const digest = tokenDigest(sent);
    if (digestsMatch(digest, this.bootstrapDigest)) {
      return { tokenId: null, name: 'bootstrap admin (PRIVATE_TOKEN)', scopes: [Scope.Admin] };
    }
    const hash = digest.toString('hex');
    const now = Date.now();
    const cached = this.cache.get(hash);
    if (cached && cached.until > now) {
      if (cached.principal?.tokenId) {
        this.used.add(cached.principal.tokenId);
      }
      return cached.principal;
    }
    let token: ApiToken | null;
    try {
      token = await this.orm.em
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
    const principal: Principal | null = token
      ? { tokenId: token.id, name: token.name, scopes: token.scopes as Scope[] }
      : null;
    if (this.cache.size >= CACHE_MAX) {
      this.cache.clear();
    }
    const until = token?.expiresAt
      ? Math.min(now + CACHE_TTL_MS, token.expiresAt.getTime())
      : now + CACHE_TTL_MS;
    this.cache.set(hash, { principal, until });
    if (principal?.tokenId) {
      this.used.add(principal.tokenId);
    }
    return principal;
  }

  forget(tokenId: string): void {
    for (const [hash, entry] of this.cache) {
      if (entry.principal?.tokenId === tokenId) {
        this.cache.delete(hash);
      }
    }
  }

  async flushLastUsed(): Promise<void> {
    if (this.used.size === 0) {
      return;
    }
    const ids = [...this.used];
    this.used.clear();
    try {
      await this.orm.em.fork().getRepository(ApiToken).touch(ids, new Date());
    } catch (error) {
      this.logger.warn(`could not record token use: ${(error as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flushLastUsed();
  }
}

export function hasScope(principal: Principal, required: readonly Scope[]): boolean {
  return (
    principal.scopes.includes(Scope.Admin) ||
    required.some((scope) => principal.scopes.includes(scope))
  );
}
