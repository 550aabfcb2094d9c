import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { IsInstanceName, IsJid } from '../../common/validation/identifiers.js';
import { OptionalDateTime, OptionalPageSize } from '../../common/validation/query-fields.js';

const JSON_OBJECT = { type: 'object', additionalProperties: true } as const;
const CURSOR = /^[1-9][0-9]{0,17}$/;

export class AuditPageQueryDto {
  @OptionalPageSize(200, 50) limit?: number;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @Matches(CURSOR, { message: 'cursor must be a next_cursor' })
  cursor?: string;
}

export class AuditListQueryDto extends AuditPageQueryDto {
  @ApiPropertyOptional({
    description:
      'Who: a token id, a token name, "repl" (any REPL user) or "bootstrap" (the PRIVATE_TOKEN)',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  actor?: string;

  @ApiPropertyOptional({ description: 'An action name, e.g. sidekiq.queue.clear' })
  @IsOptional()
  @Matches(/^[a-z0-9_-]+(\.[a-z0-9_-]+){0,5}$/, { message: 'action must be an action name' })
  @MaxLength(100)
  action?: string;

  @ApiPropertyOptional({ description: 'Records naming this jid (in the request or its outcome)' })
  @IsOptional()
  @IsJid()
  jid?: string;

  @ApiPropertyOptional({ description: 'The Sidekiq instance the change was made on' })
  @IsOptional()
  @IsInstanceName()
  instance?: string;

  @OptionalDateTime('Records made at or after (ISO 8601)') since?: string;
  @OptionalDateTime('Records made before (ISO 8601)') until?: string;
}

export class AuditActorDto {
  @ApiProperty({
    enum: ['token', 'bootstrap', 'repl'],
    description: 'bootstrap: the PRIVATE_TOKEN; repl: the REPL (os_user)',
  })
  kind!: string;
  @ApiProperty({ nullable: true, type: String }) token_id!: string | null;
  @ApiProperty({ nullable: true, type: String }) token_name!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The REPL: its OS user' })
  os_user!: string | null;
}

export class AuditRecordDto {
  @ApiProperty({ description: 'Increasing; a text to keep its 64 bits exact' }) id!: string;
  @ApiProperty({ description: 'When the change was asked for (the record is written first)' })
  at!: string;
  @ApiProperty({ type: AuditActorDto }) actor!: AuditActorDto;
  @ApiProperty({ nullable: true, type: String, description: 'null from the REPL' })
  client_address!: string | null;
  @ApiProperty({ nullable: true, type: String }) user_agent!: string | null;
  @ApiProperty({ description: 'Stable name, e.g. sidekiq.queue.clear' }) action!: string;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Method and path template; null from the REPL',
  })
  route!: string | null;
  @ApiProperty({ nullable: true, type: String }) instance!: string | null;
  @ApiProperty({ ...JSON_OBJECT, description: 'What was changed: jids, queue, set, identity, id…' })
  targets!: Record<string, unknown>;
  @ApiProperty({ ...JSON_OBJECT, description: 'How: dry_run, filter, counters…' })
  options!: Record<string, unknown>;
  @ApiProperty({
    enum: ['pending', 'ok', 'error'],
    description: 'pending: the change was asked for and its outcome is not (yet) recorded',
  })
  outcome!: string;
  @ApiProperty({ ...JSON_OBJECT, nullable: true, description: 'ok: counts, ids made' })
  result!: Record<string, unknown> | null;
  @ApiProperty({ ...JSON_OBJECT, nullable: true, description: 'error: code, status, message' })
  error!: Record<string, unknown> | null;
  @ApiProperty({ nullable: true, type: String }) finished_at!: string | null;
}

export class AuditPageDto {
  @ApiProperty({ type: [AuditRecordDto], description: 'Newest first' }) records!: AuditRecordDto[];
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Pass as `cursor` for the next page; null on the last page',
  })
  next_cursor!: string | null;
}
