import { ApiProperty } from '@nestjs/swagger';
import { REDACTED, REDACTED_ARGS, Redactor } from '../../common/redaction/redactor.js';
import { jobLatency, type JobPayload, sortedEntryKey } from '../payload/job-record.js';
import { type JsonValue } from '../payload/payload-values.js';

/** A job as Sidekiq::JobRecord shows it. Timestamps are epoch seconds (fractional) in every Sidekiq version. */
export class SidekiqJobDto {
  @ApiProperty({ description: 'false when the stored payload is not a JSON object (shown raw)' })
  decodable: boolean;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'why the payload could not be decoded',
  })
  decode_error: string | null;

  @ApiProperty({ type: String, nullable: true })
  jid: string | null;

  @ApiProperty({ type: String, nullable: true })
  queue: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'the `class` field (wrapper class for Active Job)',
  })
  class: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'JobRecord#display_class' })
  display_class: string | null;

  @ApiProperty({
    type: 'array',
    items: {},
    description:
      'the `args` field as Ruby reads it: integers exact at any size, Floats written as Ruby writes them (3.0, 1.0e+20)',
  })
  args: JsonValue[];

  @ApiProperty({
    type: 'array',
    items: {},
    description: 'JobRecord#display_args, numbers as in `args`',
  })
  display_args: JsonValue[];

  @ApiProperty({
    description:
      'display_args as JSON text (JSON.generate), for readers that would round big integers',
  })
  display_args_json: string;

  @ApiProperty({ type: Number, nullable: true })
  enqueued_at: number | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      'JobRecord#created_at: created_at, else enqueued_at, else 0; null only for an undecodable payload',
  })
  created_at: number | null;

  @ApiProperty({ type: Number, nullable: true })
  failed_at: number | null;

  @ApiProperty({ type: Number, nullable: true })
  retried_at: number | null;

  @ApiProperty({ type: String, nullable: true })
  error_class: string | null;

  @ApiProperty({ type: String, nullable: true })
  error_message: string | null;

  @ApiProperty({ type: [String], nullable: true })
  error_backtrace: string[] | null;

  @ApiProperty({ oneOf: [{ type: 'boolean', nullable: true }, { type: 'integer' }] })
  retry: boolean | number | null;

  @ApiProperty({ type: Number, nullable: true })
  retry_count: number | null;

  @ApiProperty({ type: [String] })
  tags: string[];

  @ApiProperty({ type: String, nullable: true, description: 'Sidekiq Pro batch id' })
  bid: string | null;

  @ApiProperty({ type: String, nullable: true })
  wrapped: string | null;

  @ApiProperty({ description: 'JobRecord#latency: now − (enqueued_at ‖ created_at), seconds' })
  latency: number;

  @ApiProperty({
    description:
      'the payload exactly as stored in Redis (with the redaction rules applied unless the token holds the sensitive scope, as to args, display_args and the error); on a page, a payload over 64 KiB is clipped to its first 2 KiB (raw_clipped)',
  })
  raw: string;

  @ApiProperty({ description: "the stored payload's size in bytes (UTF-8)" })
  raw_bytes: number;

  @ApiProperty({
    description:
      'true when this page carries only the start of a payload over 64 KiB: read the job by its jid for the whole',
  })
  raw_clipped: boolean;

  static from(job: JobPayload, nowSeconds: number): SidekiqJobDto {
    const dto = new SidekiqJobDto();
    dto.decodable = job.decodable;
    dto.raw = job.raw;
    dto.raw_clipped = !job.decodable && job.clippedBytes !== undefined;
    dto.raw_bytes =
      !job.decodable && job.clippedBytes !== undefined
        ? job.clippedBytes
        : Buffer.byteLength(job.raw, 'utf8');
    dto.latency = jobLatency(job, nowSeconds);
    if (!job.decodable) {
      Object.assign(dto, {
        decode_error: job.decodeError,
        jid: job.jid,
        queue: null,
        class: null,
        display_class: null,
        args: [],
        display_args: [],
        display_args_json: '[]',
        enqueued_at: null,
        created_at: null,
        failed_at: null,
        retried_at: null,
        error_class: null,
        error_message: null,
        error_backtrace: null,
        retry: null,
        retry_count: null,
        tags: [],
        bid: null,
        wrapped: null,
      } satisfies Omit<
        SidekiqJobDto,
        'decodable' | 'raw' | 'raw_bytes' | 'raw_clipped' | 'latency'
      >);
      return dto;
    }
    dto.decode_error = null;
    dto.jid = job.jid;
    dto.queue = job.queue;
    dto.class = job.klass;
    dto.display_class = job.displayClass;
    dto.args = job.args;
    dto.display_args = job.displayArgs;
    dto.display_args_json = job.displayArgsJson;
    dto.enqueued_at = job.enqueuedAt;
    dto.created_at = job.createdAt;
    dto.failed_at = job.failedAt;
    dto.retried_at = job.retriedAt;
    dto.error_class = job.errorClass;
    dto.error_message = job.errorMessage;
    dto.error_backtrace = job.errorBacktrace;
    dto.retry = job.retry;
    dto.retry_count = job.retryCount;
    dto.tags = job.tags;
    dto.bid = job.bid;
    dto.wrapped = job.wrapped;
    return dto;
  }
}

export class SidekiqSetEntryDto extends SidekiqJobDto {
  @ApiProperty({
    description:
      'sorted-set score: run at (scheduled), next retry (retry), died at (dead); epoch seconds',
  })
  score: number;

  @ApiProperty({
    description: 'Web entry key "<score>-<jid>", the score as Ruby writes a Float (1924992000.0)',
  })
  key: string;

  static fromEntry(job: JobPayload, score: number, nowSeconds: number): SidekiqSetEntryDto {
    const dto = Object.assign(new SidekiqSetEntryDto(), SidekiqJobDto.from(job, nowSeconds));
    dto.score = score;
    dto.key = sortedEntryKey(score, job.jid);
    return dto;
  }
}

export class ActionResultDto {
  @ApiProperty({ description: 'how many entries the action changed' })
  affected: number;

  static of(affected: number): ActionResultDto {
    const dto = new ActionResultDto();
    dto.affected = affected;
    return dto;
  }
}

/**
 * The job as a token without the `sensitive` scope sees it: args, display_args, raw and the error
 * with the redaction rules applied (README "Redaction"); a class whose arguments are never stored
 * shows `["[REDACTED]"]`. Changes `dto` in place (a fresh object per request); Redis is untouched.
 */
export function redactJobDto(dto: SidekiqJobDto, redactor: Redactor): void {
  if (redactor.hidesClass(dto.class) || redactor.hidesClass(dto.display_class)) {
    dto.args = [REDACTED];
    dto.display_args = [REDACTED];
    dto.display_args_json = REDACTED_ARGS;
    dto.raw = (dto.decodable ? redactor.payloadWithoutArgs(dto.raw) : null) ?? REDACTED;
  } else {
    dto.args = redactor.redactValue(dto.args) as JsonValue[];
    dto.display_args = redactor.redactValue(dto.display_args) as JsonValue[];
    dto.display_args_json = redactor.redactJsonText(dto.display_args_json);
    // a page's clipped payload is not JSON: the value rules apply to it as text
    dto.raw = dto.decodable
      ? redactor.redactJsonText(dto.raw, { payload: true })
      : redactor.redactString(dto.raw);
  }
  dto.error_message = dto.error_message === null ? null : redactor.redactString(dto.error_message);
  dto.error_backtrace = dto.error_backtrace?.map((line) => redactor.redactString(line)) ?? null;
}
