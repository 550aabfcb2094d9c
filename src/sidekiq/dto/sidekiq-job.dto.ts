import { ApiProperty } from '@nestjs/swagger';
import { jobLatency, type JobPayload, type JsonValue } from '../sidekiq-payload.js';

/** A job as Sidekiq::JobRecord shows it. Timestamps are epoch seconds (fractional) in every Sidekiq version. */
export class SidekiqJobDto {
  @ApiProperty({ description: 'false when the stored payload is not a JSON object (shown raw)' })
  decodable: boolean;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'why the payload could not be decoded',
  })
  decodeError: string | null;

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
  displayClass: string | null;

  @ApiProperty({ type: 'array', items: {}, description: 'the `args` field as stored' })
  args: JsonValue[];

  @ApiProperty({ type: 'array', items: {}, description: 'JobRecord#display_args' })
  displayArgs: JsonValue[];

  @ApiProperty({ type: Number, nullable: true })
  enqueuedAt: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'created_at, else enqueued_at' })
  createdAt: number | null;

  @ApiProperty({ type: Number, nullable: true })
  failedAt: number | null;

  @ApiProperty({ type: Number, nullable: true })
  retriedAt: number | null;

  @ApiProperty({ type: String, nullable: true })
  errorClass: string | null;

  @ApiProperty({ type: String, nullable: true })
  errorMessage: string | null;

  @ApiProperty({ type: [String], nullable: true })
  errorBacktrace: string[] | null;

  @ApiProperty({ nullable: true, oneOf: [{ type: 'boolean' }, { type: 'integer' }] })
  retry: boolean | number | null;

  @ApiProperty({ type: Number, nullable: true })
  retryCount: number | null;

  @ApiProperty({ type: [String] })
  tags: string[];

  @ApiProperty({ type: String, nullable: true, description: 'Sidekiq Pro batch id' })
  bid: string | null;

  @ApiProperty({ type: String, nullable: true })
  wrapped: string | null;

  @ApiProperty({ description: 'JobRecord#latency: now − (enqueued_at ‖ created_at), seconds' })
  latency: number;

  @ApiProperty({ description: 'the payload exactly as stored in Redis' })
  raw: string;

  static from(job: JobPayload, nowSeconds: number): SidekiqJobDto {
    const dto = new SidekiqJobDto();
    dto.decodable = job.decodable;
    dto.raw = job.raw;
    dto.latency = jobLatency(job, nowSeconds);
    if (!job.decodable) {
      Object.assign(dto, {
        decodeError: job.decodeError,
        jid: null,
        queue: null,
        class: null,
        displayClass: null,
        args: [],
        displayArgs: [],
        enqueuedAt: null,
        createdAt: null,
        failedAt: null,
        retriedAt: null,
        errorClass: null,
        errorMessage: null,
        errorBacktrace: null,
        retry: null,
        retryCount: null,
        tags: [],
        bid: null,
        wrapped: null,
      });
      return dto;
    }
    dto.decodeError = null;
    dto.jid = job.jid;
    dto.queue = job.queue;
    dto.class = job.klass;
    dto.displayClass = job.displayClass;
    dto.args = job.args;
    dto.displayArgs = job.displayArgs;
    dto.enqueuedAt = job.enqueuedAt;
    dto.createdAt = job.createdAt;
    dto.failedAt = job.failedAt;
    dto.retriedAt = job.retriedAt;
    dto.errorClass = job.errorClass;
    dto.errorMessage = job.errorMessage;
    dto.errorBacktrace = job.errorBacktrace;
    dto.retry = job.retry;
    dto.retryCount = job.retryCount;
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

  @ApiProperty({ description: 'Web entry key "<score>-<jid>"' })
  key: string;

  static fromEntry(job: JobPayload, score: number, nowSeconds: number): SidekiqSetEntryDto {
    const dto = Object.assign(new SidekiqSetEntryDto(), SidekiqJobDto.from(job, nowSeconds));
    dto.score = score;
    dto.key = `${String(score)}-${job.jid ?? ''}`;
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
