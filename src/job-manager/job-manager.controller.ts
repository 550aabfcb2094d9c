import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Scope, Scopes } from '../auth/scopes.decorator.js';
import {
  type DurationPage,
  JobManagerService,
  type JobPage,
  type QueryOptions,
} from './job-manager.service.js';

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

  @ApiPropertyOptional({ default: 0, minimum: 0 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  offset?: number;

  @ApiPropertyOptional() @IsOptional() @Matches(/^[A-Za-z0-9_-]{1,64}$/) instance?: string;

  @ApiPropertyOptional({ description: 'Last activity at or after (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'Last activity before (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
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

  @Get('completed-jobs-durations')
  @ApiOperation({ summary: 'Succeeded jobs with the time from started to completed' })
  completedDurations(@Query() q: JobManagerQueryDto): Promise<DurationPage> {
    return this.manager.completedJobsDuration(q.filter, options(q));
  }
}
