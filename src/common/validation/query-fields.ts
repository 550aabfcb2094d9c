import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { IsDateTime } from './validators.js';

// Each composition lists its decorators in the order stacked ones are applied (bottom up), which
// is the order class-validator checks them and the order of the messages a client reads.

/** An optional date or date-time field (see IsDateTime). */
export const OptionalDateTime = (description: string): PropertyDecorator =>
  applyDecorators(IsDateTime(), IsOptional(), ApiPropertyOptional({ description }));

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
