import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/errors/domain-error.js';
import { invalid } from '../common/validation/invalid.js';
import { ApiToken } from './api-token.entity.js';
import { ApiTokenRepository } from './api-token.repository.js';
import { CreatedTokenDto, TokenResponseDto } from './dto/token.dto.js';
import type { Scope } from './scopes.decorator.js';
import { generateToken, hashToken } from './token-hash.js';
import { TokenVerifierService } from './token-verifier.service.js';

@Injectable()
export class TokensService {
  constructor(
    private readonly em: EntityManager,
    private readonly tokens: ApiTokenRepository,
    private readonly verifier: TokenVerifierService,
    private readonly clock: Clock,
  ) {}

  async create(name: string, scopes: Scope[], expiresAt?: Date): Promise<CreatedTokenDto> {
    if (expiresAt && expiresAt.getTime() <= this.clock.now()) {
      throw invalid('expires_at', 'must be in the future');
    }
    const token = generateToken();
    const entity = this.em.create(ApiToken, {
      name,
      scopes: [...scopes].sort(),
      tokenHash: hashToken(token),
      tokenPrefix: token.slice(0, 8),
      createdAt: this.clock.date(),
      expiresAt: expiresAt ?? null,
      lastUsedAt: null,
      revokedAt: null,
    });
    await this.em.flush();
    return { ...TokenResponseDto.from(entity), token };
  }

  async list(): Promise<TokenResponseDto[]> {
    const rows = await this.tokens.findAll({ orderBy: { createdAt: 'desc' } });
    return rows.map((t) => TokenResponseDto.from(t));
  }

  async revoke(id: string): Promise<TokenResponseDto> {
    const token = await this.tokens.findOne({ id });
    if (!token) {
      throw new DomainError('TOKEN_NOT_FOUND', `No token with id ${id}`, { field: 'id' });
    }
    token.revokedAt ??= this.clock.date();
    await this.em.flush();
    this.verifier.forget(token.id);
    return TokenResponseDto.from(token);
  }
}
