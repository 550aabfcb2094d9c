import { Body, Controller, Get, Post, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Scope, Scopes } from '../../auth/scopes.decorator.js';
import { ApiErrors } from '../../common/errors/api-errors.decorator.js';
import { DeploysService } from './deploys.service.js';
import {
  CreateDeployDto,
  CreatedDeployDto,
  DeployComparisonDto,
  DeployDto,
  DeployListQueryDto,
  DeployPageDto,
} from './dto/deploys.dto.js';

@ApiTags('deploys')
@ApiErrors(400, 503)
@Controller('api/v1/deploys')
export class DeploysController {
  constructor(private readonly deploys: DeploysService) {}

  @Post()
  @Scopes(Scope.Ingest)
  @ApiOperation({
    summary:
      'Record a deploy mark (idempotent per instance and revision: the first one stays, 200 instead of 201)',
  })
  @ApiCreatedResponse({ type: CreatedDeployDto })
  @ApiOkResponse({ type: CreatedDeployDto, description: 'the revision was marked already' })
  async create(
    @Body() body: CreateDeployDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CreatedDeployDto> {
    const { deploy, created } = await this.deploys.mark({
      instance: body.instance,
      revision: body.revision,
      deployedAt: body.deployed_at ? new Date(body.deployed_at) : undefined,
    });
    res.status(created ? 201 : 200);
    return { ...DeployDto.from(deploy), created };
  }

  @Get()
  @Scopes(Scope.Read)
  @ApiOperation({
    summary:
      'Deploys, newest first, each with per-class failure rate and run-time p95 before and after it, regressions flagged',
  })
  @ApiOkResponse({ type: DeployPageDto })
  async list(@Query() query: DeployListQueryDto): Promise<DeployPageDto> {
    const limit = query.limit ?? 10;
    const offset = query.offset ?? 0;
    const page = await this.deploys.list({
      instance: query.instance,
      windowMinutes: query.window_minutes,
      limit,
      offset,
    });
    return {
      limit,
      offset,
      next_offset: page.nextOffset,
      deploys: page.deploys.map((d) => DeployComparisonDto.fromComparison(d)),
    };
  }
}
