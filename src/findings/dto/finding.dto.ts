import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { MAX_OFFSET, PageWithinMaxOffset } from '../../common/validation/paging.js';
import { InstanceNameProperty } from '../../common/validation/params.dto.js';
import { OptionalPageSize } from '../../common/validation/query-fields.js';
import { MaxBytes } from '../../common/validation/validators.js';
import { FINDING_DETECTORS, SEVERITIES } from '../finding.entity.js';
import type { FindingRow } from '../findings.repository.js';

export const MAX_PER_PAGE = 100;
const DEFAULT_PER_PAGE = 25;

export class FindingListQueryDto {
  @ApiPropertyOptional({ enum: FINDING_DETECTORS })
  @IsOptional()
  @IsIn(FINDING_DETECTORS)
  detector?: string;

  @ApiPropertyOptional({
    enum: ['open', 'recent'],
    description:
      'open: not ended, newest start first; recent: ended, newest end first; default: both, newest start first',
  })
  @IsOptional()
  @IsIn(['open', 'recent'])
  state?: 'open' | 'recent';

  @InstanceNameProperty({ description: 'Sidekiq instance name' }) instance?: string;

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxBytes(1024) job_class?: string;

  @ApiPropertyOptional({
    minimum: 1,
    default: 1,
    description: `(page − 1) × per_page is at most ${MAX_OFFSET}`,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000_000)
  @PageWithinMaxOffset(DEFAULT_PER_PAGE)
  page?: number;

  @OptionalPageSize(MAX_PER_PAGE, DEFAULT_PER_PAGE) per_page?: number;
}

export class FindingDto {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: FINDING_DETECTORS }) detector!: string;
  @ApiProperty({
    description: "What it is about, stable while it lasts (e.g. 'stuck:default:<jid>')",
  })
  identity!: string;
  @ApiProperty() instance!: string;
  @ApiProperty({ nullable: true, type: String }) job_class!: string | null;
  @ApiProperty({ nullable: true, type: String }) job_id!: string | null;
  @ApiProperty({ enum: SEVERITIES }) severity!: string;
  @ApiProperty({ enum: ['open', 'ended'] }) state!: 'open' | 'ended';
  @ApiProperty({ description: 'Why it fired, in one sentence' }) summary!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: "What the detector saw (each detector's own fields)",
  })
  evidence!: Record<string, unknown>;
  @ApiProperty({ description: 'First seen' }) started_at!: string;
  @ApiProperty({ description: 'Last seen by an evaluation' }) last_seen_at!: string;
  @ApiProperty({ nullable: true, type: String, description: 'When it stopped; null while open' })
  ended_at!: string | null;

  static from(row: FindingRow): FindingDto {
    return {
      id: row.id,
      detector: row.detector,
      identity: row.identity,
      instance: row.instance,
      job_class: row.jobClass,
      job_id: row.jid,
      severity: row.severity,
      state: row.endedAt === null ? 'open' : 'ended',
      summary: row.summary,
      evidence: row.evidence,
      started_at: row.startedAt.toISOString(),
      last_seen_at: row.lastSeenAt.toISOString(),
      ended_at: row.endedAt?.toISOString() ?? null,
    };
  }
}

export class FindingPageDto {
  @ApiProperty({ type: [FindingDto] }) findings!: FindingDto[];
  @ApiProperty() page!: number;
  @ApiProperty() per_page!: number;
  @ApiProperty({ nullable: true, type: Number, description: 'null on the last page' })
  next_page!: number | null;
}
