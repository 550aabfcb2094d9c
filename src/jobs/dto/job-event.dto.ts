import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { ProcessEventDto } from '../processes/dto/process-event.dto.js';
import { CLIENT_EVENT_TYPES, JOB_EVENT_TYPES, JobEventType } from '../job-lifecycle.enum.js';

const TIME = 'ISO 8601 date-time with a time zone, or epoch seconds (milliseconds above 1e11)';

/** Documents an event body; validation is done by parseEvent (field-level errors). */
export class JobEventDto {
  // restarted and cancelled are written by this service only (parseEvent refuses them)
  @ApiProperty({ enum: CLIENT_EVENT_TYPES, example: JobEventType.Started })
  type!: JobEventType;

  @ApiPropertyOptional({
    description: 'Sidekiq jid (required in batches; taken from the URL on per-job routes)',
    example: '8c3f2a9b4e6d1f0a7b5c3d2e',
  })
  job_id?: string;

  // defaults of request fields go in the description: openapi-typescript 7 types a field with
  // `default` as required (openapi-ts/openapi-typescript#1741)
  @ApiPropertyOptional({ description: 'Sidekiq installation name; default: default' })
  instance?: string;

  @ApiPropertyOptional({
    description: `When it happened (client clock). ${TIME}. Server time when absent.`,
  })
  occurred_at?: string;

  @ApiPropertyOptional({ example: 'HardWorker' })
  job_class?: string;

  @ApiPropertyOptional({ example: 'default' })
  queue?: string;

  @ApiPropertyOptional({
    description: "JSON text of the job's args, stored exactly as sent (no length limit)",
    example: '[1,"two"]',
  })
  arguments?: string;

  @ApiPropertyOptional({ description: 'The raw Sidekiq job payload (JSON object text)' })
  payload?: string;

  @ApiPropertyOptional({ description: TIME })
  enqueued_at?: string;

  @ApiPropertyOptional({ description: TIME })
  created_at?: string;

  @ApiPropertyOptional({ description: `The "at" of a scheduled job. ${TIME}` })
  scheduled_at?: string;

  @ApiPropertyOptional() hostname?: string;
  @ApiPropertyOptional({ type: 'integer' }) pid?: number;
  @ApiPropertyOptional({ description: "Sidekiq's thread id" }) tid?: string;

  @ApiPropertyOptional({
    type: 'integer',
    description: "Sidekiq's retry_count when the event happened; absent on the first run",
  })
  retry_count?: number;

  @ApiPropertyOptional() error_class?: string;
  @ApiPropertyOptional() error_message?: string;
  @ApiPropertyOptional({ type: [String], maxItems: 1000 }) error_backtrace?: string[];
  @ApiPropertyOptional({ description: 'On failed: whether Sidekiq will retry the job' })
  will_retry?: boolean;
  @ApiPropertyOptional() duration_ms?: number;

  @ApiPropertyOptional({
    type: 'integer',
    description: 'occurred_at as integer epoch microseconds (instead of occurred_at)',
    example: 1795000000250001,
  })
  occurred_at_us?: number;
  @ApiPropertyOptional({ type: 'integer', description: 'enqueued_at in epoch microseconds' })
  enqueued_at_us?: number;
  @ApiPropertyOptional({ type: 'integer', description: 'created_at in epoch microseconds' })
  created_at_us?: number;
  @ApiPropertyOptional({ type: 'integer', description: 'scheduled_at in epoch microseconds' })
  scheduled_at_us?: number;
  @ApiPropertyOptional({
    type: 'integer',
    description: 'duration in microseconds (instead of duration_ms)',
  })
  duration_us?: number;

  @ApiPropertyOptional({
    description: `On succeeded, failed or interrupted: when the run started (${TIME}); the run's started event is then recorded too, as if sent on its own`,
  })
  started_at?: string;
  @ApiPropertyOptional({ type: 'integer', description: 'started_at in epoch microseconds' })
  started_at_us?: number;

  @ApiPropertyOptional({
    description:
      "An Active Job unwrapped by the client, beside the wrapper's job_class and arguments: the " +
      "class Sidekiq's Web UI shows (Sidekiq 7.1+ rules; Mailer#method for a mail). Stored as the " +
      "job's class instead of the service unwrapping the wrapper's arguments",
    example: 'ReportJob',
  })
  display_class?: string;
  @ApiPropertyOptional({
    description: "With display_class: the job's own arguments as Sidekiq 7.1+'s Web UI shows them",
    example: '["gid://app/User/1",2]',
  })
  display_args?: string;
  @ApiPropertyOptional({ description: "With display_class: Active Job's job_id" })
  active_job_id?: string;
}

@ApiExtraModels(JobEventDto, ProcessEventDto)
export class EventBatchDto {
  @ApiPropertyOptional({
    type: 'array',
    items: {
      oneOf: [{ $ref: getSchemaPath(JobEventDto) }, { $ref: getSchemaPath(ProcessEventDto) }],
    },
    description:
      'Event objects: job events, and process events (type "process": a Sidekiq process\'s startup, heartbeat, quiet, shutdown). Together with rows at most INGEST_MAX_BATCH (default 1000)',
  })
  events?: (JobEventDto | ProcessEventDto)[];

  @ApiPropertyOptional({
    type: [String],
    description: 'Compact form: the event field names of every row, in order',
    example: ['type', 'job_id', 'occurred_at_us', 'job_class', 'queue', 'arguments', 'duration_us'],
  })
  columns?: string[];

  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'array', items: {} },
    description:
      'Compact form: one array of values per event, one value per column (null = absent)',
    example: [['started', 'b1a2', 1795000000250001, 'HardWorker', 'default', '[1]', null]],
  })
  rows?: unknown[][];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Compact form: fields every row shares (e.g. hostname, pid); a row value wins',
    example: { hostname: 'worker-1', pid: 4242 },
  })
  defaults?: Record<string, unknown>;
}

export class EventAcceptedDto {
  @ApiProperty() job_id!: string;
  @ApiProperty({ enum: JOB_EVENT_TYPES }) type!: JobEventType;
  @ApiProperty({ description: 'true when this event was already stored (nothing changed)' })
  duplicate!: boolean;
}

export class BatchAcceptedDto {
  @ApiProperty({ description: 'Events in the request, all committed' }) accepted!: number;
  @ApiProperty({ description: 'How many of them were already stored' }) duplicates!: number;
}
