import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Scope, Scopes } from '../../auth/scopes.decorator.js';
import { SidekiqAccessService } from '../sidekiq-access.service.js';
import { SidekiqInstancesDto } from './dto/instances.dto.js';

@ApiTags('sidekiq')
@Controller('api/v1/sidekiq/instances')
export class InstancesController {
  constructor(private readonly access: SidekiqAccessService) {}

  @Get()
  @Scopes(Scope.Read)
  @ApiOperation({
    summary: 'The Sidekiq instances this service knows (values for ?instance=), and read-only mode',
  })
  @ApiOkResponse({ type: SidekiqInstancesDto })
  list(): SidekiqInstancesDto {
    return { instances: this.access.instanceNames(), read_only: this.access.readOnly };
  }
}
