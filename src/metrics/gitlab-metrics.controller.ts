import { Controller, Get } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Scope, Scopes } from '../auth/scopes.decorator.js';
import {
  CompoundMetricsDto,
  GitlabQueueMetricDto,
  JobStatsDto,
  ProcessMetricsDto,
  QueueMetricsDto,
} from './dto/gitlab-metrics.dto.js';
import { GitlabMetricsService } from './gitlab-metrics.service.js';
import { ApiErrors } from '../common/errors/api-errors.decorator.js';

// GitLab's own paths and shapes (doc: "Sidekiq Metrics API"), for gitbeaker's SidekiqMetrics
// and python-gitlab's SidekiqManager.
@ApiTags('gitlab-sidekiq-metrics')
@ApiExtraModels(GitlabQueueMetricDto)
@Scopes(Scope.Read)
@ApiErrors(502, 503)
@Controller('api/v4/sidekiq')
export class GitlabMetricsController {
  constructor(private readonly metrics: GitlabMetricsService) {}

  @Get('queue_metrics')
  @ApiOperation({ summary: 'Backlog and latency per queue (GitLab-compatible)' })
  @ApiOkResponse({ type: QueueMetricsDto })
  queueMetrics(): Promise<QueueMetricsDto> {
    return this.metrics.queueMetrics();
  }

  @Get('process_metrics')
  @ApiOperation({ summary: 'Live Sidekiq processes (GitLab-compatible)' })
  @ApiOkResponse({ type: ProcessMetricsDto })
  processMetrics(): Promise<ProcessMetricsDto> {
    return this.metrics.processMetrics();
  }

  @Get('job_stats')
  @ApiOperation({ summary: 'Processed, failed, enqueued and dead job counts (GitLab-compatible)' })
  @ApiOkResponse({ type: JobStatsDto })
  jobStats(): Promise<JobStatsDto> {
    return this.metrics.jobStats();
  }

  @Get('compound_metrics')
  @ApiOperation({ summary: 'Queue, process and job metrics in one body (GitLab-compatible)' })
  @ApiOkResponse({ type: CompoundMetricsDto })
  compoundMetrics(): Promise<CompoundMetricsDto> {
    return this.metrics.compoundMetrics();
  }
}
