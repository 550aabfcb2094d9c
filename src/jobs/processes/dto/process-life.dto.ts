import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { InstanceNameProperty } from '../../../common/validation/params.dto.js';
import { OptionalPageSize } from '../../../common/validation/query-fields.js';
import { PROCESS_STATUSES, ProcessStatus } from '../process-life.js';

export class ProcessListQueryDto {
  @InstanceNameProperty() instance?: string;

  @ApiPropertyOptional({
    description: 'One status or several, comma separated',
    example: 'running,silent',
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.split(',').map((s) => s.trim()) : value,
  )
  @IsIn(PROCESS_STATUSES, { each: true })
  status?: string[];

  @OptionalPageSize(500, 50) limit?: number;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,1200}$/)
  cursor?: string;
}

export class ProcessLifeDto {
  @ApiProperty() instance!: string;
  @ApiProperty({ description: "Sidekiq's process identity (hostname:pid:nonce)" })
  identity!: string;
  @ApiProperty({
    enum: PROCESS_STATUSES,
    description:
      'stopped: it said shutdown; silent: no heartbeat for longer than PROCESS_HEARTBEAT_TIMEOUT; quiet: it said quiet; else running',
  })
  status!: ProcessStatus;
  @ApiProperty({ nullable: true, type: String }) hostname!: string | null;
  @ApiProperty({ nullable: true, type: Number }) pid!: number | null;
  @ApiProperty({ nullable: true, type: String }) tag!: string | null;
  @ApiProperty({ nullable: true, type: String }) sidekiq_version!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'the reporting gem' })
  client_version!: string | null;
  @ApiProperty({ nullable: true, type: Number }) concurrency!: number | null;
  @ApiProperty({ nullable: true, type: [String] }) queues!: string[] | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) started_at!: string | null;
  @ApiProperty({ type: String, format: 'date-time', description: 'the latest event of any kind' })
  last_heartbeat_at!: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) quiet_at!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) stopped_at!: string | null;
}

export class ProcessLifePageDto {
  @ApiProperty({ type: [ProcessLifeDto] }) processes!: ProcessLifeDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor!: string | null;
  @ApiProperty({ description: 'PROCESS_HEARTBEAT_TIMEOUT, seconds' })
  heartbeat_timeout_s!: number;
}
