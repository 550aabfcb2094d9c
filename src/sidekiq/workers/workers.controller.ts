import { Controller, Get, Query, UseInterceptors } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ExactJsonInterceptor } from '../../common/json/exact-json.interceptor.js';
import { Scope, Scopes } from '../../auth/scopes.decorator.js';
import { InstanceQueryDto } from '../dto/instance-query.dto.js';
import { SidekiqWorkerDto } from './dto/worker.dto.js';
import { WorkersService } from './workers.service.js';
import { ApiSidekiqErrors } from '../sidekiq-api-errors.decorator.js';

@ApiTags('sidekiq')
// job arguments: integers beyond 2^53 and Ruby Floats reach the client exactly
@UseInterceptors(ExactJsonInterceptor)
@ApiSidekiqErrors()
@Controller('api/v1/sidekiq/workers')
export class WorkersController {
  constructor(private readonly workers: WorkersService) {}

  @Get()
  @Scopes(Scope.Read)
  @ApiOperation({ summary: 'Jobs running now (WorkSet), sorted by run_at' })
  @ApiOkResponse({ type: [SidekiqWorkerDto] })
  list(@Query() query: InstanceQueryDto): Promise<SidekiqWorkerDto[]> {
    return this.workers.list(query.instance);
  }
}
