import type { ErrorCode } from './error-codes.js';

/** Thrown by services; DomainErrorFilter maps `code` to an HTTP status and the one JSON error shape. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
