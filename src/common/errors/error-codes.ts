import { HttpStatus } from '@nestjs/common';

// One map from domain error code to HTTP status; DomainErrorFilter is its only reader.
export const ERROR_STATUS = {
  VALIDATION_FAILED: HttpStatus.BAD_REQUEST,
  PAYLOAD_TOO_LARGE: HttpStatus.PAYLOAD_TOO_LARGE,
  UNAUTHORIZED: HttpStatus.UNAUTHORIZED,
  FORBIDDEN: HttpStatus.FORBIDDEN,
  NOT_FOUND: HttpStatus.NOT_FOUND,
  JOB_NOT_FOUND: HttpStatus.NOT_FOUND,
  TOKEN_NOT_FOUND: HttpStatus.NOT_FOUND,
  INSTANCE_NOT_FOUND: HttpStatus.NOT_FOUND,
  QUEUE_NOT_FOUND: HttpStatus.NOT_FOUND,
  SIDEKIQ_JOB_NOT_FOUND: HttpStatus.NOT_FOUND,
  PROCESS_NOT_FOUND: HttpStatus.NOT_FOUND,
  CONFLICT: HttpStatus.CONFLICT,
  NOT_SCHEDULED: HttpStatus.CONFLICT,
  READ_ONLY_MODE: HttpStatus.FORBIDDEN,
  DATABASE_UNAVAILABLE: HttpStatus.SERVICE_UNAVAILABLE,
  SIDEKIQ_UNREACHABLE: HttpStatus.SERVICE_UNAVAILABLE,
  SIDEKIQ_REDIS_ERROR: HttpStatus.BAD_GATEWAY,
  SIDEKIQ_OPERATION_NOT_ALLOWED: HttpStatus.CONFLICT,
  INTERNAL_ERROR: HttpStatus.INTERNAL_SERVER_ERROR,
} as const satisfies Record<string, HttpStatus>;

export type ErrorCode = keyof typeof ERROR_STATUS;
