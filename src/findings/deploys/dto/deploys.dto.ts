import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MinLength, Min } from 'class-validator';
import { MAX_OFFSET, OFFSET_HINT } from '../../../common/validation/paging.js';
import { InstanceNameProperty } from '../../../common/validation/params.dto.js';
import { OptionalDateTime, OptionalPageSize } from '../../../common/validation/query-fields.js';
import { MaxBytes } from '../../../common/validation/validators.js';
import type { DeployRow } from '../deploy.repository.js';
import type { DeployClass, DeployComparison } from '../deploys.service.js';

export class CreateDeployDto {
  @InstanceNameProperty({ description: 'Sidekiq instance; default: default' }) instance?: string;

  @ApiProperty({ description: 'the application’s version (a git sha, a tag)', example: 'a1b2c3d' })
  @IsString()
  @MinLength(1)
  @MaxBytes(200)
  revision!: string;

  @OptionalDateTime('when it went live (ISO 8601); default: now') deployed_at?: string;
}

export class DeployDto {
  @ApiProperty() id!: string;
  @ApiProperty() instance!: string;
  @ApiProperty() revision!: string;
  @ApiProperty() deployed_at!: string;
  @ApiProperty({ description: 'when the mark was recorded' }) created_at!: string;

  static from(d: DeployRow): DeployDto {
    return {
      id: d.id,
      instance: d.instance,
      revision: d.revision,
      deployed_at: d.deployedAt.toISOString(),
      created_at: d.createdAt.toISOString(),
    };
  }
}

export class CreatedDeployDto extends DeployDto {
  @ApiProperty({ description: 'false: the instance had this revision already (nothing changed)' })
  created!: boolean;
}

export class DeployListQueryDto {
  @InstanceNameProperty({ description: 'only this instance' }) instance?: string;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 10_080,
    description: 'minutes each side of the deploy; default: DEPLOY_WINDOW_MINUTES (60)',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10_080)
  window_minutes?: number;

  @OptionalPageSize(20, 10) limit?: number;

  @ApiPropertyOptional({ default: 0, minimum: 0, maximum: MAX_OFFSET })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_OFFSET, { message: `offset ${OFFSET_HINT}` })
  offset?: number;
}

export class WindowStatsDto {
  @ApiProperty({ type: 'integer', description: 'jobs that ended (succeeded, failed, dead)' })
  count!: number;
  @ApiProperty({ type: 'integer', description: 'failed without retry, or dead' }) failed!: number;
  @ApiProperty({ description: 'failed / count, in percent (0 without jobs)' })
  failure_rate!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'run-time p95, seconds' })
  p95_seconds!: number | null;
}

export class DeployClassDto {
  @ApiProperty() job_class!: string;
  @ApiProperty({ type: WindowStatsDto }) before!: WindowStatsDto;
  @ApiProperty({ type: WindowStatsDto }) after!: WindowStatsDto;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'percentage points; null without jobs after',
  })
  failure_rate_change!: number | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'percent; null without a p95 each side',
  })
  p95_change_percent!: number | null;
  @ApiProperty() regressed!: boolean;
  @ApiProperty({ type: [String], description: 'why it is flagged' }) reasons!: string[];

  static from(c: DeployClass): DeployClassDto {
    const stats = (w: DeployClass['before']): WindowStatsDto => ({
      count: w.count,
      failed: w.failed,
      failure_rate: w.count === 0 ? 0 : Math.round((1000 * w.failed) / w.count) / 10,
      p95_seconds: w.p95,
    });
    return {
      job_class: c.jobClass,
      before: stats(c.before),
      after: stats(c.after),
      failure_rate_change: c.failureRateChange,
      p95_change_percent: c.p95Change,
      regressed: c.reasons.length > 0,
      reasons: c.reasons,
    };
  }
}

export class DeployComparisonDto extends DeployDto {
  @ApiProperty({ type: 'integer' }) window_minutes!: number;
  @ApiProperty({ description: 'the window after the deploy has fully passed' })
  after_window_complete!: boolean;
  @ApiProperty({ type: 'integer', description: 'classes flagged' }) regressions!: number;
  @ApiProperty({
    type: [DeployClassDto],
    description: 'job classes with jobs in either window, regressed first (at most 500)',
  })
  classes!: DeployClassDto[];
  @ApiProperty() classes_truncated!: boolean;

  static fromComparison(c: DeployComparison): DeployComparisonDto {
    return {
      ...DeployDto.from(c.deploy),
      window_minutes: c.windowMinutes,
      after_window_complete: c.afterComplete,
      regressions: c.regressions,
      classes: c.classes.map((k) => DeployClassDto.from(k)),
      classes_truncated: c.classesTruncated,
    };
  }
}

export class DeployPageDto {
  @ApiProperty({ type: 'integer' }) limit!: number;
  @ApiProperty({ type: 'integer' }) offset!: number;
  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: 'offset of the next page; null on the last one',
  })
  next_offset!: number | null;
  @ApiProperty({ type: [DeployComparisonDto], description: 'newest first' })
  deploys!: DeployComparisonDto[];
}
