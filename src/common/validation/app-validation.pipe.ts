import { type ArgumentMetadata, Injectable, ValidationPipe } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import { type FieldError, invalid, invalidFields } from './invalid.js';
import { findUnstorable, UNSTORABLE_MESSAGE } from './text-rules.js';

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = prefix + e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(e.children ?? [], `${field}.`)];
  });
}

/**
 * The global pipe: class-validator on every DTO, and before it one rule for every query, path and
 * DTO body value, so no route can hand Postgres a string it refuses (which would read as an
 * outage). Bodies without a DTO (the ingest routes) are checked by their own parser.
 */
@Injectable()
export class AppValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) => invalidFields(flatten(errors)),
    });
  }

  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const checked =
      metadata.type === 'query' ||
      metadata.type === 'param' ||
      (metadata.type === 'body' && this.toValidate(metadata));
    if (checked) {
      const field = findUnstorable(value, metadata.type === 'body' ? '' : (metadata.data ?? ''));
      if (field !== null) {
        throw invalid(field || metadata.type, UNSTORABLE_MESSAGE);
      }
    }
    return super.transform(value, metadata);
  }
}
