import { NotFoundError, UniqueConstraintViolationException } from '@mikro-orm/core';
import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { Response } from 'express';
import { isDatabaseUnavailable } from '../../database/pg-errors.js';
import { DomainError } from './domain-error.js';
import { ERROR_STATUS, type ErrorCode } from './error-codes.js';

export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  /** always present: `{}` when there is nothing more to say */
  details: Record<string, unknown>;
}

const HTTP_CODES: Partial<Record<number, ErrorCode>> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
  503: 'DATABASE_UNAVAILABLE',
};

/** The one place errors become HTTP: every error body has the same shape. */
export function toErrorBody(error: unknown): ErrorBody {
  if (error instanceof DomainError) {
    return {
      statusCode: ERROR_STATUS[error.code],
      code: error.code,
      message: error.message,
      details: error.details ?? {},
    };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    const message =
      typeof response === 'string'
        ? response
        : String((response as { message?: unknown }).message ?? error.message);
    const health = response as { status?: unknown; error?: Record<string, unknown> };
    if (typeof response === 'object' && health.status === 'error' && health.error) {
      // terminus readiness: name the parts that are down, keep its report as details
      return {
        statusCode: status,
        code: 'NOT_READY',
        message: `Not ready: ${Object.keys(health.error).join(', ')} down`,
        details: response as Record<string, unknown>,
      };
    }
    return {
      statusCode: status,
      code: HTTP_CODES[status] ?? `HTTP_${status}`,
      message,
      details: {},
    };
  }
  if (error instanceof NotFoundError) {
    return {
      statusCode: HttpStatus.NOT_FOUND,
      code: 'NOT_FOUND',
      message: error.message,
      details: {},
    };
  }
  if (error instanceof UniqueConstraintViolationException) {
    return {
      statusCode: HttpStatus.CONFLICT,
      code: 'CONFLICT',
      message: 'Already exists',
      details: {},
    };
  }
  if (isDatabaseUnavailable(error)) {
    return {
      statusCode: HttpStatus.SERVICE_UNAVAILABLE,
      code: 'DATABASE_UNAVAILABLE',
      message: 'The database is unavailable; retry later',
      details: {},
    };
  }
  return {
    statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
    code: 'INTERNAL_ERROR',
    message: 'Internal error',
    details: {},
  };
}

@Catch()
export class DomainErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(DomainErrorFilter.name);

  catch(error: unknown, host: ArgumentsHost): void {
    const body = toErrorBody(error);
    if (body.statusCode >= 500 && body.statusCode !== 503) {
      this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    }
    const response = host.switchToHttp().getResponse<Response>();
    if (body.statusCode === 503) {
      response.setHeader('Retry-After', '5');
    }
    const retryAfter = body.details?.retry_after_seconds;
    if (body.statusCode === 429 && typeof retryAfter === 'number') {
      response.setHeader('Retry-After', String(retryAfter));
    }
    response.status(body.statusCode).json(body);
  }
}
