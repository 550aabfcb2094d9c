import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { catchError, concatMap, from, type Observable, throwError } from 'rxjs';
import { clientAddress } from '../auth/client-address.js';
import type { AuthenticatedRequest } from '../auth/private-token.guard.js';
import { DEFAULT_INSTANCE } from '../config/app-config.js';
import {
  type AuditActor,
  type AuditSpec,
  captureRequest,
  MAX_USER_AGENT,
  summarizeError,
  summarizeResult,
} from './audit-capture.js';
import { AuditService } from './audit.service.js';

export const AUDIT_SPEC = 'auditSpec';

/**
 * Runs after the token guard, before the route's pipes and handler: writes the pending record
 * (a refused write ends the request with 503 before anything is changed), lets the route run, and
 * records its outcome before the response goes out. Targets and options come from the request's
 * params, query and body as sent; a request the route's validation then refuses is recorded as an
 * error with the fields at fault (it changed nothing).
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditService,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const spec = this.reflector.get<AuditSpec | undefined>(AUDIT_SPEC, context.getHandler());
    if (!spec) {
      return next.handle();
    }
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const principal = req.principal;
    const actor: AuditActor =
      principal && principal.tokenId !== null
        ? { kind: 'token', tokenId: principal.tokenId, tokenName: principal.name }
        : { kind: 'bootstrap', tokenName: principal?.name ?? 'PRIVATE_TOKEN' };
    const { instance, targets, options } = captureRequest(
      spec,
      req.params,
      req.query,
      req.body as unknown,
    );
    const routePath = (req.route as { path?: unknown } | undefined)?.path;
    const id = await this.audit.begin({
      actor,
      action: spec.action,
      route: `${req.method} ${typeof routePath === 'string' ? routePath : req.path}`,
      instance: instance ?? (spec.noDefaultInstance ? null : DEFAULT_INSTANCE),
      clientAddress: clientAddress(req.ip ?? req.socket.remoteAddress),
      // Node's parser refuses NUL in a header; a header's text is Latin-1, without surrogates
      userAgent: req.get('user-agent')?.slice(0, MAX_USER_AGENT) ?? null,
      targets,
      options,
    });
    return next.handle().pipe(
      concatMap(async (response) => {
        await this.audit.finish(id, { outcome: 'ok', result: summarizeResult(spec, response) });
        return response;
      }),
      catchError((error: unknown) =>
        from(this.audit.finish(id, { outcome: 'error', error: summarizeError(error) })).pipe(
          concatMap(() => throwError(() => error)),
        ),
      ),
    );
  }
}
