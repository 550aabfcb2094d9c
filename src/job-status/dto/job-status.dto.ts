import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { IsJid } from '../../common/validation/identifiers.js';
import { InstanceNameProperty } from '../../common/validation/params.dto.js';
import { JOB_STATUSES, JobStatus } from '../../jobs/job-lifecycle.enum.js';

export const MAX_BULK_JIDS = 1000;

/** sidekiq-status's names for a job's state (plus `cancelled`, which it has no name for). */
export enum SidekiqStatusName {
  Queued = 'queued',
  Working = 'working',
  Retrying = 'retrying',
  Complete = 'complete',
  Failed = 'failed',
  Interrupted = 'interrupted',
  Cancelled = 'cancelled',
}

export class InstanceParamDto {
  @InstanceNameProperty({ description: 'Sidekiq instance (SIDEKIQ_INSTANCES); default: default' })
  instance?: string;
}

export class BulkStatusRequestDto extends InstanceParamDto {
  @ApiProperty({ type: [String], description: `1 to ${MAX_BULK_JIDS} job ids` })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BULK_JIDS)
  @IsJid({ each: true })
  jids!: string[];
}

export class ProgressRequestDto {
  @ApiPropertyOptional({ description: 'work done so far (sidekiq-status `at`)', example: 5 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  at?: number;

  @ApiPropertyOptional({ description: 'work in all (sidekiq-status `total`, default 100)' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  total?: number;

  @ApiPropertyOptional({ description: 'sent with `at`; replaces the message (absent: cleared)' })
  @IsOptional()
  @IsString()
  @MaxLength(10_000)
  message?: string;
}

export class DataRequestDto {
  @ApiProperty({
    description:
      'keys to set (string, number or boolean values) or, with null, to remove; merged into what is stored',
    example: { vino: 'veritas' },
    type: 'object',
    additionalProperties: true,
  })
  @IsObject()
  data!: Record<string, unknown>;
}

export class JobDataDto {
  @ApiProperty() jid!: string;
  @ApiProperty() instance!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) data!: Record<string, unknown>;
}

export class JobStatusDto {
  @ApiProperty() jid!: string;
  @ApiProperty() instance!: string;
  @ApiProperty({ enum: SidekiqStatusName, description: "sidekiq-status's name for the state" })
  status!: SidekiqStatusName;
  @ApiProperty({
    enum: JOB_STATUSES,
    nullable: true,
    description: 'our status (null: no events yet)',
  })
  job_status!: JobStatus | null;
  @ApiProperty({ nullable: true, type: Number, description: '0-100; 100 once complete' })
  pct_complete!: number | null;
  @ApiProperty({ nullable: true, type: Number }) at!: number | null;
  @ApiProperty({ nullable: true, type: Number }) total!: number | null;
  @ApiProperty({ nullable: true, type: String }) message!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) data!: Record<string, unknown>;
  @ApiProperty({ description: 'last change, epoch seconds (as sidekiq-status)' })
  update_time!: number;
  @ApiProperty({ nullable: true, type: String }) enqueued_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) started_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) completed_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) restarted_as!: string | null;
}

export class BulkStatusEntryDto {
  @ApiProperty() jid!: string;
  @ApiProperty({ nullable: true, type: JobStatusDto, description: 'null: nothing known' })
  status!: JobStatusDto | null;
}

export class BulkStatusDto {
  @ApiProperty({ type: [BulkStatusEntryDto], description: 'in the order asked' })
  statuses!: BulkStatusEntryDto[];
}

export class CancelResultDto {
  @ApiProperty() jid!: string;
  @ApiProperty() instance!: string;
  @ApiProperty({ description: 'always true: a job not in the scheduled set gives 409' })
  cancelled!: boolean;
  @ApiProperty({ nullable: true, type: String }) class!: string | null;
  @ApiProperty({ nullable: true, type: String }) queue!: string | null;
  @ApiProperty({ description: 'when it would have run, epoch seconds' }) scheduled_for!: number;
}
