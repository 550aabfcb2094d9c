import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Scope, Scopes } from '../auth/scopes.decorator.js';
import { JobMetricsDto, JobMetricsQueryDto } from './dto/job-metrics.dto.js';
import { JobWindowMetricsService } from './job-window-metrics.service.js';
import { ApiErrorResponse, ApiErrors } from '../common/errors/api-errors.decorator.js';
import { ClassMetricsService } from './class-metrics.service.js';
import {
  ClassListDto,
  ClassListQueryDto,
  ClassMetricsDto,
  ClassMetricsQueryDto,
  JobClassParamDto,
} from './dto/class-metrics.dto.js';

@ApiTags('metrics')
@Scopes(Scope.Read)
@ApiErrors(400, 503)
@Controller('api/v1/metrics')
export class JobMetricsController {
  constructor(
    private readonly metrics: JobWindowMetricsService,
    private readonly classMetrics: ClassMetricsService,
  ) {}

  @Get('jobs')
  @ApiOperation({
    summary: 'Per job class and queue over a window: count, rates, p50/p95/p99/max wait and run',
  })
  @ApiOkResponse({ type: JobMetricsDto })
  jobs(@Query() query: JobMetricsQueryDto): Promise<JobMetricsDto> {
    return this.metrics.jobs(query);
  }

  @Get('classes')
  @ApiOperation({
    summary:
      'Job classes with their finished jobs, failures and run p50/p95 over a window (1h … 7d), by name',
  })
  @ApiOkResponse({ type: ClassListDto })
  classes(@Query() query: ClassListQueryDto): Promise<ClassListDto> {
    return this.classMetrics.list(query.window ?? '1h', query.instance, query.limit ?? 200);
  }

  @Get('classes/:job_class')
  @ApiOperation({
    summary:
      "One job class over a window: processed and failed per bucket, run and wait percentiles, run-time histogram (Sidekiq's Metrics tab)",
  })
  @ApiOkResponse({ type: ClassMetricsDto })
  @ApiErrorResponse(404, 'NOT_FOUND: no finished job of that class is stored')
  classMetricsOf(
    @Param() params: JobClassParamDto,
    @Query() query: ClassMetricsQueryDto,
  ): Promise<ClassMetricsDto> {
    return this.classMetrics.one(params.job_class, query.window ?? '1h', query.instance);
  }
}
