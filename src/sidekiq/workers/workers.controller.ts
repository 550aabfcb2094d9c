import { Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { Scope, Scopes } from '../../auth/scopes.decorator.js';
import { InstanceQueryDto } from '../dto/instance-query.dto.js';
import { SidekiqWorkerDto } from './dto/worker.dto.js';
import { WorkersService } from './workers.service.js';
import { SidekiqController } from '../sidekiq-controller.decorator.js';

@SidekiqController('api/v1/sidekiq/workers', { jobPayloads: true })
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
