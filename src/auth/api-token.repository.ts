import { EntityRepository } from '@mikro-orm/postgresql';
import type { ApiToken } from './api-token.entity.js';

export class ApiTokenRepository extends EntityRepository<ApiToken> {
  findActiveByHash(tokenHash: string, now: Date): Promise<ApiToken | null> {
    return this.findOne({
      tokenHash,
      revokedAt: null,
      $or: [{ expiresAt: null }, { expiresAt: { $gt: now } }],
    });
  }

  async touch(ids: string[], at: Date): Promise<void> {
    if (ids.length > 0) {
      await this.nativeUpdate({ id: { $in: ids } }, { lastUsedAt: at });
    }
  }
}
