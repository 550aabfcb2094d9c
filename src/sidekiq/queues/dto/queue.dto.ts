import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { IsQueueName } from '../../../common/validation/identifiers.js';
import { JidProperty } from '../../../common/validation/params.dto.js';
import { PageQueryDto } from '../../dto/instance-query.dto.js';
import { SidekiqJobDto } from '../../dto/sidekiq-job.dto.js';

export class QueueParamsDto {
  @ApiProperty({ description: 'queue name' })
  @IsQueueName()
  name: string;
}

export class QueueJobParamsDto extends QueueParamsDto {
  @JidProperty({ description: 'job id' })
  jid: string;
}

export class QueuePageQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    enum: ['desc', 'asc'],
    description: 'desc (default): newest first, as Sidekiq::Web; asc: oldest (next to run) first',
  })
  @IsOptional()
  @IsIn(['desc', 'asc'])
  direction?: 'desc' | 'asc';
}

export class QueueSummaryDto {
  @ApiProperty()
  name: string;

  @ApiProperty({ description: 'LLEN' })
  size: number;

  @ApiProperty({
    description: "now − the oldest job's enqueued_at, fractional seconds; 0 when empty",
  })
  latency: number;
}

export class QueuePageDto extends QueueSummaryDto {
  @ApiProperty()
  page: number;

  @ApiProperty()
  per_page: number;

  @ApiProperty({ type: [SidekiqJobDto], description: 'newest first, as Sidekiq::Web shows them' })
  jobs: SidekiqJobDto[];
}

export class QueueClearedDto {
  @ApiProperty()
  name: string;

  @ApiProperty({ description: 'jobs removed' })
  deleted: number;
}
