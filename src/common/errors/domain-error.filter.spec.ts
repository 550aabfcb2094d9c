import { NotFoundError, UniqueConstraintViolationException } from '@mikro-orm/core';
import {
  type ArgumentsHost,
  HttpException,
  Logger,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { invalid } from '../validation/invalid.js';
import { DomainError } from './domain-error.js';
import { DomainErrorFilter, toErrorBody } from './domain-error.filter.js';
import { ERROR_STATUS, type ErrorCode } from './error-codes.js';

/** What the filter does to an Express response, recorded. */
class FakeResponse {
  headers: Record<string, string> = {};
  statusCode = 0;
  body: unknown;
  setHeader(name: string, value: string) {
    this.headers[name] = value;
    return this;
  }
  status(code: number) {
    this.statusCode = code;
    return this;
  }
  json(body: unknown) {
    this.body = body;
    return this;
  }
}

function hostFor(response: FakeResponse): ArgumentsHost {
  return {
    switchToHttp: () => ({ getResponse: () => response, getRequest: () => ({}) }),
  } as unknown as ArgumentsHost;
}

describe('toErrorBody', () => {
  it('gives every domain code its status from the one map, details {} when none', () => {
    for (const [code, status] of Object.entries(ERROR_STATUS)) {
      expect(toErrorBody(new DomainError(code as ErrorCode, `m ${code}`))).toEqual({
        statusCode: status,
        code,
        message: `m ${code}`,
        details: {},
      });
    }
  });

  it('keeps a validation error’s details.errors', () => {
    expect(toErrorBody(invalid('limit', 'must be at most 500'))).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: 'limit must be at most 500',
      details: { errors: [{ field: 'limit', message: 'must be at most 500' }] },
    });
  });

  it('names Nest HTTP exceptions by their status, and unknown statuses HTTP_<status>', () => {
    expect(toErrorBody(new UnauthorizedException('Missing or invalid PRIVATE-TOKEN'))).toEqual({
      statusCode: 401,
      code: 'UNAUTHORIZED',
      message: 'Missing or invalid PRIVATE-TOKEN',
      details: {},
    });
    expect(toErrorBody(new HttpException('short and stout', 418))).toEqual({
      statusCode: 418,
      code: 'HTTP_418',
      message: 'short and stout',
      details: {},
    });
  });

  it('turns a failed readiness check into NOT_READY naming the parts that are down', () => {
    const report = {
      status: 'error',
      info: { database: { status: 'up' } },
      error: { 'redis:default': { status: 'down' } },
    };
    expect(toErrorBody(new ServiceUnavailableException(report))).toEqual({
      statusCode: 503,
      code: 'NOT_READY',
      message: 'Not ready: redis:default down',
      details: report,
    });
  });

  it('maps MikroORM not-found to 404 and a unique violation to 409', () => {
    expect(toErrorBody(new NotFoundError('ApiToken not found'))).toMatchObject({
      statusCode: 404,
      code: 'NOT_FOUND',
    });
    const duplicate = new UniqueConstraintViolationException(new Error('duplicate key value'));
    expect(toErrorBody(duplicate)).toEqual({
      statusCode: 409,
      code: 'CONFLICT',
      message: 'Already exists',
      details: {},
    });
  });

  it('maps an unreachable database to 503 and anything else to 500 without its message', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
    });
    expect(toErrorBody(new Error('wrapped', { cause: refused }))).toMatchObject({
      statusCode: 503,
      code: 'DATABASE_UNAVAILABLE',
    });
    expect(toErrorBody(new TypeError('x is undefined; secret=hunter2'))).toEqual({
      statusCode: 500,
      code: 'INTERNAL_ERROR',
      message: 'Internal error',
      details: {},
    });
  });
});

describe('DomainErrorFilter', () => {
  const sut = new DomainErrorFilter();

  afterEach(() => vi.restoreAllMocks());

  it('answers with the status and body, and no Retry-After for a client error', () => {
    const response = new FakeResponse();
    sut.catch(invalid('to', 'must be after from'), hostFor(response));
    expect(response.statusCode).toBe(400);
    expect(response.body).toEqual(toErrorBody(invalid('to', 'must be after from')));
    expect(response.headers).toEqual({});
  });

  it('sets Retry-After: 5 on 503 and the computed wait on 429', () => {
    const unavailable = new FakeResponse();
    sut.catch(new DomainError('SIDEKIQ_UNREACHABLE', 'down'), hostFor(unavailable));
    expect(unavailable.statusCode).toBe(503);
    expect(unavailable.headers).toEqual({ 'Retry-After': '5' });

    const limited = new FakeResponse();
    const tooMany = new DomainError('TOO_MANY_REQUESTS', 'slow down', { retry_after_seconds: 7 });
    sut.catch(tooMany, hostFor(limited));
    expect(limited.statusCode).toBe(429);
    expect(limited.headers).toEqual({ 'Retry-After': '7' });
  });

  it('logs a 500 with its stack, but not a 503 or a client error', () => {
    const logged = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    sut.catch(new DomainError('SIDEKIQ_UNREACHABLE', 'down'), hostFor(new FakeResponse()));
    sut.catch(invalid('to', 'must be after from'), hostFor(new FakeResponse()));
    expect(logged).not.toHaveBeenCalled();
    const bug = new Error('boom');
    sut.catch(bug, hostFor(new FakeResponse()));
    expect(logged).toHaveBeenCalledTimes(1);
    expect(logged.mock.calls[0][0]).toContain('boom');
  });
});
