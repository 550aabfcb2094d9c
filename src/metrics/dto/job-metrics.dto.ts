import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { InstanceNameProperty } from '../../common/validation/params.dto.js';
import { OptionalDateTime } from '../../common/validation/query-fields.js';
import { MaxBytes } from '../../common/validation/validators.js';

export class JobMetricsQueryDto {
  @OptionalDateTime('window start, ISO 8601 (default: `to` − 24 h)') from?: string;
  @OptionalDateTime('window end, exclusive, ISO 8601 (default: now)') to?: string;

  @ApiPropertyOptional() @IsOptional() @MaxBytes(1024) job_class?: string;
  @ApiPropertyOptional() @IsOptional() @MaxBytes(1024) queue?: string;

  @InstanceNameProperty({ description: 'instance name reported with the events' })
  instance?: string;
}

export class DurationStatsDto {
  @ApiProperty({ type: Number, nullable: true }) p50: number | null;
  @ApiProperty({ type: Number, nullable: true }) p95: number | null;
  @ApiProperty({ type: Number, nullable: true }) p99: number | null;
  @ApiProperty({ type: Number, nullable: true }) max: number | null;
}

export class JobClassMetricsDto {
  @ApiProperty({ type: String, nullable: true }) job_class: string | null;
  @ApiProperty({ type: String, nullable: true }) queue: string | null;
  @ApiProperty({ description: 'jobs that ended (succeeded, failed, dead) in the window' })
  count: number;
  @ApiProperty() succeeded: number;
  @ApiProperty({ description: 'failed without retry, or dead' }) failed: number;
  @ApiProperty({ description: 'succeeded / count' }) success_rate: number;
  @ApiProperty({ description: 'failed / count' }) failure_rate: number;
  @ApiProperty({
    type: DurationStatsDto,
    description: 'seconds from enqueue to (last) start; exact percentiles (interpolated)',
  })
  wait_seconds: DurationStatsDto;
  @ApiProperty({ type: DurationStatsDto, description: 'seconds from start to end of the last run' })
  run_seconds: DurationStatsDto;
}

export class JobMetricsDto {
  @ApiProperty() from: string;
  @ApiProperty() to: string;
  @ApiProperty({ type: [JobClassMetricsDto] }) classes: JobClassMetricsDto[];
}
