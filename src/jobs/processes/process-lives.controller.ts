import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Scope, Scopes } from '../../auth/scopes.decorator.js';
import { ApiErrorResponse } from '../../common/errors/api-errors.decorator.js';
import { ProcessLifePageDto, ProcessListQueryDto } from './dto/process-life.dto.js';
import { ProcessLivesService } from './process-lives.service.js';

@ApiTags('processes')
@ApiErrorResponse(400)
@ApiErrorResponse(503, 'PostgreSQL is unavailable; retry later')
@Controller('api/v1/processes')
export class ProcessLivesController {
  constructor(private readonly lives: ProcessLivesService) {}

  @Get()
  @Scopes(Scope.Read)
  @ApiOperation({
    summary:
      'Sidekiq process lives as their reported startup, heartbeat, quiet and shutdown events tell them (running, quiet, stopped, silent), most recently heard from first',
  })
  @ApiOkResponse({ type: ProcessLifePageDto })
  list(@Query() q: ProcessListQueryDto): Promise<ProcessLifePageDto> {
    return this.lives.list(q);
  }
}
