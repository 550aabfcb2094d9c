import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { MAX_OFFSET, OFFSET_HINT } from '../../../common/validation/paging.js';
import { InstanceNameProperty } from '../../../common/validation/params.dto.js';
import { OptionalDateTime, OptionalPageSize } from '../../../common/validation/query-fields.js';
import { MaxBytes } from '../../../common/validation/validators.js';
import type { FailureGroup } from '../fingerprints.service.js';

export class FailureListQueryDto {
  @InstanceNameProperty({ description: 'only this instance' }) instance?: string;

  @ApiPropertyOptional({ description: 'only fingerprints that affected this job class' })
  @IsOptional()
  @MaxBytes(1024)
  job_class?: string;

  @ApiPropertyOptional({ description: 'only this error class' })
  @IsOptional()
  @MaxBytes(1024)
  error_class?: string;

  @OptionalDateTime('only fingerprints last seen at or after this (ISO 8601)') since?: string;

  @ApiPropertyOptional({
    enum: ['last_seen', 'count'],
    description: 'newest failure first (default), or most failures first',
  })
  @IsOptional()
  @IsIn(['last_seen', 'count'])
  sort?: 'last_seen' | 'count';

  @OptionalPageSize(100, 20) limit?: number;

  @ApiPropertyOptional({ default: 0, minimum: 0, maximum: MAX_OFFSET })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_OFFSET, { message: `offset ${OFFSET_HINT}` })
  offset?: number;
}

export class FingerprintParamDto {
  @ApiProperty({ description: '16 hex characters', example: '3f9a0c1d2e4b5a69' })
  @Matches(/^[0-9a-f]{16}$/, { message: 'fingerprint must be 16 hex characters (0-9 a-f)' })
  fingerprint!: string;
}

export class FailureQueryDto {
  @InstanceNameProperty({ description: 'the instance; default: the one that saw it last' })
  instance?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 720, description: 'hours of trend; default: 168' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(720)
  hours?: number;
}

export class TrendPointDto {
  @ApiProperty({ description: 'start of the UTC hour' }) hour!: string;
  @ApiProperty({ type: 'integer' }) count!: number;
}

export class DeployMarkDto {
  @ApiProperty() revision!: string;
  @ApiProperty() deployed_at!: string;
}

export class FailureSampleDto {
  @ApiProperty({ description: 'the latest failure’s job' }) jid!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'its message as reported (first 2,048 characters)',
  })
  message!: string | null;
}

export class FailureDto {
  @ApiProperty({ description: 'hash of error class, masked message and frame' })
  fingerprint!: string;
  @ApiProperty() instance!: string;
  @ApiProperty() error_class!: string;
  @ApiProperty({ description: 'the message with numbers, ids, quoted values and times masked' })
  message!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'first application frame of the backtrace, without its line number',
  })
  frame!: string | null;
  @ApiProperty({ type: 'integer', description: 'failed runs' }) count!: number;
  @ApiProperty() first_seen_at!: string;
  @ApiProperty() last_seen_at!: string;
  @ApiProperty({ type: [String], description: 'job classes affected (at most 20)' })
  job_classes!: string[];
  @ApiProperty() job_classes_truncated!: boolean;
  @ApiProperty({ type: FailureSampleDto }) sample!: FailureSampleDto;
  @ApiProperty({ description: 'first seen after the instance’s last deploy mark' })
  new_since_deploy!: boolean;
  @ApiProperty({ type: DeployMarkDto, nullable: true }) last_deploy!: DeployMarkDto | null;
  @ApiProperty({ type: [TrendPointDto], description: 'failures per hour, oldest first' })
  trend!: TrendPointDto[];

  static from(g: FailureGroup): FailureDto {
    return {
      fingerprint: g.fingerprint,
      instance: g.instance,
      error_class: g.errorClass,
      message: g.message,
      frame: g.frame,
      count: g.count,
      first_seen_at: g.firstSeenAt.toISOString(),
      last_seen_at: g.lastSeenAt.toISOString(),
      job_classes: g.jobClasses,
      job_classes_truncated: g.jobClassesTruncated,
      sample: { jid: g.sampleJid, message: g.sampleMessage },
      new_since_deploy: g.newSinceDeploy,
      last_deploy: g.lastDeploy
        ? { revision: g.lastDeploy.revision, deployed_at: g.lastDeploy.deployedAt.toISOString() }
        : null,
      trend: g.trend.map((t) => ({ hour: t.hour.toISOString(), count: t.count })),
    };
  }
}

export class FailurePageDto {
  @ApiProperty({ type: 'integer' }) limit!: number;
  @ApiProperty({ type: 'integer' }) offset!: number;
  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: 'offset of the next page; null on the last one',
  })
  next_offset!: number | null;
  @ApiProperty({ type: [FailureDto], description: 'each with its last 24 hours' })
  failures!: FailureDto[];
}
