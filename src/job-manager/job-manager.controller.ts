import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Scope, Scopes } from '../auth/scopes.decorator.js';
import { ApiErrorResponse } from '../common/errors/api-errors.decorator.js';
import {
  DurationPageDto,
  FoundJobDto,
  InstanceQueryDto,
  JobIdParamDto,
  JobManagerQueryDto,
  LostJobPageDto,
  ManagerJobPageDto,
  RestartBodyDto,
  RestartReportDto,
} from './dto/job-manager.dto.js';
import { JobManagerService, type QueryOptions } from './job-manager.service.js';
import { Audited } from '../audit/audited.decorator.js';
import { restartAuditResult } from './restart-audit.js';

function options(q: JobManagerQueryDto): QueryOptions {
  return { limit: q.limit, offset: q.offset, instance: q.instance, from: q.from, to: q.to };
}

@ApiTags('job-manager')
@Scopes(Scope.Read)
@ApiErrorResponse(400)
@ApiErrorResponse(503, "PostgreSQL or Sidekiq's Redis is unavailable; retry later")
@Controller('api/v1/job-manager')
export class JobManagerController {
  constructor(private readonly manager: JobManagerService) {}

  @Get('queued-jobs')
  @ApiOperation({ summary: 'Jobs whose latest status is queued' })
  @ApiOkResponse({ type: ManagerJobPageDto })
  queued(@Query() q: JobManagerQueryDto): Promise<ManagerJobPageDto> {
    return this.manager.queuedJobs(q.filter, options(q));
  }

  @Get('uncompleted-jobs')
  @ApiOperation({ summary: 'Jobs whose latest status is running (started, not finished)' })
  @ApiOkResponse({ type: ManagerJobPageDto })
  uncompleted(@Query() q: JobManagerQueryDto): Promise<ManagerJobPageDto> {
    return this.manager.uncompletedJobs(q.filter, options(q));
  }

  @Get('completed-jobs')
  @ApiOperation({ summary: 'Jobs whose latest status is succeeded' })
  @ApiOkResponse({ type: ManagerJobPageDto })
  completed(@Query() q: JobManagerQueryDto): Promise<ManagerJobPageDto> {
    return this.manager.completedJobs(q.filter, options(q));
  }

  @Get('failed-jobs')
  @ApiOperation({ summary: 'Jobs that failed for good or died' })
  @ApiOkResponse({ type: ManagerJobPageDto })
  failed(@Query() q: JobManagerQueryDto): Promise<ManagerJobPageDto> {
    return this.manager.failedJobs(q.filter, options(q));
  }

  @Get('all-jobs')
  @ApiOperation({ summary: 'Every job, newest first' })
  @ApiOkResponse({ type: ManagerJobPageDto })
  all(@Query() q: JobManagerQueryDto): Promise<ManagerJobPageDto> {
    return this.manager.allJobs(q.filter, options(q));
  }

  @Get('queued-to-completion-durations')
  @ApiOperation({ summary: 'Succeeded jobs with the time from queued to completed' })
  @ApiOkResponse({ type: DurationPageDto })
  queuedToCompletion(@Query() q: JobManagerQueryDto): Promise<DurationPageDto> {
    return this.manager.queuedToCompletionDuration(q.filter, options(q));
  }

  @Get('lost-jobs')
  @ApiOperation({ summary: 'Jobs started on a Sidekiq process that is gone, never finished' })
  @ApiOkResponse({ type: LostJobPageDto })
  @ApiErrorResponse(404, 'INSTANCE_NOT_FOUND: unknown instance')
  lost(@Query() q: JobManagerQueryDto): Promise<LostJobPageDto> {
    return this.manager.lostJobs(q.filter, options(q));
  }

  @Get('jobs/:job_id')
  @ApiOperation({ summary: 'One job: its timeline and where Sidekiq holds it now' })
  @ApiOkResponse({ type: FoundJobDto })
  @ApiErrorResponse(404, 'JOB_NOT_FOUND: no job with this job_id')
  @ApiErrorResponse(409, 'CONFLICT: this job_id exists in several instances; pass instance')
  find(@Param() p: JobIdParamDto, @Query() q: InstanceQueryDto): Promise<FoundJobDto> {
    return this.manager.find(p.job_id, q.instance);
  }

  @Post('restart-uncompleted-jobs')
  @HttpCode(200)
  @Scopes(Scope.Admin)
  @Audited('job_manager.restart', {
    noDefaultInstance: true,
    result: (report) => restartAuditResult(report as RestartReportDto),
  })
  @ApiOperation({
    summary:
      'Re-enqueue jobs that never finished and that Sidekiq no longer holds (dry_run to preview)',
  })
  @ApiOkResponse({ type: RestartReportDto })
  @ApiErrorResponse(404, 'INSTANCE_NOT_FOUND: unknown instance')
  @ApiErrorResponse(409, 'CONFLICT: another restart is running')
  restart(@Body() body: RestartBodyDto): Promise<RestartReportDto> {
    return this.manager.restartUncompletedJobs(body.filter, {
      dryRun: body.dry_run,
      includeQueued: body.include_queued,
      minAgeSeconds: body.min_age_seconds,
      limit: body.limit,
      instance: body.instance,
    });
  }

  @Get('completed-jobs-durations')
  @ApiOperation({ summary: 'Succeeded jobs with the time from started to completed' })
  @ApiOkResponse({ type: DurationPageDto })
  completedDurations(@Query() q: JobManagerQueryDto): Promise<DurationPageDto> {
    return this.manager.completedJobsDuration(q.filter, options(q));
  }
}
