import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PREVIEW_CHARS, isTruncated } from '../../common/preview.js';
import { JOB_STATUSES, JobStatus } from '../job-lifecycle.enum.js';
import type { JobEvent } from '../job-event.entity.js';
import type { Job } from '../job.entity.js';
import { TIMELINE_PAGE } from '../job-event.repository.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export class JobResponseDto {
  @ApiProperty() job_id!: string;
  @ApiProperty() instance!: string;
  @ApiProperty({ enum: JOB_STATUSES }) status!: JobStatus;
  @ApiProperty({
    nullable: true,
    type: String,
    description:
      "The job's class. For an Active Job the real class (`InvoiceJob`), for a mail delivery `Mailer#method`, as Sidekiq's display_class shows them; the Sidekiq class is `wrapper_class`",
  })
  job_class!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description:
      "Active Job's Sidekiq wrapper (`ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper`, `Sidekiq::ActiveJob::Wrapper`); null for a plain Sidekiq job",
  })
  wrapper_class!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: "Active Job's own job_id (GET /api/v1/jobs/:job_id finds the job by it too)",
  })
  active_job_id!: string | null;
  @ApiProperty({ nullable: true, type: String }) queue!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description: `JSON text exactly as reported; for an Active Job its own arguments as Sidekiq's display_args shows them (GlobalIDs as their gid string), the wrapper's being raw_arguments on the job's route. In lists its first ${PREVIEW_CHARS} characters (see arguments_truncated); whole on the job's own route (GET /api/v1/jobs/:job_id)`,
  })
  arguments!: string | null;
  @ApiProperty({
    description:
      "true when `arguments` is a preview, shorter than the whole value (read the job's own route for it)",
  })
  arguments_truncated!: boolean;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'size of the whole arguments text in bytes (UTF-8)',
  })
  arguments_bytes!: number | null;
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
  @ApiProperty({
    nullable: true,
    type: String,
    description: `In lists its first ${PREVIEW_CHARS} characters (see error_message_truncated); whole on the job's own route`,
  })
  error_message!: string | null;
  @ApiProperty({ description: '`error_message` is a preview, shorter than the whole message' })
  error_message_truncated!: boolean;
  @ApiProperty({ nullable: true, type: Number, description: 'size of the whole message in bytes' })
  error_message_bytes!: number | null;
  @ApiProperty({ nullable: true, type: Boolean }) will_retry!: boolean | null;
  @ApiProperty({ nullable: true, type: Number }) duration_ms!: number | null;
  @ApiProperty({ nullable: true, type: String }) restarted_as!: string | null;
  @ApiProperty({ nullable: true, type: String }) restarted_from!: string | null;
  @ApiProperty() event_count!: number;
  @ApiProperty() first_event_at!: string;
  @ApiProperty() last_event_at!: string;

  /** A list row: arguments and error message are the previews cut in SQL. */
  static from(job: Job): JobResponseDto {
    return {
      job_id: job.jid,
      instance: job.instance,
      status: job.status as JobStatus,
      job_class: job.jobClass,
      wrapper_class: job.wrapperClass,
      active_job_id: job.activeJobId,
      queue: job.queue,
      arguments: job.argumentsPreview,
      arguments_truncated: isTruncated(job.argumentsPreview, job.argumentsBytes),
      arguments_bytes: job.argumentsBytes,
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
      error_message: job.errorMessagePreview,
      error_message_truncated: isTruncated(job.errorMessagePreview, job.errorMessageBytes),
      error_message_bytes: job.errorMessageBytes,
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
  @ApiProperty({ nullable: true, type: String, description: "The job's queue" })
  queue!: string | null;
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

  /** `queue`: the job's (an event does not repeat its job's identity) */
  static from(e: JobEvent, queue: string | null): JobEventResponseDto {
    return {
      type: e.type,
      occurred_at: e.occurredAt.toISOString(),
      client_time: e.clientTime,
      received_at: e.receivedAt.toISOString(),
      attempt: e.attempt,
      retry_count: e.retryCount,
      queue,
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

/** The job's own route: arguments and error message whole (never truncated). */
export class JobDetailDto extends JobResponseDto {
  @ApiProperty({ nullable: true, type: String, description: 'Raw Sidekiq payload when reported' })
  payload!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    description:
      "An Active Job's Sidekiq args (the wrapper's), JSON text as reported; null otherwise",
  })
  raw_arguments!: string | null;
  @ApiProperty({
    type: [JobEventResponseDto],
    description: `Events oldest first, at most ${TIMELINE_PAGE} (see events_next_cursor)`,
  })
  events!: JobEventResponseDto[];
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Pass as `events_cursor` for the next events of the timeline; null after the last',
  })
  events_next_cursor!: string | null;
  @ApiProperty({
    description:
      "How many of the job's events are no longer kept (EVENT_RETENTION_DAYS dropped the days they " +
      'were received on); the job row keeps what they decided. 0 when its timeline is whole',
  })
  events_expired!: number;
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
