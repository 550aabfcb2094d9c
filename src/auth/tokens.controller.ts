import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponse } from '../common/errors/api-errors.decorator.js';
import {
  CreatedTokenDto,
  CreateTokenDto,
  RotateTokenDto,
  TokenIdParamDto,
  TokenListItemDto,
  TokenResponseDto,
  TokenSelfDto,
} from './dto/token.dto.js';
import type { AuthenticatedRequest } from './private-token.guard.js';
import { Scope, Scopes } from './scopes.decorator.js';
import { TokensService } from './tokens.service.js';
import { Audited } from '../audit/audited.decorator.js';

@ApiTags('tokens')
@Scopes(Scope.Admin)
@ApiErrorResponse(503, 'PostgreSQL is unavailable; retry later')
@Controller('api/v1/tokens')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Post()
  @Audited('token.create', {
    noDefaultInstance: true,
    result: (r) => ({
      token_id: (r as CreatedTokenDto).id,
      token_name: (r as CreatedTokenDto).name,
    }),
  })
  @ApiOperation({
    summary:
      'Create a token; the response is the only time it is shown. Without expires_at it expires after TOKEN_DEFAULT_DAYS',
  })
  @ApiCreatedResponse({ type: CreatedTokenDto })
  @ApiErrorResponse(400)
  create(@Body() body: CreateTokenDto): Promise<CreatedTokenDto> {
    return this.tokens.create(
      body.name,
      body.scopes,
      body.expires_at ? new Date(body.expires_at) : undefined,
    );
  }

  @Get('self')
  @Scopes(Scope.Ingest, Scope.Read)
  @ApiOperation({
    summary:
      'The token making the request: its name and scopes (any valid token; never the secret)',
  })
  @ApiOkResponse({ type: TokenSelfDto })
  self(@Req() request: AuthenticatedRequest): TokenSelfDto {
    const principal = request.principal!;
    return { id: principal.tokenId, name: principal.name, scopes: principal.scopes };
  }

  @Get()
  @ApiOperation({
    summary:
      'List tokens (never the tokens themselves): first the bootstrap PRIVATE_TOKEN (bootstrap: true), then the stored ones, newest first',
  })
  @ApiOkResponse({ type: [TokenListItemDto] })
  list(): Promise<TokenListItemDto[]> {
    return this.tokens.list();
  }

  @Delete(':id')
  @Audited('token.revoke', { params: { id: 'token_id' }, noDefaultInstance: true })
  @ApiOperation({ summary: 'Revoke a token (takes effect within seconds on every copy)' })
  @ApiOkResponse({ type: TokenResponseDto, description: 'the token as revoked' })
  @ApiErrorResponse(400)
  @ApiErrorResponse(404, 'TOKEN_NOT_FOUND')
  revoke(@Param() params: TokenIdParamDto): Promise<TokenResponseDto> {
    return this.tokens.revoke(params.id);
  }

  @Post(':id/rotate')
  @HttpCode(200)
  @Audited('token.rotate', { params: { id: 'token_id' }, noDefaultInstance: true })
  @ApiOperation({
    summary:
      'Give a token a new secret (shown only in this response); the old one keeps working for grace_seconds',
  })
  @ApiBody({ type: RotateTokenDto, required: false })
  @ApiOkResponse({ type: CreatedTokenDto, description: 'the token with its new secret' })
  @ApiErrorResponse(400)
  @ApiErrorResponse(404, 'TOKEN_NOT_FOUND')
  @ApiErrorResponse(409, 'TOKEN_NOT_ROTATABLE: the token is revoked or expired')
  rotate(@Param() params: TokenIdParamDto, @Body() body: RotateTokenDto): Promise<CreatedTokenDto> {
    return this.tokens.rotate(
      params.id,
      body?.grace_seconds,
      body?.expires_at ? new Date(body.expires_at) : undefined,
    );
  }
}
