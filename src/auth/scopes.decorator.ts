import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import { ApiErrorResponse } from '../common/errors/api-errors.decorator.js';

export enum Scope {
  Ingest = 'ingest',
  Read = 'read',
  Admin = 'admin',
}

export const REQUIRED_SCOPES = 'requiredScopes';

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
