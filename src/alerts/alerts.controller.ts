import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Scope, Scopes } from '../auth/scopes.decorator.js';
import { ApiErrorResponse } from '../common/errors/api-errors.decorator.js';
import { AlertsService } from './alerts.service.js';
import { DeliveryListQueryDto, DeliveryPageDto } from './dto/alert-delivery.dto.js';

@ApiTags('alerts')
@Scopes(Scope.Admin)
@ApiErrorResponse(400)
@ApiErrorResponse(503, 'PostgreSQL is unavailable; retry later')
@Controller('api/v1/alerts')
export class AlertsController {
  constructor(private readonly alerts: AlertsService) {}

  @Get('deliveries')
  @ApiOperation({
    summary: 'The webhook delivery log: every attempt to send a finding, newest first',
  })
  @ApiOkResponse({ type: DeliveryPageDto })
  deliveries(@Query() q: DeliveryListQueryDto): Promise<DeliveryPageDto> {
    return this.alerts.deliveries({
      receiver: q.receiver,
      findingId: q.finding_id === undefined ? undefined : String(q.finding_id),
      kind: q.kind,
      delivered: q.outcome === undefined ? undefined : q.outcome === 'delivered',
      beforeId: q.cursor,
      limit: q.limit ?? 50,
    });
  }
}
