import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsEnum,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
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

  @ApiPropertyOptional({ description: 'ISO 8601; the token stops working then' })
  @IsOptional()
  @IsDateTime()
  expires_at?: string;
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

  static from(t: ApiToken): TokenResponseDto {
    return {
      id: t.id,
      name: t.name,
      token_prefix: t.tokenPrefix,
      scopes: t.scopes as Scope[],
      created_at: t.createdAt.toISOString(),
      expires_at: t.expiresAt?.toISOString() ?? null,
      last_used_at: t.lastUsedAt?.toISOString() ?? null,
      revoked_at: t.revokedAt?.toISOString() ?? null,
    };
  }
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
