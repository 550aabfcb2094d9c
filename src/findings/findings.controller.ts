import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Scope, Scopes } from '../auth/scopes.decorator.js';
import { ApiErrors } from '../common/errors/api-errors.decorator.js';
import { FindingDto, FindingListQueryDto, FindingPageDto } from './dto/finding.dto.js';
import { FindingsService } from './findings.service.js';

@ApiTags('findings')
@Scopes(Scope.Read)
@Controller('api/v1/findings')
export class FindingsController {
  constructor(private readonly findings: FindingsService) {}

  @Get()
  @ApiOperation({
    summary: 'What the detectors noticed (stuck, never started, duplicate runs): open and recent',
  })
  @ApiOkResponse({ type: FindingPageDto })
  @ApiErrors(400, 503)
  async list(@Query() q: FindingListQueryDto): Promise<FindingPageDto> {
    const page = q.page ?? 1;
    const perPage = q.per_page ?? 25;
    const { rows, more } = await this.findings.list({
      detector: q.detector,
      state: q.state,
      instance: q.instance,
      jobClass: q.job_class,
      offset: (page - 1) * perPage,
      limit: perPage,
    });
    return {
      findings: rows.map((row) => FindingDto.from(row)),
      page,
      per_page: perPage,
      next_page: more ? page + 1 : null,
    };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One finding with its evidence' })
  @ApiOkResponse({ type: FindingDto })
  @ApiErrors(404, 503)
  async get(@Param('id') id: string): Promise<FindingDto> {
    return FindingDto.from(await this.findings.get(id));
  }
}
