import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Scope, Scopes } from '../auth/scopes.decorator.js';
import { JobMetricsDto, JobMetricsQueryDto } from './dto/job-metrics.dto.js';
import { JobWindowMetricsService } from './job-window-metrics.service.js';
import { ApiErrors } from '../common/errors/api-errors.decorator.js';

@ApiTags('metrics')
@Scopes(Scope.Read)
@ApiErrors(400, 503)
@Controller('api/v1/metrics')
export class JobMetricsController {
  constructor(private readonly metrics: JobWindowMetricsService) {}

  @Get('jobs')
  @ApiOperation({
    summary: 'Per job class and queue over a window: count, rates, p50/p95/p99/max wait and run',
  })
  @ApiOkResponse({ type: JobMetricsDto })
  jobs(@Query() query: JobMetricsQueryDto): Promise<JobMetricsDto> {
    return this.metrics.jobs(query);
  }
}
