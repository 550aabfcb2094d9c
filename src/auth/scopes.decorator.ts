import {
  applyDecorators,
  createParamDecorator,
  type ExecutionContext,
  SetMetadata,
} from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import { ApiErrorResponse } from '../common/errors/api-errors.decorator.js';

export enum Scope {
  Ingest = 'ingest',
  Read = 'read',
  Admin = 'admin',
  /**
   * Sees on the Sidekiq routes the arguments and errors that the redaction rules hide; not implied
   * by admin, held by no token unless made with it (README "Redaction")
   */
  Sensitive = 'sensitive',
}

export const REQUIRED_SCOPES = 'requiredScopes';

/** Whether the request's token holds `scope` itself (admin implies no other scope here). */
export function holdsScope(request: unknown, scope: Scope): boolean {
  const principal = (request as { principal?: { scopes?: readonly string[] } }).principal;
  return principal?.scopes?.includes(scope) ?? false;
}

/** A handler parameter: whether the request's token holds `sensitive` (README "Redaction"). */
export const SeesSensitive = createParamDecorator((_: unknown, context: ExecutionContext) =>
  holdsScope(context.switchToHttp().getRequest(), Scope.Sensitive),
);

/**
 * The token must hold one of these scopes. `admin` satisfies every scope; routes with no
 * `@Scopes()` need `admin` (fail closed).
 */
export const Scopes = (...scopes: Scope[]) =>
  applyDecorators(
    SetMetadata(REQUIRED_SCOPES, scopes),
    ApiExtension('x-scopes', scopes),
    ApiErrorResponse(401),
    ApiErrorResponse(403, `Token lacks scope: ${scopes.join(' or ')}`),
    ApiErrorResponse(429),
  );
