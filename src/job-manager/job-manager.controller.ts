import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { Scope, Scopes } from '../auth/scopes.decorator.js';
import { MAX_OFFSET, OFFSET_HINT } from '../common/validation/paging.js';
import {
  type DurationPage,
  type FoundJob,
  JobManagerService,
  type JobPage,
  type QueryOptions,
  type RestartReport,
} from './job-manager.service.js';
import { IsDateTime } from '../common/validation/validators.js';

export class JobManagerQueryDto {
  @ApiPropertyOptional({ description: 'Substring of the arguments JSON text' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  filter?: string;

  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ default: 0, minimum: 0, maximum: MAX_OFFSET })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_OFFSET, { message: `offset ${OFFSET_HINT}` })
  offset?: number;

  @ApiPropertyOptional() @IsOptional() @Matches(/^[A-Za-z0-9_-]{1,64}$/) instance?: string;

  @ApiPropertyOptional({ description: 'Last activity at or after (ISO 8601)' })
  @IsOptional()
  @IsDateTime()
  from?: string;

  @ApiPropertyOptional({ description: 'Last activity before (ISO 8601)' })
  @IsOptional()
  @IsDateTime()
  to?: string;
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

  @ApiPropertyOptional({ default: false, description: 'Also jobs whose latest status is queued' })
  @IsOptional()
  @IsBoolean()
  include_queued?: boolean;

  @ApiPropertyOptional({ default: 60, description: 'Leave younger jobs alone (seconds)' })
  @IsOptional()
  @IsNumber()
  @Min(0)
  min_age_seconds?: number;

  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 1000 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  @ApiPropertyOptional() @IsOptional() @Matches(/^[A-Za-z0-9_-]{1,64}$/) instance?: string;
}

export class JidParamDto {
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'job_id must be a Sidekiq jid' })
  job_id!: string;
}

function options(q: JobManagerQueryDto): QueryOptions {
  return { limit: q.limit, offset: q.offset, instance: q.instance, from: q.from, to: q.to };
}

@ApiTags('job-manager')
@Scopes(Scope.Read)
@Controller('api/v1/job-manager')
export class JobManagerController {
  constructor(private readonly manager: JobManagerService) {}

  @Get('queued-jobs')
  @ApiOperation({ summary: 'Jobs whose latest status is queued' })
  queued(@Query() q: JobManagerQueryDto): Promise<JobPage> {
    return this.manager.queuedJobs(q.filter, options(q));
  }

  @Get('uncompleted-jobs')
  @ApiOperation({ summary: 'Jobs whose latest status is running (started, not finished)' })
  uncompleted(@Query() q: JobManagerQueryDto): Promise<JobPage> {
    return this.manager.uncompletedJobs(q.filter, options(q));
  }

  @Get('completed-jobs')
  @ApiOperation({ summary: 'Jobs whose latest status is succeeded' })
  completed(@Query() q: JobManagerQueryDto): Promise<JobPage> {
    return this.manager.completedJobs(q.filter, options(q));
  }

  @Get('failed-jobs')
  @ApiOperation({ summary: 'Jobs that failed for good or died' })
  failed(@Query() q: JobManagerQueryDto): Promise<JobPage> {
    return this.manager.failedJobs(q.filter, options(q));
  }

  @Get('all-jobs')
  @ApiOperation({ summary: 'Every job, newest first' })
  all(@Query() q: JobManagerQueryDto): Promise<JobPage> {
    return this.manager.allJobs(q.filter, options(q));
  }

  @Get('queued-to-completion-durations')
  @ApiOperation({ summary: 'Succeeded jobs with the time from queued to completed' })
  queuedToCompletion(@Query() q: JobManagerQueryDto): Promise<DurationPage> {
    return this.manager.queuedToCompletionDuration(q.filter, options(q));
  }

  @Get('lost-jobs')
  @ApiOperation({ summary: 'Jobs started on a Sidekiq process that is gone, never finished' })
  lost(@Query() q: JobManagerQueryDto): Promise<JobPage> {
    return this.manager.lostJobs(q.filter, options(q));
  }

  @Get('jobs/:job_id')
  @ApiOperation({ summary: 'One job: its timeline and where Sidekiq holds it now' })
  find(@Param() p: JidParamDto, @Query() q: JobManagerQueryDto): Promise<FoundJob> {
    return this.manager.find(p.job_id, q.instance);
  }

  @Post('restart-uncompleted-jobs')
  @HttpCode(200)
  @Scopes(Scope.Admin)
  @ApiOperation({
    summary:
      'Re-enqueue jobs that never finished and that Sidekiq no longer holds (dry_run to preview)',
  })
  restart(@Body() body: RestartBodyDto): Promise<RestartReport> {
    return this.manager.restartUncompletedJobs(body.filter, {
      dryRun: body.dry_run,
      includeQueued: body.include_queued,
      minAgeSeconds: body.min_age_seconds,
      limit: body.limit,
      instance: body.instance,
    });
  }

  @Get('completed-jobs-durations')
  @ApiOperation({ summary: 'Succeeded jobs with the time from started to completed' })
  completedDurations(@Query() q: JobManagerQueryDto): Promise<DurationPage> {
    return this.manager.completedJobsDuration(q.filter, options(q));
  }
}
