import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  Matches,
  Max,
  Min,
} from 'class-validator';
import { InstanceQueryDto } from '../../dto/instance-query.dto.js';

export class SidekiqStatsDto {
  @ApiProperty() processed: number;
  @ApiProperty() failed: number;
  @ApiProperty() scheduled_size: number;
  @ApiProperty() retry_size: number;
  @ApiProperty() dead_size: number;
  @ApiProperty({ description: 'SCARD processes (not pruned, as Sidekiq)' }) processes_size: number;
  @ApiProperty({ description: 'latency of queue "default", seconds' })
  default_queue_latency: number;
  @ApiProperty({ description: 'Σ busy over the processes' }) workers_size: number;
  @ApiProperty({ description: 'Σ LLEN over the queues named in `queues`' }) enqueued: number;
}

export class HistoryQueryDto extends InstanceQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 1825, default: 30 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1825)
  days?: number;

  @ApiPropertyOptional({ description: 'newest day, YYYY-MM-DD (UTC); default today' })
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'start_date must be YYYY-MM-DD' })
  start_date?: string;
}

export class StatsHistoryDto {
  @ApiProperty() start_date: string;
  @ApiProperty() days: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    description: 'date → count, newest first',
  })
  processed: Record<string, number>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' } })
  failed: Record<string, number>;
}

export class ResetStatsBodyDto {
  @ApiProperty({
    type: [String],
    enum: ['processed', 'failed'],
    description: 'The counters to reset (required: a reset cannot be undone)',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(['processed', 'failed'], { each: true })
  counters!: ('processed' | 'failed')[];
}

export class ResetStatsResultDto {
  @ApiProperty({ type: [String] })
  reset: string[];
}
