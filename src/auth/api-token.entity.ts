import { Check, Entity, EntityRepositoryType, Index, PrimaryKey, Property } from '@mikro-orm/core';
import { ApiTokenRepository } from './api-token.repository.js';

@Entity({ tableName: 'api_tokens', repository: () => ApiTokenRepository })
@Check({
  name: 'api_tokens_scopes_check',
  expression: `scopes <@ array['ingest','read','admin','sensitive']::text[] and cardinality(scopes) > 0`,
})
// a rotated token's old secret, while its grace period lasts (TokenVerifierService)
@Index({
  name: 'api_tokens_previous_token_hash_unique',
  expression: `create unique index "api_tokens_previous_token_hash_unique" on "api_tokens"
      ("previous_token_hash") where "previous_token_hash" is not null`,
})
export class ApiToken {
  [EntityRepositoryType]?: ApiTokenRepository;

  @PrimaryKey({ type: 'uuid', defaultRaw: 'gen_random_uuid()' })
  id!: string;

  @Property({ type: 'text' })
  name!: string;

  // sha256 hex of the token; the token itself is never stored
  @Property({ type: 'text', unique: true })
  tokenHash!: string;

  @Property({ type: 'text' })
  tokenPrefix!: string;

  @Property({ type: 'text[]' })
  scopes!: string[];

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', nullable: true })
  expiresAt: Date | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null = null;

  // sha256 hex of the secret replaced by the last rotation, accepted until previousValidUntil
  @Property({ type: 'text', nullable: true })
  previousTokenHash: string | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  previousValidUntil: Date | null = null;
}
