import { Body, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { Scope, Scopes, SeesSensitive } from '../../auth/scopes.decorator.js';
import { ConfirmBodyDto, InstanceQueryDto } from '../dto/instance-query.dto.js';
import { SidekiqSetEntryDto } from '../dto/sidekiq-job.dto.js';
import {
  BulkResultDto,
  SetEntryParamsDto,
  SetEntryQueryDto,
  SetPageDto,
  SetPageQueryDto,
  SetParamsDto,
  SetSizeDto,
} from './dto/sorted-set.dto.js';
import { SortedSetsService } from './sorted-sets.service.js';
import { SidekiqController } from '../sidekiq-controller.decorator.js';
import { ApiErrorResponse } from '../../common/errors/api-errors.decorator.js';
import { Audited } from '../../audit/audited.decorator.js';

@SidekiqController('api/v1/sidekiq/sets', { jobPayloads: true })
export class SortedSetsController {
  constructor(private readonly sets: SortedSetsService) {}

  @Get(':set')
  @Scopes(Scope.Read)
  @ApiOperation({
    summary: 'One page of the scheduled, retry or dead set, by score; optional substring search',
  })
  @ApiOkResponse({ type: SetPageDto })
  page(
    @Param() params: SetParamsDto,
    @Query() query: SetPageQueryDto,
    @SeesSensitive() sensitive: boolean,
  ): Promise<SetPageDto> {
    return this.sets.page(query.instance, params.set, query, sensitive);
  }

  @Get(':set/size')
  @Scopes(Scope.Read)
  @ApiOperation({ summary: 'Size of a set (ZCARD)' })
  @ApiOkResponse({ type: SetSizeDto })
  size(@Param() params: SetParamsDto, @Query() query: InstanceQueryDto): Promise<SetSizeDto> {
    return this.sets.size(query.instance, params.set);
  }

  @Get(':set/jobs/:jid')
  @Scopes(Scope.Read)
  @ApiOperation({ summary: 'Find an entry by jid (JobSet#find_job)' })
  @ApiOkResponse({ type: SidekiqSetEntryDto })
  find(
    @Param() params: SetEntryParamsDto,
    @Query() query: SetEntryQueryDto,
  ): Promise<SidekiqSetEntryDto> {
    return this.sets.find(query.instance, params.set, params.jid, query.score);
  }

  @Delete(':set/jobs/:jid')
  @Scopes(Scope.Admin)
  @Audited('sidekiq.set.job.delete')
  @ApiOperation({ summary: 'Delete an entry (SortedEntry#delete)' })
  @ApiOkResponse({ type: SidekiqSetEntryDto, description: 'the deleted entry' })
  delete(
    @Param() params: SetEntryParamsDto,
    @Query() query: SetEntryQueryDto,
  ): Promise<SidekiqSetEntryDto> {
    return this.sets.delete(query.instance, params.set, params.jid, query.score);
  }

  @Post(':set/jobs/:jid/retry')
  @HttpCode(200)
  @Scopes(Scope.Admin)
  @Audited('sidekiq.set.job.retry')
  @ApiOperation({
    summary: 'Retry now: push to its queue with retry_count − 1 (SortedEntry#retry)',
  })
  @ApiOkResponse({ type: SidekiqSetEntryDto, description: 'the job as pushed' })
  @ApiErrorResponse(409, 'SIDEKIQ_OPERATION_NOT_ALLOWED: not possible from this set')
  retry(
    @Param() params: SetEntryParamsDto,
    @Query() query: SetEntryQueryDto,
  ): Promise<SidekiqSetEntryDto> {
    return this.sets.retry(query.instance, params.set, params.jid, true, query.score);
  }

  @Post(':set/jobs/:jid/add-to-queue')
  @HttpCode(200)
  @Scopes(Scope.Admin)
  @Audited('sidekiq.set.job.add_to_queue')
  @ApiOperation({ summary: 'Add to queue now, retry_count untouched (SortedEntry#add_to_queue)' })
  @ApiOkResponse({ type: SidekiqSetEntryDto, description: 'the job as pushed' })
  @ApiErrorResponse(409, 'SIDEKIQ_OPERATION_NOT_ALLOWED: not possible from this set')
  addToQueue(
    @Param() params: SetEntryParamsDto,
    @Query() query: SetEntryQueryDto,
  ): Promise<SidekiqSetEntryDto> {
    return this.sets.retry(query.instance, params.set, params.jid, false, query.score);
  }

  @Post(':set/jobs/:jid/kill')
  @HttpCode(200)
  @Scopes(Scope.Admin)
  @Audited('sidekiq.set.job.kill')
  @ApiOperation({ summary: 'Move to the dead set, honoring its limits (SortedEntry#kill)' })
  @ApiOkResponse({ type: SidekiqSetEntryDto, description: 'the entry as now in the dead set' })
  kill(
    @Param() params: SetEntryParamsDto,
    @Query() query: SetEntryQueryDto,
  ): Promise<SidekiqSetEntryDto> {
    return this.sets.kill(query.instance, params.set, params.jid, query.score);
  }

  @Post(':set/retry-all')
  @HttpCode(200)
  @Scopes(Scope.Admin)
  @Audited('sidekiq.set.retry_all')
  @ApiOperation({ summary: 'Retry every entry (retry_all)' })
  @ApiOkResponse({ type: BulkResultDto })
  retryAll(
    @Param() params: SetParamsDto,
    @Query() query: InstanceQueryDto,
    @Body() _confirm: ConfirmBodyDto,
  ): Promise<BulkResultDto> {
    return this.sets.retryAll(query.instance, params.set);
  }

  @Post(':set/kill-all')
  @HttpCode(200)
  @Scopes(Scope.Admin)
  @Audited('sidekiq.set.kill_all')
  @ApiOperation({ summary: 'Move every entry to the dead set (kill_all)' })
  @ApiOkResponse({ type: BulkResultDto })
  @ApiErrorResponse(409, 'SIDEKIQ_OPERATION_NOT_ALLOWED: not possible from this set')
  killAll(
    @Param() params: SetParamsDto,
    @Query() query: InstanceQueryDto,
    @Body() _confirm: ConfirmBodyDto,
  ): Promise<BulkResultDto> {
    return this.sets.killAll(query.instance, params.set);
  }

  @Post(':set/clear')
  @HttpCode(200)
  @Scopes(Scope.Admin)
  @Audited('sidekiq.set.clear')
  @ApiOperation({ summary: 'Delete every entry (JobSet#clear)' })
  @ApiOkResponse({ type: BulkResultDto })
  clear(
    @Param() params: SetParamsDto,
    @Query() query: InstanceQueryDto,
    @Body() _confirm: ConfirmBodyDto,
  ): Promise<BulkResultDto> {
    return this.sets.clear(query.instance, params.set);
  }
}
