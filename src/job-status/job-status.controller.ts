import { Body, Controller, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Scope, Scopes } from '../auth/scopes.decorator.js';
import { ApiErrorResponse } from '../common/errors/api-errors.decorator.js';
import { JidParamDto } from '../common/validation/params.dto.js';
import {
  BulkStatusDto,
  BulkStatusRequestDto,
  CancelResultDto,
  DataRequestDto,
  InstanceParamDto,
  JobDataDto,
  JobStatusDto,
  MAX_BULK_JIDS,
  ProgressRequestDto,
} from './dto/job-status.dto.js';
import { DATA_LIMITS, JobStatusService } from './job-status.service.js';
import { Audited } from '../audit/audited.decorator.js';

@ApiTags('job status')
@ApiErrorResponse(400)
@ApiErrorResponse(503, "PostgreSQL or Sidekiq's Redis is unavailable; retry later")
@Controller('api/v1/jobs')
export class JobStatusController {
  constructor(private readonly statuses: JobStatusService) {}

  @Post('statuses')
  @HttpCode(200)
  @Scopes(Scope.Read)
  @ApiOperation({
    summary: `Statuses of up to ${MAX_BULK_JIDS} jobs at once, in the order asked (null: nothing known)`,
  })
  @ApiOkResponse({ type: BulkStatusDto })
  bulk(@Body() body: BulkStatusRequestDto): Promise<BulkStatusDto> {
    return this.statuses.statuses(body.jids, body.instance);
  }

  @Get(':jid/status')
  @Scopes(Scope.Read, Scope.Ingest)
  @ApiOperation({
    summary:
      "A job's status as sidekiq-status names it (queued, working, retrying, complete, failed, interrupted; cancelled), with progress and custom data",
  })
  @ApiOkResponse({ type: JobStatusDto })
  @ApiErrorResponse(404, 'JOB_NOT_FOUND: nothing is known of this job')
  @ApiErrorResponse(409, 'CONFLICT: this jid exists in several instances; pass instance')
  status(@Param() params: JidParamDto, @Query() query: InstanceParamDto): Promise<JobStatusDto> {
    return this.statuses.status(params.jid, query.instance);
  }

  @Post(':jid/progress')
  @HttpCode(200)
  @Scopes(Scope.Ingest)
  @ApiOperation({
    summary: 'Report progress (sidekiq-status at / total / message); pct_complete = at / total',
  })
  @ApiOkResponse({ type: JobStatusDto })
  @ApiErrorResponse(404, 'JOB_NOT_FOUND: nothing is known of this job')
  progress(
    @Param() params: JidParamDto,
    @Query() query: InstanceParamDto,
    @Body() body: ProgressRequestDto,
  ): Promise<JobStatusDto> {
    return this.statuses.progress(params.jid, body, query.instance);
  }

  @Put(':jid/data')
  @Scopes(Scope.Ingest)
  @ApiOperation({
    summary: `Store custom data (sidekiq-status store): merged; null removes a key; at most ${DATA_LIMITS.keys} keys, ${DATA_LIMITS.bytes} bytes`,
  })
  @ApiOkResponse({ type: JobDataDto })
  @ApiErrorResponse(413, 'The merged data would exceed the limits')
  store(
    @Param() params: JidParamDto,
    @Query() query: InstanceParamDto,
    @Body() body: DataRequestDto,
  ): Promise<JobDataDto> {
    return this.statuses.store(params.jid, body.data, query.instance);
  }

  @Get(':jid/data')
  @Scopes(Scope.Read, Scope.Ingest)
  @ApiOperation({ summary: 'Read custom data back (sidekiq-status retrieve / get_all)' })
  @ApiOkResponse({ type: JobDataDto })
  data(@Param() params: JidParamDto, @Query() query: InstanceParamDto): Promise<JobDataDto> {
    return this.statuses.data(params.jid, query.instance);
  }

  @Post(':jid/cancel')
  @HttpCode(200)
  @Scopes(Scope.Admin)
  @Audited('job_status.cancel')
  @ApiOperation({
    summary:
      "Cancel (unschedule) a scheduled job: removed from Sidekiq's scheduled set, recorded as cancelled",
  })
  @ApiOkResponse({ type: CancelResultDto })
  @ApiErrorResponse(404, 'INSTANCE_NOT_FOUND: unknown instance')
  @ApiErrorResponse(409, 'NOT_SCHEDULED: not in the scheduled set; nothing changed')
  cancel(@Param() params: JidParamDto, @Query() query: InstanceParamDto): Promise<CancelResultDto> {
    return this.statuses.cancel(params.jid, query.instance);
  }
}
