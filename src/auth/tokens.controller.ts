import { Body, Controller, Delete, Get, Param, Post, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponse } from '../common/errors/api-errors.decorator.js';
import {
  CreatedTokenDto,
  CreateTokenDto,
  TokenIdParamDto,
  TokenResponseDto,
  TokenSelfDto,
} from './dto/token.dto.js';
import type { AuthenticatedRequest } from './private-token.guard.js';
import { Scope, Scopes } from './scopes.decorator.js';
import { TokensService } from './tokens.service.js';

@ApiTags('tokens')
@Scopes(Scope.Admin)
@ApiErrorResponse(503, 'PostgreSQL is unavailable; retry later')
@Controller('api/v1/tokens')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Post()
  @ApiOperation({ summary: 'Create a token; the response is the only time it is shown' })
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
  @ApiOperation({ summary: 'List tokens (never the tokens themselves)' })
  @ApiOkResponse({ type: [TokenResponseDto] })
  list(): Promise<TokenResponseDto[]> {
    return this.tokens.list();
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Revoke a token (takes effect within seconds on every copy)' })
  @ApiOkResponse({ type: TokenResponseDto, description: 'the token as revoked' })
  @ApiErrorResponse(400)
  @ApiErrorResponse(404, 'TOKEN_NOT_FOUND')
  revoke(@Param() params: TokenIdParamDto): Promise<TokenResponseDto> {
    return this.tokens.revoke(params.id);
  }
}
