import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { Public } from '../auth/public.decorator.js';
import { ApiErrorResponse } from '../common/errors/api-errors.decorator.js';
import { DatabaseHealthIndicator } from './database.health.js';
import { RedisHealthIndicator } from './redis.health.js';

@ApiTags('health')
@Controller('api/v1/health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: DatabaseHealthIndicator,
    private readonly redis: RedisHealthIndicator,
  ) {}

  @Get()
  @Public()
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process answers (no dependency checked)' })
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @Public()
  @HealthCheck()
  @ApiOperation({
    summary:
      'Readiness: PostgreSQL and every Sidekiq Redis answer in time; 503 names the part down',
  })
  @ApiErrorResponse(
    503,
    "NOT_READY: message names the parts down; details holds terminus' report (status, info, error, details)",
  )
  ready() {
    return this.health.check([() => this.database.check('database'), ...this.redis.checks()]);
  }
}
