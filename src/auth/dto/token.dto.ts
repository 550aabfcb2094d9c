import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsEnum,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { Scope } from '../scopes.decorator.js';
import type { ApiToken } from '../api-token.entity.js';
import { IsDateTime } from '../../common/validation/validators.js';

export class CreateTokenDto {
  @ApiProperty({ example: 'billing-app ingest' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @ApiProperty({ enum: Scope, isArray: true, example: [Scope.Ingest] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsEnum(Scope, { each: true })
  scopes!: Scope[];

  @ApiPropertyOptional({
    description:
      'ISO 8601; the token stops working then. Default: now + TOKEN_DEFAULT_DAYS (90); at most now + TOKEN_MAX_DAYS (365)',
  })
  @IsOptional()
  @IsDateTime()
  expires_at?: string;
}

// the env's own bound on TOKEN_MAX_GRACE_SECONDS; the configured one is checked by the service
const GRACE_SECONDS_CEILING = 2_592_000;

export class RotateTokenDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: GRACE_SECONDS_CEILING,
    description:
      'How long the old secret keeps working; 0 ends it at once. Default 3600 (or TOKEN_MAX_GRACE_SECONDS if less); at most TOKEN_MAX_GRACE_SECONDS (86400)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(GRACE_SECONDS_CEILING)
  grace_seconds?: number;

  @ApiPropertyOptional({
    description:
      'ISO 8601; when the token (new secret) expires. Default: now + TOKEN_DEFAULT_DAYS; at most now + TOKEN_MAX_DAYS',
  })
  @IsOptional()
  @IsDateTime()
  expires_at?: string;
}

export enum TokenState {
  Active = 'active',
  /** rotated, and its previous secret still works (until previous_valid_until) */
  Rotating = 'rotating',
  Expired = 'expired',
  Revoked = 'revoked',
}

export function tokenState(t: ApiToken, now: number): TokenState {
  if (t.revokedAt) {
    return TokenState.Revoked;
  }
  if (t.expiresAt && t.expiresAt.getTime() <= now) {
    return TokenState.Expired;
  }
  if (t.previousValidUntil && t.previousValidUntil.getTime() > now) {
    return TokenState.Rotating;
  }
  return TokenState.Active;
}

export class TokenIdParamDto {
  @ApiProperty({ format: 'uuid' })
  @Matches(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, {
    message: 'id must be a UUID',
  })
  id!: string;
}

export class TokenResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'First characters, to recognise a token' }) token_prefix!: string;
  @ApiProperty({ enum: Scope, isArray: true }) scopes!: Scope[];
  @ApiProperty() created_at!: string;
  @ApiProperty({ nullable: true, type: String }) expires_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) last_used_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) revoked_at!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Until when the secret replaced by the last rotation still works',
  })
  previous_valid_until!: string | null;
  @ApiProperty({ enum: TokenState, enumName: 'TokenState' }) state!: TokenState;

  static from(t: ApiToken, now: number): TokenResponseDto {
    const state = tokenState(t, now);
    return {
      id: t.id,
      name: t.name,
      token_prefix: t.tokenPrefix,
      scopes: t.scopes as Scope[],
      created_at: t.createdAt.toISOString(),
      expires_at: t.expiresAt?.toISOString() ?? null,
      last_used_at: t.lastUsedAt?.toISOString() ?? null,
      revoked_at: t.revokedAt?.toISOString() ?? null,
      previous_valid_until:
        state === TokenState.Rotating ? t.previousValidUntil!.toISOString() : null,
      state,
    };
  }
}

export class TokenListItemDto {
  @ApiProperty({ nullable: true, type: String, description: 'null for the bootstrap token' })
  id!: string | null;
  @ApiProperty({
    description:
      'true for the bootstrap PRIVATE_TOKEN from the environment (always first): admin, never expires, cannot be revoked or rotated through the API',
  })
  bootstrap!: boolean;
  @ApiProperty() name!: string;
  @ApiProperty({ nullable: true, type: String, description: 'null for the bootstrap token' })
  token_prefix!: string | null;
  @ApiProperty({ enum: Scope, isArray: true }) scopes!: Scope[];
  @ApiProperty({ nullable: true, type: String, description: 'null for the bootstrap token' })
  created_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) expires_at!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'written at most once a minute: may lag the last use by up to about 90 s',
  })
  last_used_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) revoked_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) previous_valid_until!: string | null;
  @ApiProperty({ enum: TokenState, enumName: 'TokenState' }) state!: TokenState;
}

export class CreatedTokenDto extends TokenResponseDto {
  @ApiProperty({ description: 'The token itself: shown only in this response' })
  token!: string;
}

export class TokenSelfDto {
  @ApiProperty({ nullable: true, type: String, description: 'null for the bootstrap token' })
  id!: string | null;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: Scope, isArray: true }) scopes!: Scope[];
}
