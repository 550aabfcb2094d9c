import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { OptionalPageSize } from '../../common/validation/query-fields.js';

const KINDS = ['firing', 'repeat', 'resolved'] as const;
const MAX_ID = Number.MAX_SAFE_INTEGER;

export class DeliveryListQueryDto {
  @ApiPropertyOptional({ description: 'Receiver name (ALERT_WEBHOOKS)' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'receiver must be a receiver name' })
  receiver?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    description: 'Attempts about this finding only',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_ID)
  finding_id?: number;

  @ApiPropertyOptional({ enum: KINDS })
  @IsOptional()
  @IsIn(KINDS)
  kind?: (typeof KINDS)[number];

  @ApiPropertyOptional({
    enum: ['delivered', 'failed'],
    description: 'delivered: the receiver answered 2xx; failed: anything else',
  })
  @IsOptional()
  @IsIn(['delivered', 'failed'])
  outcome?: 'delivered' | 'failed';

  @OptionalPageSize(500, 50) limit?: number;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @Matches(/^[1-9][0-9]{0,15}$/, { message: 'cursor must be a next_cursor' })
  cursor?: string;
}

export class DeliveryDto {
  @ApiProperty() id!: number;
  @ApiProperty() receiver!: string;
  @ApiProperty() finding_id!: number;
  @ApiProperty({
    enum: KINDS,
    description: 'repeat: the finding is still open a repeat interval on',
  })
  kind!: string;
  @ApiProperty({ description: "this notification's attempt number, from 1" }) attempt!: number;
  @ApiProperty({ description: 'the receiver answered 2xx' }) delivered!: boolean;
  @ApiProperty({ nullable: true, type: Number, description: 'null: no answer (see error)' })
  status_code!: number | null;
  @ApiProperty({ nullable: true, type: String }) error!: string | null;
  @ApiProperty() sent_at!: string;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'failed: when the next attempt is due; null when delivered or given up',
  })
  next_attempt_at!: string | null;
}

export class DeliveryPageDto {
  @ApiProperty({ type: [DeliveryDto], description: 'Newest first' }) deliveries!: DeliveryDto[];
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Pass as `cursor` for the next page; null on the last page',
  })
  next_cursor!: string | null;
}
