import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { Equals, IsInt, IsOptional, Max, Min } from 'class-validator';
import { MAX_OFFSET, PageWithinMaxOffset } from '../../common/validation/paging.js';
import { InstanceNameProperty } from '../../common/validation/params.dto.js';
import { OptionalPageSize } from '../../common/validation/query-fields.js';

/** Every Sidekiq route takes `?instance=` (default: the REDIS_URL instance). */
export class InstanceQueryDto {
  @InstanceNameProperty({
    description: 'Sidekiq instance name from SIDEKIQ_INSTANCES',
    example: 'default',
  })
  instance?: string;
}

export const MAX_PER_PAGE = 500;
const DEFAULT_PER_PAGE = 25;

export class PageQueryDto extends InstanceQueryDto {
  @ApiPropertyOptional({
    minimum: 1,
    default: 1,
    description: `(page − 1) × per_page is at most ${MAX_OFFSET}`,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000_000)
  @PageWithinMaxOffset(DEFAULT_PER_PAGE)
  page?: number;

  @OptionalPageSize(MAX_PER_PAGE, DEFAULT_PER_PAGE) per_page?: number;
}

/**
 * The body a bulk change that cannot be undone requires (clear, retry-all, kill-all): a client that
 * sends nothing, or a body this service cannot read (415), changes nothing.
 */
export class ConfirmBodyDto {
  @ApiProperty({
    enum: [true],
    description: 'Must be true: this changes every entry and cannot be undone',
  })
  @Equals(true, { message: 'confirm must be true: this changes every entry and cannot be undone' })
  confirm!: true;
}
