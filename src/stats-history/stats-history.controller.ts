import { Controller, Get, Query } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/errors/api-errors.decorator.js';
import { Scope, Scopes } from '../auth/scopes.decorator.js';
import {
  DrainEstimateDto,
  QueuePointDto,
  SnapshotHistoryDto,
  StatsHistoryQueryDto,
} from './dto/stats-history.dto.js';
import { StatsHistoryService } from './stats-history.service.js';

@ApiTags('stats-history')
@ApiExtraModels(QueuePointDto, DrainEstimateDto)
@Scopes(Scope.Read)
@Controller('api/v1/stats/history')
export class StatsHistoryController {
  constructor(private readonly history: StatsHistoryService) {}

  @Get()
  @ApiOperation({
    summary:
      'Stats and queue depth over time from our snapshots (gaps as nulls), throughput, time to drain',
  })
  @ApiOkResponse({ type: SnapshotHistoryDto })
  @ApiErrors(400, 404, 503)
  get(@Query() q: StatsHistoryQueryDto): Promise<SnapshotHistoryDto> {
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - 86_400_000);
    return this.history.history({
      instance: q.instance,
      from,
      to,
      resolution: q.resolution ?? 'hour',
    });
  }
}
