import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';

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
    ApiUnauthorizedResponse({ description: 'Missing or invalid PRIVATE-TOKEN' }),
    ApiForbiddenResponse({ description: `Token lacks scope: ${scopes.join(' or ')}` }),
  );
