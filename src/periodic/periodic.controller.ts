import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Scope, Scopes, SeesSensitive } from '../auth/scopes.decorator.js';
import { ApiErrorResponse } from '../common/errors/api-errors.decorator.js';
import {
  PeriodicActionQueryDto,
  PeriodicEnqueuedDto,
  PeriodicJobDto,
  PeriodicJobParamsDto,
  PeriodicPageDto,
  PeriodicPageQueryDto,
} from './dto/periodic.dto.js';
import { PeriodicService } from './periodic.service.js';
import { Audited } from '../audit/audited.decorator.js';

@ApiTags('periodic')
@ApiErrorResponse(
  404,
  'INSTANCE_NOT_FOUND, or PERIODIC_JOB_NOT_FOUND for a name neither sidekiq-cron nor sidekiq-scheduler knows',
)
@ApiErrorResponse(502, "SIDEKIQ_REDIS_ERROR: Sidekiq's Redis answered with an error")
@ApiErrorResponse(503, "SIDEKIQ_UNREACHABLE: Sidekiq's Redis does not answer; retry later")
@Controller('api/v1/sidekiq/periodic')
export class PeriodicController {
  constructor(private readonly periodic: PeriodicService) {}

  @Get()
  @Scopes(Scope.Read)
  @ApiOperation({
    summary:
      'sidekiq-cron jobs and sidekiq-scheduler schedules with schedule, next run, last enqueue, last run and success from the history, and status',
  })
  @ApiOkResponse({ type: PeriodicPageDto })
  list(
    @Query() query: PeriodicPageQueryDto,
    @SeesSensitive() sensitive: boolean,
  ): Promise<PeriodicPageDto> {
    return this.periodic.list(query.instance, query.page, query.per_page, sensitive);
  }

  @Post(':name/enable')
  @HttpCode(200)
  @Scopes(Scope.Admin)
  @Audited('sidekiq.periodic.enable', {
    params: { name: 'periodic_job' },
    result: (r) => ({ source: (r as PeriodicJobDto).source }),
  })
  @ApiOperation({
    summary:
      "Enable a sidekiq-cron job (Job#enable!) or sidekiq-scheduler schedule (its web UI's toggle: sidekiq-scheduler:states)",
  })
  @ApiOkResponse({ type: PeriodicJobDto })
  @ApiErrorResponse(403, 'READ_ONLY_MODE (SIDEKIQ_READ_ONLY=true)')
  @ApiErrorResponse(409, 'CONFLICT: both gems have a job of that name and no source was given')
  enable(
    @Param() params: PeriodicJobParamsDto,
    @Query() query: PeriodicActionQueryDto,
    @SeesSensitive() sensitive: boolean,
  ): Promise<PeriodicJobDto> {
    return this.periodic.setStatus(query.instance, params.name, 'enabled', sensitive, query.source);
  }

  @Post(':name/disable')
  @HttpCode(200)
  @Scopes(Scope.Admin)
  @Audited('sidekiq.periodic.disable', {
    params: { name: 'periodic_job' },
    result: (r) => ({ source: (r as PeriodicJobDto).source }),
  })
  @ApiOperation({
    summary:
      "Disable a sidekiq-cron job (Job#disable!) or sidekiq-scheduler schedule (its web UI's toggle): its poller stops enqueueing it",
  })
  @ApiOkResponse({ type: PeriodicJobDto })
  @ApiErrorResponse(403, 'READ_ONLY_MODE (SIDEKIQ_READ_ONLY=true)')
  @ApiErrorResponse(409, 'CONFLICT: both gems have a job of that name and no source was given')
  disable(
    @Param() params: PeriodicJobParamsDto,
    @Query() query: PeriodicActionQueryDto,
    @SeesSensitive() sensitive: boolean,
  ): Promise<PeriodicJobDto> {
    return this.periodic.setStatus(
      query.instance,
      params.name,
      'disabled',
      sensitive,
      query.source,
    );
  }

  @Post(':name/enqueue')
  @HttpCode(200)
  @Scopes(Scope.Admin)
  @Audited('sidekiq.periodic.enqueue', {
    params: { name: 'periodic_job' },
    result: (r) => ({
      jids: [(r as PeriodicEnqueuedDto).jid],
      source: (r as PeriodicEnqueuedDto).source,
    }),
  })
  @ApiOperation({
    summary:
      'Enqueue a job now: sidekiq-cron\'s Job#enque! (its message pushed, last_enqueue_time and jid history updated), or sidekiq-scheduler\'s web UI "Enqueue now" (its class, queue and args pushed as Sidekiq::Client.push does)',
  })
  @ApiOkResponse({ type: PeriodicEnqueuedDto })
  @ApiErrorResponse(403, 'READ_ONLY_MODE (SIDEKIQ_READ_ONLY=true)')
  @ApiErrorResponse(
    409,
    'CONFLICT: both gems have a job of that name and no source was given; SIDEKIQ_OPERATION_NOT_ALLOWED: its stored job cannot be pushed',
  )
  enqueue(
    @Param() params: PeriodicJobParamsDto,
    @Query() query: PeriodicActionQueryDto,
  ): Promise<PeriodicEnqueuedDto> {
    return this.periodic.enqueue(query.instance, params.name, query.source);
  }
}
