import { Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { Scope, Scopes } from '../../auth/scopes.decorator.js';
import { InstanceQueryDto } from '../dto/instance-query.dto.js';
import { SidekiqSignal } from '../sidekiq-keys.js';
import { ProcessParamsDto, SidekiqProcessDto, SignalResultDto } from './dto/process.dto.js';
import { ProcessesService } from './processes.service.js';
import { SidekiqController } from '../sidekiq-controller.decorator.js';
import { ApiErrorResponse } from '../../common/errors/api-errors.decorator.js';
import { Audited } from '../../audit/audited.decorator.js';

@SidekiqController('api/v1/sidekiq/processes')
export class ProcessesController {
  constructor(private readonly processes: ProcessesService) {}

  @Get()
  @Scopes(Scope.Read)
  @ApiOperation({ summary: 'Live Sidekiq processes (ProcessSet); stale ones are pruned' })
  @ApiOkResponse({ type: [SidekiqProcessDto] })
  list(@Query() query: InstanceQueryDto): Promise<SidekiqProcessDto[]> {
    return this.processes.list(query.instance);
  }

  @Post('quiet-all')
  @HttpCode(200)
  @Scopes(Scope.Admin)
  @Audited('sidekiq.processes.quiet_all')
  @ApiOperation({ summary: 'Quiet every live process (TSTP)' })
  @ApiOkResponse({ type: [SignalResultDto] })
  quietAll(@Query() query: InstanceQueryDto): Promise<SignalResultDto[]> {
    return this.processes.signalAll(query.instance, SidekiqSignal.Quiet);
  }

  @Post('stop-all')
  @HttpCode(200)
  @Scopes(Scope.Admin)
  @Audited('sidekiq.processes.stop_all')
  @ApiOperation({ summary: 'Stop every live process (TERM)' })
  @ApiOkResponse({ type: [SignalResultDto] })
  stopAll(@Query() query: InstanceQueryDto): Promise<SignalResultDto[]> {
    return this.processes.signalAll(query.instance, SidekiqSignal.Stop);
  }

  @Get(':identity')
  @Scopes(Scope.Read)
  @ApiOperation({ summary: 'One live process' })
  @ApiOkResponse({ type: SidekiqProcessDto })
  get(
    @Param() params: ProcessParamsDto,
    @Query() query: InstanceQueryDto,
  ): Promise<SidekiqProcessDto> {
    return this.processes.get(query.instance, params.identity);
  }

  @Post(':identity/quiet')
  @HttpCode(200)
  @Scopes(Scope.Admin)
  @Audited('sidekiq.process.quiet')
  @ApiOperation({ summary: 'Quiet a process: stop fetching new jobs (Process#quiet!, TSTP)' })
  @ApiOkResponse({ type: SignalResultDto })
  @ApiErrorResponse(409, 'SIDEKIQ_OPERATION_NOT_ALLOWED: an embedded process cannot be signalled')
  quiet(
    @Param() params: ProcessParamsDto,
    @Query() query: InstanceQueryDto,
  ): Promise<SignalResultDto> {
    return this.processes.quiet(query.instance, params.identity);
  }

  @Post(':identity/stop')
  @HttpCode(200)
  @Scopes(Scope.Admin)
  @Audited('sidekiq.process.stop')
  @ApiOperation({ summary: 'Stop a process (Process#stop!, TERM)' })
  @ApiOkResponse({ type: SignalResultDto })
  @ApiErrorResponse(409, 'SIDEKIQ_OPERATION_NOT_ALLOWED: an embedded process cannot be signalled')
  stop(
    @Param() params: ProcessParamsDto,
    @Query() query: InstanceQueryDto,
  ): Promise<SignalResultDto> {
    return this.processes.stop(query.instance, params.identity);
  }
}
