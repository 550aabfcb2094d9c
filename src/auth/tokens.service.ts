import { EntityManager, LockMode } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/errors/domain-error.js';
import { invalid } from '../common/validation/invalid.js';
import { AppConfig } from '../config/app-config.js';
import { ApiToken } from './api-token.entity.js';
import { ApiTokenRepository } from './api-token.repository.js';
import {
  CreatedTokenDto,
  TokenListItemDto,
  TokenResponseDto,
  TokenState,
  tokenState,
} from './dto/token.dto.js';
import { Scope } from './scopes.decorator.js';
import { generateToken, hashToken } from './token-hash.js';
import { TokenVerifierService } from './token-verifier.service.js';

const DAY_MS = 86_400_000;
const DEFAULT_GRACE_MS = 3_600_000;

const BOOTSTRAP_ENTRY: TokenListItemDto = Object.freeze({
  id: null,
  bootstrap: true,
  name: 'bootstrap (PRIVATE_TOKEN env)',
  token_prefix: null,
  scopes: [Scope.Admin],
  created_at: null,
  expires_at: null,
  last_used_at: null,
  revoked_at: null,
  previous_valid_until: null,
  state: TokenState.Active,
});

@Injectable()
export class TokensService {
  constructor(
    private readonly em: EntityManager,
    private readonly tokens: ApiTokenRepository,
    private readonly verifier: TokenVerifierService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  async create(name: string, scopes: Scope[], expiresAt?: Date): Promise<CreatedTokenDto> {
    const now = this.clock.now();
    const expires = this.expiry(expiresAt, now);
    const token = generateToken();
    const entity = this.em.create(ApiToken, {
      name,
      scopes: [...scopes].sort(),
      tokenHash: hashToken(token),
      tokenPrefix: token.slice(0, 8),
      createdAt: new Date(now),
      expiresAt: expires,
      lastUsedAt: null,
      revokedAt: null,
      previousTokenHash: null,
      previousValidUntil: null,
    });
    await this.em.flush();
    return { ...TokenResponseDto.from(entity, now), token };
  }

  async list(): Promise<TokenListItemDto[]> {
    const rows = await this.tokens.findAll({ orderBy: { createdAt: 'desc' } });
    const now = this.clock.now();
    return [
      BOOTSTRAP_ENTRY,
      ...rows.map((t) => ({ ...TokenResponseDto.from(t, now), bootstrap: false })),
    ];
  }

  async revoke(id: string): Promise<TokenResponseDto> {
    const token = await this.tokens.findOne({ id });
    if (!token) {
      throw notFound(id);
    }
    token.revokedAt ??= this.clock.date();
    await this.em.flush();
    this.verifier.forget(token.id);
    return TokenResponseDto.from(token, this.clock.now());
  }

  /**
   * A new secret for the token; the one it replaces keeps working for `graceSeconds` (default an
   * hour, or TOKEN_MAX_GRACE_SECONDS if less; 0: not at all). A secret still in the grace of an
   * earlier rotation stops at once. The token's expiry is set again, as for a new token.
   */
  async rotate(id: string, graceSeconds?: number, expiresAt?: Date): Promise<CreatedTokenDto> {
    const now = this.clock.now();
    const { maxGraceMs } = this.config.tokens;
    const graceMs =
      graceSeconds === undefined ? Math.min(DEFAULT_GRACE_MS, maxGraceMs) : graceSeconds * 1000;
    if (graceMs > maxGraceMs) {
      throw invalid(
        'grace_seconds',
        `must be at most ${maxGraceMs / 1000} (TOKEN_MAX_GRACE_SECONDS)`,
      );
    }
    const expires = this.expiry(expiresAt, now);
    const secret = generateToken();
    const token = await this.em.transactional(async (em) => {
      // two rotations at once: the second sees the first's secret as the one it replaces
      const row = await em.findOne(ApiToken, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!row) {
        throw notFound(id);
      }
      const state = tokenState(row, now);
      if (state === TokenState.Revoked || state === TokenState.Expired) {
        throw new DomainError('TOKEN_NOT_ROTATABLE', `Token ${id} is ${state}; create a new one`, {
          field: 'id',
          state,
        });
      }
      row.previousTokenHash = graceMs > 0 ? row.tokenHash : null;
      row.previousValidUntil = graceMs > 0 ? new Date(now + graceMs) : null;
      row.tokenHash = hashToken(secret);
      row.tokenPrefix = secret.slice(0, 8);
      row.expiresAt = expires;
      return row;
    });
    this.verifier.forget(token.id);
    return { ...TokenResponseDto.from(token, now), token: secret };
  }

  private expiry(requested: Date | undefined, now: number): Date {
    const { defaultTtlMs, maxTtlMs } = this.config.tokens;
    if (!requested) {
      return new Date(now + defaultTtlMs);
    }
    if (requested.getTime() <= now) {
      throw invalid('expires_at', 'must be in the future');
    }
    if (requested.getTime() > now + maxTtlMs) {
      throw invalid(
        'expires_at',
        `must be at most ${maxTtlMs / DAY_MS} days from now (TOKEN_MAX_DAYS)`,
      );
    }
    return requested;
  }
}

function notFound(id: string): DomainError {
  return new DomainError('TOKEN_NOT_FOUND', `No token with id ${id}`, { field: 'id' });
}
