import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Length, Matches, Max, Min } from 'class-validator';
import { OptionalPageSize } from '../../common/validation/query-fields.js';
import { InstanceNameProperty } from '../../common/validation/params.dto.js';
import { PeriodicStatus } from '../periodic-status.js';

export const MAX_PERIODIC_PER_PAGE = 100;
/** The gems whose periodic jobs are read. */
export const PERIODIC_SOURCES = ['sidekiq-cron', 'sidekiq-scheduler'] as const;
export type PeriodicSource = (typeof PERIODIC_SOURCES)[number];
export const SCHEDULE_TYPE_VALUES = ['cron', 'every', 'at', 'in', 'interval'] as const;
const DEFAULT_PER_PAGE = 25;
/** Longer `args` texts are cut to this many characters in a list (args_bytes gives the size). */
export const ARGS_PREVIEW_CHARS = 2048;

export class PeriodicJobParamsDto {
  // sidekiq-cron and sidekiq-scheduler names are free text ("My nightly job"): any printable
  // text, as the gems allow
  @ApiProperty({
    description: 'the sidekiq-cron job or sidekiq-scheduler schedule name',
    example: 'nightly_report',
  })
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

export class PeriodicActionQueryDto extends PeriodicInstanceQueryDto {
  @ApiPropertyOptional({
    enum: PERIODIC_SOURCES,
    description:
      'which gem the job belongs to; when left out, the one that has a job of that name (409 when both have one)',
  })
  @IsOptional()
  @IsIn(PERIODIC_SOURCES)
  source?: PeriodicSource;
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
  @ApiProperty({
    enum: PERIODIC_SOURCES,
    description: 'the gem that runs it: sidekiq-cron, or sidekiq-scheduler',
  })
  source: PeriodicSource;

  @ApiProperty({ description: 'the job (sidekiq-cron) or schedule (sidekiq-scheduler) name' })
  name: string;

  @ApiProperty({
    type: String,
    nullable: true,
    enum: SCHEDULE_TYPE_VALUES,
    description:
      'cron (sidekiq-cron, or a sidekiq-scheduler `cron`), or the sidekiq-scheduler `every`, `at`, `in`, `interval` the schedule uses; null: none, the scheduler skips it',
  })
  schedule_type: (typeof SCHEDULE_TYPE_VALUES)[number] | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'the schedule as stored: a cron expression, or a duration ("1h") or time for every/interval/in/at',
    example: '0 * * * *',
  })
  schedule: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'the cron expression as the gem stores it; null for a schedule that is not a cron one',
    example: '0 * * * *',
  })
  cron: string | null;

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

  @ApiProperty({
    description:
      "the gem's own status: whether its poller enqueues the job (sidekiq-scheduler: sidekiq-scheduler:states, else the schedule's `enabled`, else true)",
  })
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
    description:
      "sidekiq-cron's last_enqueue_time; sidekiq-scheduler's last_times (when its scheduler last triggered the job)",
  })
  last_enqueue_time: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description:
      "sidekiq-scheduler's next_times when written, else from the cron expression (or the last trigger plus the `every` interval); null when it cannot be read",
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
    description: 'why the cron expression (or every/interval duration) could not be read',
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

  @ApiProperty({
    description: 'sidekiq-cron jobs plus sidekiq-scheduler schedules of the instance',
  })
  total: number;

  @ApiProperty({
    description: 'the instance has more cron jobs, or more schedules, than are read (5000 of each)',
  })
  truncated: boolean;

  @ApiProperty({
    type: [PeriodicJobDto],
    description: "sidekiq-cron's by name, then sidekiq-scheduler's by name",
  })
  jobs: PeriodicJobDto[];
}

export class PeriodicEnqueuedDto {
  @ApiProperty({ enum: PERIODIC_SOURCES })
  source: PeriodicSource;

  @ApiProperty()
  name: string;

  @ApiProperty({ description: 'jid of the pushed job' })
  jid: string;

  @ApiProperty()
  queue: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    description:
      'sidekiq-cron: the last_enqueue_time it wrote (whole seconds); sidekiq-scheduler: the push time (the gem records no time for an enqueue now)',
  })
  last_enqueue_time: string;
}
