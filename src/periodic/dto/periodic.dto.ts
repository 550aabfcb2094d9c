import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Length, Matches, Max, Min } from 'class-validator';
import { OptionalPageSize } from '../../common/validation/query-fields.js';
import { InstanceNameProperty } from '../../common/validation/params.dto.js';
import { PeriodicStatus } from '../periodic-status.js';

export const MAX_PERIODIC_PER_PAGE = 100;
const DEFAULT_PER_PAGE = 25;
/** Longer `args` texts are cut to this many characters in a list (args_bytes gives the size). */
export const ARGS_PREVIEW_CHARS = 2048;

export class PeriodicJobParamsDto {
  // sidekiq-cron names are free text ("My nightly job"): any printable text, as the gem allows
  @ApiProperty({ description: 'the sidekiq-cron job name', example: 'nightly_report' })
  @Length(1, 200)
  @Matches(/^[^\p{Cc}]+$/u, { message: 'name must not contain control characters' })
  name: string;
}

export class PeriodicInstanceQueryDto {
  @InstanceNameProperty({
    description: 'Sidekiq instance name from SIDEKIQ_INSTANCES (default: the REDIS_URL one)',
    example: 'default',
  })
  instance?: string;
}

export class PeriodicPageQueryDto extends PeriodicInstanceQueryDto {
  @ApiPropertyOptional({ minimum: 1, default: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  page?: number;

  @OptionalPageSize(MAX_PERIODIC_PER_PAGE, DEFAULT_PER_PAGE) per_page?: number;
}

export class PeriodicJobDto {
  @ApiProperty({ description: 'sidekiq-cron job name' })
  name: string;

  @ApiProperty({
    description: 'the cron expression as sidekiq-cron stores it',
    example: '0 * * * *',
  })
  cron: string;

  @ApiProperty({ description: 'the job class it pushes' })
  class: string;

  @ApiProperty()
  queue: string;

  @ApiProperty({
    description: `the arguments as stored (JSON text), cut to ${ARGS_PREVIEW_CHARS} characters`,
    example: '[1,"two"]',
  })
  args: string;

  @ApiProperty({ description: 'length of the whole args text' })
  args_bytes: number;

  @ApiProperty({ type: String, nullable: true })
  description: string | null;

  @ApiProperty({ description: "sidekiq-cron's own status: whether its poller enqueues the job" })
  enabled: boolean;

  @ApiProperty({
    enum: PeriodicStatus,
    description:
      'ok; overdue (no success for PERIODIC_OVERDUE_INTERVALS of its scheduled times); never_run (no finished run in the history); disabled',
  })
  status: PeriodicStatus;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: "sidekiq-cron's last_enqueue_time",
  })
  last_enqueue_time: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'from the cron expression; null when it cannot be read',
  })
  next_run: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: "the class's newest finished run in the history",
  })
  last_run_at: string | null;

  @ApiProperty({ type: String, nullable: true, enum: ['succeeded', 'failed', 'dead'] })
  last_run_status: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  last_success_at: string | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      'scheduled times gone by since the last success (counted up to twice the overdue limit)',
  })
  missed_runs: number | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'why the cron expression could not be read',
  })
  schedule_error: string | null;
}

export class PeriodicPageDto {
  @ApiProperty()
  instance: string;

  @ApiProperty()
  page: number;

  @ApiProperty()
  per_page: number;

  @ApiProperty({ description: 'cron jobs of the instance' })
  total: number;

  @ApiProperty({ description: 'the instance has more cron jobs than are read (5000)' })
  truncated: boolean;

  @ApiProperty({ type: [PeriodicJobDto], description: 'by name' })
  jobs: PeriodicJobDto[];
}

export class PeriodicEnqueuedDto {
  @ApiProperty()
  name: string;

  @ApiProperty({ description: 'jid of the pushed job' })
  jid: string;

  @ApiProperty()
  queue: string;

  @ApiProperty({ type: String, format: 'date-time' })
  last_enqueue_time: string;
}
