import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { IsDateTime } from './validators.js';

// Each composition lists its decorators in the order stacked ones are applied (bottom up), which
// is the order class-validator checks them and the order of the messages a client reads.

/** A Sidekiq instance's name: what SIDEKIQ_INSTANCES and the client's `instance` may hold. */
export const INSTANCE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** An optional date or date-time field (see IsDateTime). */
export const OptionalDateTime = (description: string): PropertyDecorator =>
  applyDecorators(IsDateTime(), IsOptional(), ApiPropertyOptional({ description }));

/** An optional `instance` field; `message` replaces class-validator's own. */
export const OptionalInstanceName = (
  doc: { description?: string; example?: string } = {},
  message?: string,
): PropertyDecorator =>
  applyDecorators(
    Matches(INSTANCE_NAME, message === undefined ? undefined : { message }),
    IsOptional(),
    ApiPropertyOptional(doc),
  );

/** An optional page size: a whole number from 1 to `max`, read from a query string. */
export const OptionalPageSize = (max: number, byDefault: number): PropertyDecorator =>
  applyDecorators(
    Max(max),
    Min(1),
    IsInt(),
    Type(() => Number),
    IsOptional(),
    ApiPropertyOptional({ default: byDefault, minimum: 1, maximum: max }),
  );
