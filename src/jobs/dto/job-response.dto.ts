import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { JOB_STATUSES, JobStatus } from '../job-status.js';
import type { JobEvent } from '../job-event.entity.js';
import type { Job } from '../job.entity.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export class JobResponseDto {
  @ApiProperty() job_id!: string;
  @ApiProperty() instance!: string;
  @ApiProperty({ enum: JOB_STATUSES }) status!: JobStatus;
  @ApiProperty({ nullable: true, type: String }) job_class!: string | null;
  @ApiProperty({ nullable: true, type: String }) queue!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'JSON text exactly as reported' })
  arguments!: string | null;
  @ApiProperty({ description: 'retry_count + 1 of the latest run (0 = first run)' })
  attempt!: number;
  @ApiProperty({ nullable: true, type: String }) created_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) enqueued_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) scheduled_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) started_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) completed_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) failed_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) hostname!: string | null;
  @ApiProperty({ nullable: true, type: Number }) pid!: number | null;
  @ApiProperty({ nullable: true, type: String }) tid!: string | null;
  @ApiProperty({ nullable: true, type: String }) error_class!: string | null;
  @ApiProperty({ nullable: true, type: String }) error_message!: string | null;
  @ApiProperty({ nullable: true, type: Boolean }) will_retry!: boolean | null;
  @ApiProperty({ nullable: true, type: Number }) duration_ms!: number | null;
  @ApiProperty({ nullable: true, type: String }) restarted_as!: string | null;
  @ApiProperty({ nullable: true, type: String }) restarted_from!: string | null;
  @ApiProperty() event_count!: number;
  @ApiProperty() first_event_at!: string;
  @ApiProperty() last_event_at!: string;

  static from(job: Job): JobResponseDto {
    return {
      job_id: job.jid,
      instance: job.instance,
      status: job.status as JobStatus,
      job_class: job.jobClass,
      queue: job.queue,
      arguments: job.arguments,
      attempt: job.attempt,
      created_at: iso(job.createdAt),
      enqueued_at: iso(job.enqueuedAt),
      scheduled_at: iso(job.scheduledAt),
      started_at: iso(job.startedAt),
      completed_at: iso(job.completedAt),
      failed_at: iso(job.failedAt),
      hostname: job.hostname,
      pid: job.pid,
      tid: job.tid,
      error_class: job.errorClass,
      error_message: job.errorMessage,
      will_retry: job.willRetry,
      duration_ms: job.durationMs,
      restarted_as: job.restartedAs,
      restarted_from: job.restartedFrom,
      event_count: job.eventCount,
      first_event_at: job.firstEventAt.toISOString(),
      last_event_at: job.lastEventAt.toISOString(),
    };
  }
}

export class JobEventResponseDto {
  @ApiProperty() type!: string;
  @ApiProperty() occurred_at!: string;
  @ApiProperty({ description: 'false when the server clock stood in for a missing occurred_at' })
  client_time!: boolean;
  @ApiProperty() received_at!: string;
  @ApiProperty() attempt!: number;
  @ApiProperty({ nullable: true, type: Number }) retry_count!: number | null;
  @ApiProperty({ nullable: true, type: String }) queue!: string | null;
  @ApiProperty({ nullable: true, type: String }) hostname!: string | null;
  @ApiProperty({ nullable: true, type: Number }) pid!: number | null;
  @ApiProperty({ nullable: true, type: String }) tid!: string | null;
  @ApiProperty({ nullable: true, type: String }) scheduled_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) error_class!: string | null;
  @ApiProperty({ nullable: true, type: String }) error_message!: string | null;
  @ApiPropertyOptional({ nullable: true, type: [String] }) error_backtrace!: string[] | null;
  @ApiProperty({ nullable: true, type: Boolean }) will_retry!: boolean | null;
  @ApiProperty({ nullable: true, type: Number }) duration_ms!: number | null;
  @ApiProperty({ nullable: true, type: String }) restarted_as!: string | null;
  @ApiProperty({ nullable: true, type: String }) restarted_from!: string | null;

  static from(e: JobEvent): JobEventResponseDto {
    return {
      type: e.type,
      occurred_at: e.occurredAt.toISOString(),
      client_time: e.clientTime,
      received_at: e.receivedAt.toISOString(),
      attempt: e.attempt,
      retry_count: e.retryCount,
      queue: e.queue,
      hostname: e.hostname,
      pid: e.pid,
      tid: e.tid,
      scheduled_at: iso(e.scheduledAt),
      error_class: e.errorClass,
      error_message: e.errorMessage,
      error_backtrace: e.errorBacktrace,
      will_retry: e.willRetry,
      duration_ms: e.durationMs,
      restarted_as: e.restartedAs,
      restarted_from: e.restartedFrom,
    };
  }
}

export class JobDetailDto extends JobResponseDto {
  @ApiProperty({ nullable: true, type: String, description: 'Raw Sidekiq payload when reported' })
  payload!: string | null;
  @ApiProperty({ type: [JobEventResponseDto], description: 'Every event, oldest first' })
  events!: JobEventResponseDto[];
}

export class JobPageDto {
  @ApiProperty({ type: [JobResponseDto] }) jobs!: JobResponseDto[];
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Pass as `cursor` for the next page; null on the last page',
  })
  next_cursor!: string | null;
}
