import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Scope, Scopes } from '../../auth/scopes.decorator.js';
import { ApiErrorResponse, ApiErrors } from '../../common/errors/api-errors.decorator.js';
import {
  FailureDto,
  FailureListQueryDto,
  FailurePageDto,
  FailureQueryDto,
  FingerprintParamDto,
} from './dto/failures.dto.js';
import { FingerprintsService } from './fingerprints.service.js';

@ApiTags('failures')
@Scopes(Scope.Read)
@ApiErrors(400, 503)
@Controller('api/v1/failures')
export class FailuresController {
  constructor(private readonly fingerprints: FingerprintsService) {}

  @Get()
  @ApiOperation({
    summary:
      'Failures grouped by fingerprint (error class, masked message, application frame), with counts, first/last seen, classes, a sample job, the last 24 h and whether they are new since the last deploy',
  })
  @ApiOkResponse({ type: FailurePageDto })
  async list(@Query() query: FailureListQueryDto): Promise<FailurePageDto> {
    const limit = query.limit ?? 20;
    const offset = query.offset ?? 0;
    const page = await this.fingerprints.list({
      instance: query.instance,
      jobClass: query.job_class,
      errorClass: query.error_class,
      since: query.since ? new Date(query.since) : undefined,
      sort: query.sort ?? 'last_seen',
      limit,
      offset,
    });
    return {
      limit,
      offset,
      next_offset: page.nextOffset,
      failures: page.groups.map((g) => FailureDto.from(g)),
    };
  }

  @Get(':fingerprint')
  @ApiOperation({ summary: 'One failure fingerprint with its hourly trend (default: 7 days)' })
  @ApiOkResponse({ type: FailureDto })
  @ApiErrorResponse(404, 'NOT_FOUND: no such fingerprint (in that instance)')
  async one(
    @Param() params: FingerprintParamDto,
    @Query() query: FailureQueryDto,
  ): Promise<FailureDto> {
    return FailureDto.from(
      await this.fingerprints.one(params.fingerprint, query.instance ?? null, query.hours ?? 168),
    );
  }
}
