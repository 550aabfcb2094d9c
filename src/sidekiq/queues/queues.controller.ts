import { Body, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { Scope, Scopes } from '../../auth/scopes.decorator.js';
import { ConfirmBodyDto, InstanceQueryDto } from '../dto/instance-query.dto.js';
import { SidekiqJobDto } from '../dto/sidekiq-job.dto.js';
import {
  QueueClearedDto,
  QueueJobParamsDto,
  QueuePageDto,
  QueuePageQueryDto,
  QueueParamsDto,
  QueueSummaryDto,
} from './dto/queue.dto.js';
import { QueuesService } from './queues.service.js';
import { SidekiqController } from '../sidekiq-controller.decorator.js';
import { Audited } from '../../audit/audited.decorator.js';

@SidekiqController('api/v1/sidekiq/queues', { jobPayloads: true })
export class QueuesController {
  constructor(private readonly queues: QueuesService) {}

  @Get()
  @Scopes(Scope.Read)
  @ApiOperation({ summary: 'All queues with size and latency (Sidekiq::Queue.all)' })
  @ApiOkResponse({ type: [QueueSummaryDto] })
  list(@Query() query: InstanceQueryDto): Promise<QueueSummaryDto[]> {
    return this.queues.list(query.instance);
  }

  @Get(':name')
  @Scopes(Scope.Read)
  @ApiOperation({ summary: "One page of a queue's jobs, newest first" })
  @ApiOkResponse({ type: QueuePageDto })
  page(@Param() params: QueueParamsDto, @Query() query: QueuePageQueryDto): Promise<QueuePageDto> {
    return this.queues.page(
      query.instance,
      params.name,
      query.page,
      query.per_page,
      query.direction,
    );
  }

  @Get(':name/jobs/:jid')
  @Scopes(Scope.Read)
  @ApiOperation({ summary: 'Find a job in a queue by jid (Queue#find_job)' })
  @ApiOkResponse({ type: SidekiqJobDto })
  find(
    @Param() params: QueueJobParamsDto,
    @Query() query: InstanceQueryDto,
  ): Promise<SidekiqJobDto> {
    return this.queues.find(query.instance, params.name, params.jid);
  }

  @Delete(':name/jobs/:jid')
  @Scopes(Scope.Admin)
  @Audited('sidekiq.queue.job.delete', { params: { name: 'queue' } })
  @ApiOperation({ summary: 'Delete one job from a queue (JobRecord#delete)' })
  @ApiOkResponse({ type: SidekiqJobDto, description: 'the deleted job' })
  deleteJob(
    @Param() params: QueueJobParamsDto,
    @Query() query: InstanceQueryDto,
  ): Promise<SidekiqJobDto> {
    return this.queues.deleteJob(query.instance, params.name, params.jid);
  }

  @Post(':name/clear')
  @HttpCode(200)
  @Scopes(Scope.Admin)
  @Audited('sidekiq.queue.clear', { params: { name: 'queue' } })
  @ApiOperation({ summary: 'Clear a queue (Queue#clear: UNLINK the list, SREM from queues)' })
  @ApiOkResponse({ type: QueueClearedDto })
  clear(
    @Param() params: QueueParamsDto,
    @Query() query: InstanceQueryDto,
    @Body() _confirm: ConfirmBodyDto,
  ): Promise<QueueClearedDto> {
    return this.queues.clear(query.instance, params.name);
  }
}
