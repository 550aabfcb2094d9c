import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PublicWhen } from '../auth/public.decorator.js';
import { Scope, Scopes } from '../auth/scopes.decorator.js';
import { PrometheusService } from './prometheus.service.js';

@ApiTags('metrics')
@Controller('metrics')
export class PrometheusController {
  constructor(private readonly prometheus: PrometheusService) {}

  @Get()
  @Scopes(Scope.Read)
  @PublicWhen('metricsPublic')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOkResponse({
    description: 'Prometheus text exposition format 0.0.4',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  @ApiOperation({
    summary: 'Prometheus text exposition (needs a read token unless METRICS_PUBLIC=true)',
  })
  scrape(): Promise<string> {
    return this.prometheus.scrape();
  }
}
