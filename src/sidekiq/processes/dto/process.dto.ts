import { ApiProperty } from '@nestjs/swagger';
import { MaxLength, MinLength } from 'class-validator';

export class ProcessParamsDto {
  @ApiProperty({ description: 'process identity "hostname:pid:nonce"' })
  @MinLength(3)
  @MaxLength(300)
  identity: string;
}

export class SidekiqProcessDto {
  @ApiProperty()
  identity: string;

  @ApiProperty({ type: String, nullable: true })
  hostname: string | null;

  @ApiProperty({ type: Number, nullable: true })
  pid: number | null;

  @ApiProperty({ type: String, nullable: true })
  tag: string | null;

  @ApiProperty({ type: [String] })
  labels: string[];

  @ApiProperty({ type: [String] })
  queues: string[];

  @ApiProperty({
    type: 'array',
    items: { type: 'object', additionalProperties: { type: 'number' } },
    description: 'one {queue: weight} object per capsule (7.0.2+; empty on 6.x)',
  })
  weights: Record<string, number>[];

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'hash field (8.1.2+), else info.concurrency',
  })
  concurrency: number | null;

  @ApiProperty()
  busy: number;

  @ApiProperty({ type: Number, nullable: true, description: 'epoch seconds' })
  started_at: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'last heartbeat, epoch seconds' })
  beat: number | null;

  @ApiProperty({ description: 'quiet == "true"' })
  quiet: boolean;

  @ApiProperty({ description: 'Process#stopping? (same as quiet)' })
  stopping: boolean;

  @ApiProperty({ type: Number, nullable: true, description: 'resident memory, KB (6.1.3+)' })
  rss: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Redis round trip, µs (6.2.0+)' })
  rtt_us: number | null;

  @ApiProperty({ type: String, nullable: true, description: 'Sidekiq version (7.0.2+)' })
  version: string | null;

  @ApiProperty({ description: 'embedded process (7.0.3+): cannot be quieted or stopped' })
  embedded: boolean;
}

export class SignalResultDto {
  @ApiProperty()
  identity: string;

  @ApiProperty({ enum: ['TSTP', 'TERM'] })
  signal: string;
}
