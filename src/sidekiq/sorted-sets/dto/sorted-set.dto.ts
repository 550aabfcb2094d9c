import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsEnum,
  IsIn,
  IsNumber,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
} from 'class-validator';
import { JidProperty } from '../../../common/validation/params.dto.js';
import { InstanceQueryDto, PageQueryDto } from '../../dto/instance-query.dto.js';
import { SidekiqSetEntryDto } from '../../dto/sidekiq-job.dto.js';
import { SidekiqSetName } from '../../sidekiq-keys.js';

export class SetParamsDto {
  @ApiProperty({ enum: SidekiqSetName, enumName: 'SidekiqSetName' })
  @IsEnum(SidekiqSetName, { message: 'set must be one of scheduled, retry, dead' })
  set: SidekiqSetName;
}

export class SetEntryParamsDto extends SetParamsDto {
  @JidProperty({ description: 'job id' })
  jid: string;
}

export enum SortDirection {
  Asc = 'asc',
  Desc = 'desc',
}

export class SetPageQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    enum: SortDirection,
    description: 'by score; default as Sidekiq::Web: asc for scheduled and retry, desc for dead',
  })
  @IsOptional()
  @IsIn(Object.values(SortDirection))
  direction?: SortDirection;

  @ApiPropertyOptional({
    description:
      'substring of the raw payload (JobSet#scan, Sidekiq 7.1.5+: ZSCAN MATCH *substr*; used as a pattern as is when it contains *); without the sensitive scope, of the payload as redacted',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  search?: string;
}

export class SetEntryQueryDto extends InstanceQueryDto {
  @ApiPropertyOptional({
    description: 'score, to pick one entry when a jid appears more than once',
  })
  @IsOptional()
  @Type(() => Number)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  score?: number;
}

export class SetPageDto {
  @ApiProperty({ enum: SidekiqSetName, enumName: 'SidekiqSetName' })
  set: SidekiqSetName;

  @ApiProperty({ description: 'ZCARD, or the number of matches when searching' })
  size: number;

  @ApiProperty()
  page: number;

  @ApiProperty()
  per_page: number;

  @ApiProperty({ enum: SortDirection })
  direction: SortDirection;

  @ApiProperty({ type: String, nullable: true })
  search: string | null;

  @ApiProperty({ description: 'true when a search stopped at its match limit' })
  truncated: boolean;

  @ApiProperty({ type: [SidekiqSetEntryDto] })
  entries: SidekiqSetEntryDto[];
}

export class SetSizeDto {
  @ApiProperty({ enum: SidekiqSetName, enumName: 'SidekiqSetName' })
  set: SidekiqSetName;

  @ApiProperty()
  size: number;
}

export class BulkResultDto {
  @ApiProperty({ description: 'entries changed' })
  affected: number;

  @ApiProperty({ description: 'entries left alone because their payload cannot be decoded' })
  skipped: number;
}
