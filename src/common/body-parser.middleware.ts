import { Injectable, type NestMiddleware } from '@nestjs/common';
import express, { type NextFunction, type Request, type Response } from 'express';
import { AppConfig } from '../config/app-config.js';
import { DomainError } from './errors/domain-error.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from './validation/json-depth.js';
import { invalid } from './validation/invalid.js';

interface BodyParserError {
  type?: string;
  status?: number;
}

export const JSON_TYPES = ['application/json', 'application/*+json'];
export const FORM_TYPE = 'application/x-www-form-urlencoded';
const TOO_DEEP = 'entity.too.deep';

/** Whether the request carries a body at all (a length above zero, or chunked). */
export function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * JSON and form bodies, parsed inside Nest's middleware chain (not app.use) so that a body that is
 * too large, too deep, not JSON or of another media type reaches DomainErrorFilter and gets the
 * common error shape. A body that cannot be read is refused (415), never taken for an empty one:
 * `{"dry_run":true}` sent as text/plain must not run a restart for real.
 */
@Injectable()
export class BodyParserMiddleware implements NestMiddleware {
  private readonly json: express.RequestHandler;
  private readonly form: express.RequestHandler;

  constructor(config: AppConfig) {
    this.json = express.json({
      limit: config.ingest.bodyLimit,
      type: JSON_TYPES,
      verify: (_req, _res, buf) => {
        if (nestsDeeperThan(buf, MAX_JSON_DEPTH)) {
          throw Object.assign(new Error('too deep'), { type: TOO_DEEP, status: 400 });
        }
      },
    });
    this.form = express.urlencoded({
      limit: config.ingest.bodyLimit,
      extended: true,
      parameterLimit: 10_000,
    });
  }

  // Thrown, not passed to next(err): Nest routes a middleware's exception to the filters, while
  // next(err) would reach Express's default HTML error handler.
  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    if (hasBody(req) && !req.is([...JSON_TYPES, FORM_TYPE])) {
      throw unsupportedMediaType(req.headers['content-type']);
    }
    await run(this.json, req, res);
    await run(this.form, req, res);
    next();
  }
}

export function unsupportedMediaType(
  sent: string | undefined,
  accepted = [JSON_TYPES[0], FORM_TYPE],
) {
  const message = sent
    ? `The body's Content-Type ${JSON.stringify(sent.slice(0, 100))} is not accepted here; send ${accepted.join(' or ')}`
    : `The request has a body but no Content-Type; send ${accepted.join(' or ')}`;
  return new DomainError('UNSUPPORTED_MEDIA_TYPE', message, {
    field: 'content-type',
    accepted,
  });
}

function run(handler: express.RequestHandler, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => {
    void handler(req, res, (error?: unknown) => (error ? reject(mapError(error)) : resolve()));
  });
}

function mapError(error: unknown): unknown {
  const e = error as BodyParserError;
  if (e.type === 'entity.too.large' || e.status === 413) {
    return new DomainError('PAYLOAD_TOO_LARGE', 'The request body is too large', { field: 'body' });
  }
  if (e.type === TOO_DEEP) {
    return invalid('body', `nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  if (e.status === 415 || e.type === 'charset.unsupported' || e.type === 'encoding.unsupported') {
    return new DomainError(
      'UNSUPPORTED_MEDIA_TYPE',
      'The body has a charset or encoding this service cannot read',
      {
        field: 'content-type',
      },
    );
  }
  if (e.status === 400) {
    const message =
      e.type === 'entity.parse.failed'
        ? 'is not valid JSON'
        : e.type === 'parameters.too.many' || /depth/i.test((error as Error).message)
          ? 'has too many or too deeply nested form fields'
          : 'could not be read';
    return invalid('body', message);
  }
  return error;
}
