import { type ExecutionContext, ForbiddenException, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { IncomingHttpHeaders } from 'node:http';
import { DomainError } from '../common/errors/domain-error.js';
import type { AppConfig } from '../config/app-config.js';
import { type AuthenticatedRequest, PrivateTokenGuard } from './private-token.guard.js';
import { Public, PublicWhen } from './public.decorator.js';
import { Scope, Scopes } from './scopes.decorator.js';
import type { Principal, TokenVerifierService } from './token-verifier.service.js';

/** A verifier that knows a fixed set of tokens and records what it was asked. */
class FakeVerifier {
  readonly verified: { token: string; address: string }[] = [];
  readonly refused: string[] = [];
  constructor(private readonly tokens: Record<string, Principal>) {}

  verify(token: string, address: string): Promise<Principal | null> {
    this.verified.push({ token, address });
    return Promise.resolve(this.tokens[token] ?? null);
  }

  refuse(address: string): void {
    this.refused.push(address);
  }
}

// routes as Nest sees them: the guard reads their metadata through the real Reflector
class Routes {
  @Public() health() {}
  @PublicWhen('metricsPublic') metrics() {}
  admin() {}
  @Scopes(Scope.Read) read() {}
  @Scopes(Scope.Ingest) ingest() {}
}

@Scopes(Scope.Read)
class ReadRoutes {
  list() {}
  @Scopes(Scope.Ingest) write() {}
}

const principal = (name: string, scopes: Scope[]): Principal => ({ tokenId: name, name, scopes });
const TOKENS = {
  'read-token': principal('reader', [Scope.Read]),
  'ingest-token': principal('ingester', [Scope.Ingest]),
  'admin-token': principal('admin', [Scope.Admin]),
};

function contextFor(
  type: object,
  handler: string,
  headers: IncomingHttpHeaders = {},
  ip = '10.1.2.3',
): { context: ExecutionContext; request: AuthenticatedRequest } {
  const request = { headers, ip, socket: {} } as unknown as AuthenticatedRequest;
  const context = {
    getHandler: () => (type as { prototype: Record<string, unknown> }).prototype[handler],
    getClass: () => type,
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
  return { context, request };
}

function guard(metricsPublic = false) {
  const verifier = new FakeVerifier(TOKENS);
  const config = { metricsPublic } as AppConfig;
  const sut = new PrivateTokenGuard(
    new Reflector(),
    verifier as unknown as TokenVerifierService,
    config,
  );
  return { sut, verifier };
}

describe('PrivateTokenGuard', () => {
  it('opens @Public() routes without asking the verifier', async () => {
    const { sut, verifier } = guard();
    await expect(sut.canActivate(contextFor(Routes, 'health').context)).resolves.toBe(true);
    expect(verifier.verified).toEqual([]);
  });

  it('opens @PublicWhen routes only while their flag is on', async () => {
    await expect(guard(true).sut.canActivate(contextFor(Routes, 'metrics').context)).resolves.toBe(
      true,
    );
    await expect(
      guard(false).sut.canActivate(contextFor(Routes, 'metrics').context),
    ).rejects.toBeInstanceOf(UnauthorizedException);
  });

  it('refuses a request without a token or with an unknown one (401), counting its address', async () => {
    const { sut, verifier } = guard();
    await expect(sut.canActivate(contextFor(Routes, 'read').context)).rejects.toBeInstanceOf(
      UnauthorizedException,
    );
    const wrong = contextFor(Routes, 'read', { 'private-token': 'guess' }, '::ffff:10.9.8.7');
    await expect(sut.canActivate(wrong.context)).rejects.toBeInstanceOf(UnauthorizedException);
    // an IPv4-mapped socket address counts as the IPv4 address
    expect(verifier.verified).toEqual([
      { token: '', address: '10.1.2.3' },
      { token: 'guess', address: '10.9.8.7' },
    ]);
  });

  it('takes the token from PRIVATE-TOKEN or Authorization: Bearer, and refuses two that differ', async () => {
    const { sut, verifier } = guard();
    const bearer = contextFor(Routes, 'read', { authorization: 'Bearer read-token' });
    await expect(sut.canActivate(bearer.context)).resolves.toBe(true);
    expect(bearer.request.principal?.name).toBe('reader');

    const both = contextFor(Routes, 'read', {
      'private-token': 'read-token',
      authorization: 'Bearer admin-token',
    });
    const refused = sut.canActivate(both.context);
    await expect(refused).rejects.toBeInstanceOf(DomainError);
    await expect(refused).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(verifier.refused).toEqual(['10.1.2.3']);
    expect(verifier.verified.map((v) => v.token)).toEqual(['read-token']);
  });

  it('needs admin where a route names no scope (fail closed)', async () => {
    const { sut } = guard();
    const read = contextFor(Routes, 'admin', { 'private-token': 'read-token' });
    await expect(sut.canActivate(read.context)).rejects.toBeInstanceOf(ForbiddenException);
    const admin = contextFor(Routes, 'admin', { 'private-token': 'admin-token' });
    await expect(sut.canActivate(admin.context)).resolves.toBe(true);
    expect(admin.request.principal?.name).toBe('admin');
  });

  it('lets a token through on its own scope or with admin, and refuses another scope (403)', async () => {
    const { sut } = guard();
    const cases: [string, string, boolean][] = [
      ['read', 'read-token', true],
      ['read', 'ingest-token', false],
      ['ingest', 'ingest-token', true],
      ['ingest', 'read-token', false],
      ['ingest', 'admin-token', true],
    ];
    for (const [route, token, allowed] of cases) {
      const { context, request } = contextFor(Routes, route, { 'private-token': token });
      const outcome = sut.canActivate(context);
      if (allowed) {
        await expect(outcome, `${token} on ${route}`).resolves.toBe(true);
        expect(request.principal).toBe(TOKENS[token as keyof typeof TOKENS]);
      } else {
        await expect(outcome, `${token} on ${route}`).rejects.toBeInstanceOf(ForbiddenException);
        expect(request.principal).toBeUndefined();
      }
    }
  });

  it('reads @Scopes from the class, with the handler’s own winning', async () => {
    const { sut } = guard();
    const list = contextFor(ReadRoutes, 'list', { 'private-token': 'read-token' });
    await expect(sut.canActivate(list.context)).resolves.toBe(true);
    const write = contextFor(ReadRoutes, 'write', { 'private-token': 'read-token' });
    await expect(sut.canActivate(write.context)).rejects.toBeInstanceOf(ForbiddenException);
  });

  it('lets the verifier’s own refusal (429) through unchanged', async () => {
    const { sut, verifier } = guard();
    const limited = new DomainError('TOO_MANY_REQUESTS', 'slow down', { retry_after_seconds: 3 });
    verifier.verify = () => Promise.reject(limited);
    const { context } = contextFor(Routes, 'read', { 'private-token': 'read-token' });
    await expect(sut.canActivate(context)).rejects.toBe(limited);
  });
});
