import { EntityRepository } from '@mikro-orm/postgresql';
import type { ApiToken } from './api-token.entity.js';

export interface TokenMatch {
  token: ApiToken;
  /** the hash is the token's previous secret, accepted until token.previousValidUntil */
  previous: boolean;
}

export class ApiTokenRepository extends EntityRepository<ApiToken> {
  /** The token whose current secret, or previous one still in its grace period, hashes to `tokenHash`. */
  async findActiveByHash(tokenHash: string, now: Date): Promise<TokenMatch | null> {
    const token = await this.findOne({
      $and: [
        {
          $or: [{ tokenHash }, { previousTokenHash: tokenHash, previousValidUntil: { $gt: now } }],
        },
        { $or: [{ expiresAt: null }, { expiresAt: { $gt: now } }] },
      ],
      revokedAt: null,
    });
    return token ? { token, previous: token.tokenHash !== tokenHash } : null;
  }

  /**
   * Sets last_used_at to `at` on the tokens whose last_used_at is older than `staleBefore`: copies
   * that each throttle their own writes still write a token at most once per that interval.
   */
  async touch(ids: string[], at: Date, staleBefore: Date): Promise<void> {
    if (ids.length > 0) {
      await this.nativeUpdate(
        { id: { $in: ids }, $or: [{ lastUsedAt: null }, { lastUsedAt: { $lte: staleBefore } }] },
        { lastUsedAt: at },
      );
    }
  }
}
