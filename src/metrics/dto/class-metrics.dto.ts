import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches, MinLength } from 'class-validator';
import { InstanceNameProperty } from '../../common/validation/params.dto.js';
import { OptionalPageSize } from '../../common/validation/query-fields.js';
import { MaxBytes } from '../../common/validation/validators.js';
import { DurationStatsDto } from './job-metrics.dto.js';

/** The windows a class's metrics are read over, each with its bucket (at most 60 buckets). */
export const METRICS_WINDOWS = {
  '1h': { seconds: 3_600, bucketSeconds: 60 },
  '8h': { seconds: 28_800, bucketSeconds: 600 },
  '24h': { seconds: 86_400, bucketSeconds: 1_800 },
  '3d': { seconds: 259_200, bucketSeconds: 7_200 },
  '7d': { seconds: 604_800, bucketSeconds: 14_400 },
} as const;
export type MetricsWindow = keyof typeof METRICS_WINDOWS;
export const METRICS_WINDOW_NAMES = Object.keys(METRICS_WINDOWS) as MetricsWindow[];

export const MAX_CLASSES = 500;
const DEFAULT_CLASSES = 200;

export class ClassMetricsQueryDto {
  @ApiPropertyOptional({ enum: METRICS_WINDOW_NAMES, default: '1h' })
  @IsOptional()
  @IsIn(METRICS_WINDOW_NAMES)
  window?: MetricsWindow;

  @InstanceNameProperty({ description: 'only jobs of this instance (default: every instance)' })
  instance?: string;
}

export class ClassListQueryDto extends ClassMetricsQueryDto {
  @OptionalPageSize(MAX_CLASSES, DEFAULT_CLASSES) limit?: number;
}

export class JobClassParamDto {
  @ApiProperty({ description: 'the job class (URL-encoded)', example: 'Billing::InvoiceJob' })
  @Matches(/^[^\p{Cc}]*$/u, { message: 'job_class must not contain control characters' })
  @MaxBytes(1024)
  @MinLength(1)
  job_class!: string;
}

export class ClassSummaryDto {
  @ApiProperty() job_class!: string;
  @ApiProperty({ description: 'jobs that ended (succeeded, failed, dead) in the window' })
  processed!: number;
  @ApiProperty({ description: 'of them failed without retry, or dead' }) failed!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'run time p50, seconds' })
  run_p50!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'run time p95, seconds' })
  run_p95!: number | null;
}

export class ClassListDto {
  @ApiProperty({ enum: METRICS_WINDOW_NAMES }) window!: MetricsWindow;
  @ApiProperty() from!: string;
  @ApiProperty() to!: string;
  @ApiProperty({
    type: [ClassSummaryDto],
    description: 'by name; classes with a job in the window',
  })
  classes!: ClassSummaryDto[];
  @ApiProperty({ description: 'more classes than `limit` exist (the first by name were read)' })
  truncated!: boolean;
}

export class ClassBucketDto {
  @ApiProperty({ description: 'start of the bucket' }) at!: string;
  @ApiProperty() processed!: number;
  @ApiProperty() failed!: number;
}

export class HistogramBucketDto {
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'upper bound in seconds (exclusive); null for the last, open bucket',
  })
  up_to_seconds!: number | null;
  @ApiProperty() count!: number;
}

export class ClassMetricsDto {
  @ApiProperty() job_class!: string;
  @ApiProperty({ type: String, nullable: true }) instance!: string | null;
  @ApiProperty({ enum: METRICS_WINDOW_NAMES }) window!: MetricsWindow;
  @ApiProperty() from!: string;
  @ApiProperty({ description: 'exclusive' }) to!: string;
  @ApiProperty() bucket_seconds!: number;
  @ApiProperty({ description: 'jobs that ended (succeeded, failed, dead) in the window' })
  processed!: number;
  @ApiProperty() succeeded!: number;
  @ApiProperty({ description: 'failed without retry, or dead' }) failed!: number;
  @ApiProperty({ description: 'failed / processed (0 without jobs)' }) failure_rate!: number;
  @ApiProperty({ type: DurationStatsDto, description: 'seconds from start to end of the run' })
  run_seconds!: DurationStatsDto;
  @ApiProperty({
    type: DurationStatsDto,
    description: 'seconds from enqueue to (last) start',
  })
  wait_seconds!: DurationStatsDto;
  @ApiProperty({ type: [ClassBucketDto], description: 'every bucket of the window, oldest first' })
  series!: ClassBucketDto[];
  @ApiProperty({
    type: [HistogramBucketDto],
    description: "run times in Sidekiq's metrics buckets (20 ms … 335 s, then slower)",
  })
  histogram!: HistogramBucketDto[];
}
