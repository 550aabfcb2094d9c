import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { MAX_OFFSET, OFFSET_HINT } from '../../common/validation/paging.js';
import { InstanceNameProperty, JidProperty } from '../../common/validation/params.dto.js';
import { OptionalDateTime, OptionalPageSize } from '../../common/validation/query-fields.js';
import { JobDetailDto, JobResponseDto } from '../../jobs/dto/job-response.dto.js';
import type {
  DurationPage,
  FoundJob,
  JobDuration,
  JobPage,
  LostJob,
  RestartItem,
  RestartOutcome,
  RestartReport,
  SidekiqWhereabouts,
} from '../job-manager.service.js';

export class InstanceQueryDto {
  @InstanceNameProperty({ description: 'Sidekiq instance; default: the only one holding the jid' })
  instance?: string;
}

export class JobManagerQueryDto extends InstanceQueryDto {
  @ApiPropertyOptional({ description: 'Substring of the arguments JSON text' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  filter?: string;

  @OptionalPageSize(1000, 50) limit?: number;

  @ApiPropertyOptional({ default: 0, minimum: 0, maximum: MAX_OFFSET })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_OFFSET, { message: `offset ${OFFSET_HINT}` })
  offset?: number;

  @OptionalDateTime('Last activity at or after (ISO 8601)') from?: string;
  @OptionalDateTime('Last activity before (ISO 8601)') to?: string;
}

export class RestartBodyDto {
  @ApiPropertyOptional({ description: 'Substring of the arguments JSON text' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  filter?: string;

  @ApiProperty({
    description:
      'Required: true lists what would happen and changes nothing; false restarts for real',
  })
  @IsBoolean({ message: 'dry_run is required: true to preview, false to restart for real' })
  dry_run!: boolean;

  // defaults of request fields go in the description: openapi-typescript 7 types a field with
  // `default` as required (openapi-ts/openapi-typescript#1741)
  @ApiPropertyOptional({ description: 'Also jobs whose latest status is queued; default: false' })
  @IsOptional()
  @IsBoolean()
  include_queued?: boolean;

  @ApiPropertyOptional({ description: 'Leave younger jobs alone (seconds); default: 60' })
  @IsOptional()
  @IsNumber()
  @Min(0)
  min_age_seconds?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, description: 'default: 50' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @InstanceNameProperty() instance?: string;
}

export class JobIdParamDto {
  @JidProperty({ description: 'Sidekiq jid', example: 'b4a577edbccf1d805744efa9' })
  job_id!: string;
}

class OffsetPageDto {
  @ApiProperty({ type: 'integer' }) limit!: number;
  @ApiProperty({ type: 'integer' }) offset!: number;
  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: 'offset of the next page; null on the last one',
  })
  next_offset!: number | null;
}

export class ManagerJobPageDto extends OffsetPageDto implements JobPage {
  @ApiProperty({ type: [JobResponseDto] }) jobs!: JobResponseDto[];
}

export class LostJobDto extends JobResponseDto implements LostJob {
  @ApiProperty({ description: 'why it is lost' }) reason!: string;
}

export class LostJobPageDto extends OffsetPageDto implements JobPage {
  @ApiProperty({ type: [LostJobDto] }) jobs!: LostJobDto[];
}

export class JobDurationDto implements JobDuration {
  @ApiProperty() job_id!: string;
  @ApiProperty({ type: String, nullable: true }) job_class!: string | null;
  @ApiProperty({ type: String, nullable: true }) queue!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'a preview (see arguments_truncated)' })
  arguments!: string | null;
  @ApiProperty() arguments_truncated!: boolean;
  @ApiProperty({ type: 'integer', nullable: true }) arguments_bytes!: number | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'start of the measured span: queued (or created) or started',
  })
  from!: string | null;
  @ApiProperty({ type: String, nullable: true }) completed_at!: string | null;
  @ApiProperty() duration_ms!: number;
  @ApiProperty({ example: '1 min 32 s' }) duration!: string;
}

export class DurationPageDto extends OffsetPageDto implements DurationPage {
  @ApiProperty({ type: [JobDurationDto] }) durations!: JobDurationDto[];
}

export class SidekiqWhereaboutsDto implements SidekiqWhereabouts {
  @ApiProperty({ enum: ['queue', 'scheduled', 'retry', 'dead', 'working', 'nowhere'] })
  where!: SidekiqWhereabouts['where'];
  @ApiPropertyOptional({ description: 'when in a queue' }) queue?: string;
  @ApiPropertyOptional({ description: 'when working: the process identity' }) process?: string;
  @ApiPropertyOptional({ description: 'when working: the thread' }) thread?: string;
  @ApiPropertyOptional({ description: 'in a set: scheduled, retry or death time, epoch seconds' })
  score?: number;
}

export class FoundJobDto implements FoundJob {
  @ApiProperty({ type: JobDetailDto }) job!: JobDetailDto;
  @ApiProperty({ type: SidekiqWhereaboutsDto }) sidekiq!: SidekiqWhereaboutsDto;
}

const OUTCOMES: RestartOutcome[] = [
  'restarted',
  'would_restart',
  'held_by_sidekiq',
  'process_alive',
  'already_restarted',
  'too_recent',
  'incomplete_record',
  'arguments_redacted',
];

export class RestartItemDto implements RestartItem {
  @ApiProperty() job_id!: string;
  @ApiProperty({ type: String, nullable: true }) job_class!: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'a preview (see arguments_truncated); the restart pushes the whole value',
  })
  arguments!: string | null;
  @ApiProperty() arguments_truncated!: boolean;
  @ApiProperty({ enum: OUTCOMES }) outcome!: RestartOutcome;
  @ApiProperty({ type: String, nullable: true, description: 'the new jid, when restarted' })
  restarted_as!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'why it was skipped, in words' })
  reason!: string | null;
}

export class RestartReportDto implements RestartReport {
  @ApiProperty() dry_run!: boolean;
  @ApiProperty({ type: 'integer' }) considered!: number;
  @ApiProperty({ type: 'integer', description: 'restarted, or would be on a dry run' })
  restarted!: number;
  @ApiProperty({ type: 'integer' }) skipped!: number;
  @ApiProperty({ type: [String] }) restarted_jids!: string[];
  @ApiProperty({ type: [RestartItemDto] }) items!: RestartItemDto[];
}
