import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { IsInstanceName, IsJid } from './identifiers.js';

/** An optional `instance` (query or body): a Sidekiq instance name; each route says its default. */
export const InstanceNameProperty = (options: ApiPropertyOptions = {}) =>
  applyDecorators(ApiPropertyOptional(options), IsOptional(), IsInstanceName());

/** A required Sidekiq jid (path or body). */
export const JidProperty = (options: ApiPropertyOptions = {}) =>
  applyDecorators(ApiProperty(options), IsJid());

/** Routes under `…/:jid`. */
export class JidParamDto {
  @JidProperty({ example: 'b4a577edbccf1d805744efa9' })
  jid!: string;
}
