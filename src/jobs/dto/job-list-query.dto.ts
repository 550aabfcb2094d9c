import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { JOB_STATUSES } from '../job-lifecycle.enum.js';
import { InstanceNameProperty } from '../../common/validation/params.dto.js';
import { OptionalDateTime, OptionalPageSize } from '../../common/validation/query-fields.js';
import { MaxBytes } from '../../common/validation/validators.js';

export class JobListQueryDto {
  @ApiPropertyOptional({
    description: 'One status or several, comma separated',
    example: 'running,queued',
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.split(',').map((s) => s.trim()) : value,
  )
  @IsIn(JOB_STATUSES, { each: true })
  status?: string[];

  @ApiPropertyOptional() @IsOptional() @IsString() @MaxBytes(1024) job_class?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxBytes(1024) queue?: string;
  @InstanceNameProperty() instance?: string;

  @ApiPropertyOptional({ description: "Active Job's own job_id" })
  @IsOptional()
  @IsString()
  @MaxBytes(255)
  active_job_id?: string;

  @OptionalDateTime('Last activity at or after (ISO 8601)') from?: string;
  @OptionalDateTime('Last activity before (ISO 8601)') to?: string;

  @ApiPropertyOptional({ description: 'Substring of the arguments JSON text' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(1000)
  arguments?: string;

  @OptionalPageSize(500, 50) limit?: number;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,200}$/)
  cursor?: string;
}
