import { Body, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { Scope, Scopes } from '../../auth/scopes.decorator.js';
import { InstanceQueryDto } from '../dto/instance-query.dto.js';
import {
  HistoryQueryDto,
  ResetStatsBodyDto,
  ResetStatsResultDto,
  SidekiqStatsDto,
  StatsHistoryDto,
} from './dto/stats.dto.js';
import { StatsService } from './stats.service.js';
import { SidekiqController } from '../sidekiq-controller.decorator.js';
import { Audited } from '../../audit/audited.decorator.js';

@SidekiqController('api/v1/sidekiq/stats')
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  @Get()
  @Scopes(Scope.Read)
  @ApiOperation({ summary: 'Sidekiq::Stats' })
  @ApiOkResponse({ type: SidekiqStatsDto })
  get(@Query() query: InstanceQueryDto): Promise<SidekiqStatsDto> {
    return this.stats.stats(query.instance);
  }

  @Get('history')
  @Scopes(Scope.Read)
  @ApiOperation({ summary: 'Processed and failed per UTC day (Sidekiq::Stats::History)' })
  @ApiOkResponse({ type: StatsHistoryDto })
  history(@Query() query: HistoryQueryDto): Promise<StatsHistoryDto> {
    return this.stats.history(query.instance, query.days, query.start_date);
  }

  @Post('reset')
  @HttpCode(200)
  @Scopes(Scope.Admin)
  @Audited('sidekiq.stats.reset')
  @ApiOperation({ summary: 'Reset the lifetime processed/failed counters (Stats#reset)' })
  @ApiOkResponse({ type: ResetStatsResultDto })
  reset(
    @Query() query: InstanceQueryDto,
    @Body() body: ResetStatsBodyDto,
  ): Promise<ResetStatsResultDto> {
    return this.stats.reset(query.instance, body?.counters);
  }
}
