import { ApiProperty, getSchemaPath } from '@nestjs/swagger';

export class GitlabQueueMetricDto {
  @ApiProperty({ description: 'jobs waiting in the queue (Σ over instances)' }) backlog: number;
  @ApiProperty({ description: 'whole seconds since the oldest job was enqueued (max)' })
  latency: number;
}

export class GitlabProcessMetricDto {
  @ApiProperty({ type: String, nullable: true }) hostname: string | null;
  @ApiProperty({ type: Number, nullable: true }) pid: number | null;
  @ApiProperty({ type: String, nullable: true }) tag: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'ISO 8601' })
  started_at: string | null;
  @ApiProperty({ type: [String] }) queues: string[];
  @ApiProperty({ type: [String] }) labels: string[];
  @ApiProperty({ type: Number, nullable: true }) concurrency: number | null;
  @ApiProperty() busy: number;
}

export class GitlabJobStatsDto {
  @ApiProperty() processed: number;
  @ApiProperty() failed: number;
  @ApiProperty() enqueued: number;
  @ApiProperty() dead: number;
}

export class QueueMetricsDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: getSchemaPath(GitlabQueueMetricDto) },
    description: 'queue name → metrics',
  })
  queues: Record<string, GitlabQueueMetricDto>;
}

export class ProcessMetricsDto {
  @ApiProperty({ type: [GitlabProcessMetricDto] }) processes: GitlabProcessMetricDto[];
}

export class JobStatsDto {
  @ApiProperty({ type: GitlabJobStatsDto }) jobs: GitlabJobStatsDto;
}

export class CompoundMetricsDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: getSchemaPath(GitlabQueueMetricDto) },
  })
  queues: Record<string, GitlabQueueMetricDto>;
  @ApiProperty({ type: [GitlabProcessMetricDto] }) processes: GitlabProcessMetricDto[];
  @ApiProperty({ type: GitlabJobStatsDto }) jobs: GitlabJobStatsDto;
}
