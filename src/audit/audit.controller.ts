import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Scope, Scopes } from '../auth/scopes.decorator.js';
import { ApiErrorResponse } from '../common/errors/api-errors.decorator.js';
import { JidParamDto } from '../common/validation/params.dto.js';
import { AuditService } from './audit.service.js';
import { AuditListQueryDto, AuditPageDto, AuditPageQueryDto } from './dto/audit.dto.js';
import { auditFilter, toAuditPage } from './dto/audit-mapping.js';

// Reading only: no route changes or deletes a record (the table's trigger refuses it anyway)
@ApiTags('audit')
@ApiErrorResponse(400)
@ApiErrorResponse(503, 'PostgreSQL is unavailable; retry later')
@Controller()
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get('api/v1/audit')
  @Scopes(Scope.Admin)
  @ApiOperation({
    summary:
      'The audit log: every change made through the service (REST, dashboard, REPL), newest first',
  })
  @ApiOkResponse({ type: AuditPageDto })
  async list(@Query() q: AuditListQueryDto): Promise<AuditPageDto> {
    const limit = q.limit ?? 50;
    return toAuditPage(await this.audit.list(auditFilter(q, limit)), limit, true);
  }

  @Get('api/v1/jobs/:jid/audit')
  @Scopes(Scope.Read)
  @ApiOperation({
    summary:
      "Actions taken on a job (audit records naming its jid), newest first; without the actor's address and user agent",
  })
  @ApiOkResponse({ type: AuditPageDto })
  async forJob(@Param() p: JidParamDto, @Query() q: AuditPageQueryDto): Promise<AuditPageDto> {
    const limit = q.limit ?? 50;
    const rows = await this.audit.list({ jid: p.jid, beforeId: q.cursor, limit: limit + 1 });
    return toAuditPage(rows, limit, false);
  }
}
