import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AppConfig } from '../config/app-config.js';
import { DomainError } from '../common/errors/domain-error.js';
import { addressKey } from './client-address.js';
import { credentialOf } from './credentials.js';
import { IS_PUBLIC, PUBLIC_WHEN } from './public.decorator.js';
import { REQUIRED_SCOPES, Scope } from './scopes.decorator.js';
import { hasScope, type Principal, TokenVerifierService } from './token-verifier.service.js';

export type AuthenticatedRequest = Request & { principal?: Principal };

/**
 * Global and fail-closed: a route is open only with @Public(); no @Scopes() means admin. The token
 * comes in `PRIVATE-TOKEN` or `Authorization: Bearer` (credentialOf), never in the query string.
 */
@Injectable()
export class PrivateTokenGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifierService,
    private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) {
      return true;
    }
    const flag = this.reflector.getAllAndOverride<'metricsPublic' | undefined>(
      PUBLIC_WHEN,
      targets,
    );
    if (flag && this.config[flag]) {
      return true;
    }
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    // req.ip: the socket's address, or X-Forwarded-For's as far as TRUST_PROXY trusts it
    const address = addressKey(request.ip ?? request.socket.remoteAddress);
    const credential = credentialOf(request.headers);
    if ('conflict' in credential) {
      this.verifier.refuse(address);
      throw new DomainError(
        'UNAUTHORIZED',
        'PRIVATE-TOKEN and Authorization: Bearer carry different tokens; send one',
      );
    }
    const principal = await this.verifier.verify(credential.token, address);
    if (!principal) {
      throw new UnauthorizedException('Missing or invalid PRIVATE-TOKEN');
    }
    const required = this.reflector.getAllAndOverride<Scope[] | undefined>(
      REQUIRED_SCOPES,
      targets,
    ) ?? [Scope.Admin];
    if (!hasScope(principal, required)) {
      throw new ForbiddenException(`This token lacks the scope: ${required.join(' or ')}`);
    }
    request.principal = principal;
    return true;
  }
}
