import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { JID_PATTERN, PageQueryDto, QUEUE_PATTERN } from '../../dto/instance-query.dto.js';
import { SidekiqJobDto } from '../../dto/sidekiq-job.dto.js';

export class QueueParamsDto {
  @ApiProperty({ description: 'queue name' })
  @Matches(QUEUE_PATTERN, { message: 'name must be a queue name (letters, digits, _ . : -)' })
  name: string;
}

export class QueueJobParamsDto extends QueueParamsDto {
  @ApiProperty({ description: 'job id' })
  @Matches(JID_PATTERN, { message: 'jid must be a Sidekiq job id' })
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
