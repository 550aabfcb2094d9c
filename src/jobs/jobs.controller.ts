import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { Scope, Scopes } from '../auth/scopes.decorator.js';
import { ApiErrorResponse } from '../common/errors/api-errors.decorator.js';
import {
  BatchAcceptedDto,
  EventAcceptedDto,
  EventBatchDto,
  JobEventDto,
} from './dto/job-event.dto.js';
import { JobListQueryDto } from './dto/job-list-query.dto.js';
import { JobDetailDto, JobPageDto } from './dto/job-response.dto.js';
import { JobEventType } from './job-lifecycle.enum.js';
import { JobsService, type EventContext } from './jobs.service.js';

const isForm = (req: Request) =>
  req.is('application/x-www-form-urlencoded') === 'application/x-www-form-urlencoded';
const CONSUMES = ['application/json', 'application/x-www-form-urlencoded'];

@ApiTags('jobs')
@ApiErrorResponse(400)
@ApiErrorResponse(503, 'PostgreSQL is unavailable; retry later')
@Controller('api/v1')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  private async accept(
    req: Request,
    body: unknown,
    ctx: Omit<EventContext, 'form'>,
  ): Promise<EventAcceptedDto> {
    const { event, duplicate } = await this.jobs.recordEvent(body, { ...ctx, form: isForm(req) });
    return { job_id: event.jid, type: event.type, duplicate };
  }

  @Post('jobs')
  @Scopes(Scope.Ingest)
  @ApiOperation({
    summary:
      'Report a job as queued (seed route; type "scheduled" with scheduled_at for perform_in)',
  })
  @ApiConsumes(...CONSUMES)
  @ApiBody({ type: JobEventDto })
  @ApiCreatedResponse({ type: EventAcceptedDto })
  create(@Req() req: Request, @Body() body: unknown): Promise<EventAcceptedDto> {
    return this.accept(req, body, {
      defaultType: JobEventType.Queued,
      allowedTypes: [JobEventType.Queued, JobEventType.Scheduled],
    });
  }

  @Post('jobs/:job_id/started')
  @Scopes(Scope.Ingest)
  @ApiOperation({ summary: 'Report a job as started (seed route)' })
  @ApiConsumes(...CONSUMES)
  @ApiBody({ type: JobEventDto, required: false })
  @ApiCreatedResponse({ type: EventAcceptedDto })
  started(
    @Req() req: Request,
    @Param('job_id') jid: string,
    @Body() body: unknown,
  ): Promise<EventAcceptedDto> {
    return this.accept(req, body, { jid, type: JobEventType.Started });
  }

  @Post('jobs/:job_id/complete')
  @Scopes(Scope.Ingest)
  @ApiOperation({ summary: 'Report a job as completed successfully (seed route)' })
  @ApiConsumes(...CONSUMES)
  @ApiBody({ type: JobEventDto, required: false })
  @ApiCreatedResponse({ type: EventAcceptedDto })
  complete(
    @Req() req: Request,
    @Param('job_id') jid: string,
    @Body() body: unknown,
  ): Promise<EventAcceptedDto> {
    return this.accept(req, body, { jid, type: JobEventType.Succeeded });
  }

  @Post('jobs/:job_id/events')
  @Scopes(Scope.Ingest)
  @ApiOperation({
    summary: 'Report any lifecycle event of a job (failed, retrying, dead, interrupted, …)',
  })
  @ApiConsumes(...CONSUMES)
  @ApiBody({ type: JobEventDto })
  @ApiCreatedResponse({ type: EventAcceptedDto })
  event(
    @Req() req: Request,
    @Param('job_id') jid: string,
    @Body() body: unknown,
  ): Promise<EventAcceptedDto> {
    return this.accept(req, body, { jid });
  }

  @Post('events')
  @HttpCode(200)
  @Scopes(Scope.Ingest)
  @ApiOperation({
    summary: 'Report many events at once; all or nothing, answered after commit',
  })
  @ApiBody({ type: EventBatchDto })
  @ApiOkResponse({ type: BatchAcceptedDto })
  @ApiErrorResponse(413, 'More events than INGEST_MAX_BATCH, or body too large')
  batch(@Req() req: Request, @Body() body: unknown): Promise<BatchAcceptedDto> {
    return this.jobs.recordBatch(body, isForm(req));
  }

  @Get('jobs')
  @Scopes(Scope.Read)
  @ApiOperation({ summary: 'List jobs, newest first, filtered; cursor pagination' })
  @ApiQuery({ name: 'status', required: false, type: String })
  @ApiOkResponse({ type: JobPageDto })
  list(@Query() query: JobListQueryDto): Promise<JobPageDto> {
    return this.jobs.list({
      instance: query.instance,
      statuses: query.status,
      jobClass: query.job_class,
      queue: query.queue,
      activeJobId: query.active_job_id,
      from: query.from ? new Date(query.from) : undefined,
      to: query.to ? new Date(query.to) : undefined,
      argumentsContain: query.arguments,
      cursor: query.cursor,
      limit: query.limit,
    });
  }

  @Get('jobs/:job_id')
  @Scopes(Scope.Read)
  @ApiOperation({
    summary: "One job with its full event timeline, by Sidekiq's jid or Active Job's job_id",
  })
  @ApiQuery({
    name: 'instance',
    required: false,
    description: 'Sidekiq instance; default: default',
  })
  @ApiQuery({
    name: 'events_cursor',
    required: false,
    description: 'events_next_cursor of the previous answer: the next events of the timeline',
  })
  @ApiOkResponse({ type: JobDetailDto })
  @ApiErrorResponse(404, 'JOB_NOT_FOUND: no job with this job_id')
  @ApiErrorResponse(409, 'CONFLICT: this job_id exists in several instances; pass instance')
  detail(
    @Param('job_id') jid: string,
    @Query('instance') instance?: string,
    @Query('events_cursor') eventsCursor?: string,
  ): Promise<JobDetailDto> {
    return this.jobs.detail(jid, instance, eventsCursor);
  }
}
