import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import type { ErrorBody } from './domain-error.filter.js';

/** Every error answer, whatever raised it (DomainErrorFilter, the HTTP parser, the body parser). */
@ApiSchema({ name: 'ErrorBody' })
export class ErrorBodyDto implements ErrorBody {
  @ApiProperty({ type: 'integer', description: 'the HTTP status again', example: 400 })
  statusCode!: number;

  @ApiProperty({
    description:
      'SCREAMING_SNAKE error code (VALIDATION_FAILED, UNAUTHORIZED, JOB_NOT_FOUND, SIDEKIQ_UNREACHABLE, …)',
    example: 'VALIDATION_FAILED',
  })
  code!: string;

  @ApiProperty({
    description: 'what went wrong, for a person',
    example: 'limit: must not be greater than 500',
  })
  message!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      'always present, `{}` when there is nothing more to say; VALIDATION_FAILED lists `errors: [{ field, message }]`',
    example: { errors: [{ field: 'limit', message: 'limit must not be greater than 500' }] },
  })
  details!: Record<string, unknown>;
}
