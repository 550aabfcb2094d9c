import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { InstanceNameProperty } from '../../common/validation/params.dto.js';
import { OptionalDateTime } from '../../common/validation/query-fields.js';

export class StatsHistoryQueryDto {
  @OptionalDateTime('Start (ISO 8601); default: 24 h before `to`') from?: string;
  @OptionalDateTime('End, exclusive (ISO 8601); default: now') to?: string;

  @ApiPropertyOptional({ enum: ['minute', 'hour', 'day'], default: 'hour' })
  @IsOptional()
  @IsIn(['minute', 'hour', 'day'])
  resolution?: 'minute' | 'hour' | 'day';

  @InstanceNameProperty({ description: 'Sidekiq instance (default: the first)' })
  instance?: string;
}

export class SeriesPointDto {
  @ApiProperty() at!: string;
  @ApiProperty({ nullable: true, type: Number, description: 'null: no snapshot in this bucket' })
  processed!: number | null;
  @ApiProperty({ nullable: true, type: Number }) failed!: number | null;
  @ApiProperty({ nullable: true, type: Number }) enqueued!: number | null;
  @ApiProperty({ nullable: true, type: Number }) scheduled!: number | null;
  @ApiProperty({ nullable: true, type: Number }) retry!: number | null;
  @ApiProperty({ nullable: true, type: Number }) dead!: number | null;
  @ApiProperty({ nullable: true, type: Number }) busy!: number | null;
  @ApiProperty({ nullable: true, type: Number }) processes!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'processed since the previous point' })
  throughput!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'failed since the previous point' })
  failures!: number | null;
}

export class QueuePointDto {
  @ApiProperty() at!: string;
  @ApiProperty({ nullable: true, type: Number }) size!: number | null;
  @ApiProperty({ nullable: true, type: Number }) latency!: number | null;
}

export class DrainEstimateDto {
  @ApiProperty() size!: number;
  @ApiProperty({ nullable: true, type: Number }) rate_per_second!: number | null;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'null when the queue is not shrinking',
  })
  eta_seconds!: number | null;
}

export class DailyCountDto {
  @ApiProperty() day!: string;
  @ApiProperty() processed!: number;
  @ApiProperty() failed!: number;
}

export class SnapshotHistoryDto {
  @ApiProperty() instance!: string;
  @ApiProperty({ enum: ['minute', 'hour', 'day'] }) resolution!: string;
  @ApiProperty() from!: string;
  @ApiProperty() to!: string;
  @ApiProperty({ type: [SeriesPointDto] }) points!: SeriesPointDto[];
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'array', items: { $ref: '#/components/schemas/QueuePointDto' } },
    description: 'queue name → depth series',
  })
  queues!: Record<string, QueuePointDto[]>;
  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/DrainEstimateDto' },
  })
  drain!: Record<string, DrainEstimateDto>;
  @ApiProperty({ type: [DailyCountDto], description: "Sidekiq's own daily counters, imported" })
  daily!: DailyCountDto[];
}
