import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import { ApiErrorResponse } from '../common/errors/api-errors.decorator.js';
import type { AuditSpec } from './audit-capture.js';
import { AUDIT_SPEC, AuditInterceptor } from './audit.interceptor.js';

/**
 * The route changes something: each request writes one audit record named `action` (stable,
 * `area.thing.verb`) before it runs, and the route answers 503 (AUDIT_UNAVAILABLE, or
 * DATABASE_UNAVAILABLE) without running when that record cannot be written.
 */
export const Audited = (action: string, spec: Omit<AuditSpec, 'action'> = {}) =>
  applyDecorators(
    SetMetadata(AUDIT_SPEC, { ...spec, action } satisfies AuditSpec),
    UseInterceptors(AuditInterceptor),
    ApiExtension('x-audit-action', action),
    ApiErrorResponse(
      503,
      'AUDIT_UNAVAILABLE or DATABASE_UNAVAILABLE: the audit record could not be written, nothing was changed (or another dependency is unavailable); retry later',
    ),
  );
