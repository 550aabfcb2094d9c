import { Injectable, type NestMiddleware } from '@nestjs/common';
import express, { type NextFunction, type Request, type Response } from 'express';
import { AppConfig } from '../config/app-config.js';
import { DomainError } from './errors/domain-error.js';

interface BodyParserError {
  type?: string;
  status?: number;
}

/**
 * JSON and form bodies, parsed inside Nest's middleware chain (not app.use) so that a body that is
 * too large or not JSON reaches DomainErrorFilter and gets the common error shape.
 */
@Injectable()
export class BodyParserMiddleware implements NestMiddleware {
  private readonly json: express.RequestHandler;
  private readonly form: express.RequestHandler;

  constructor(config: AppConfig) {
    this.json = express.json({
      limit: config.ingest.bodyLimit,
      type: ['application/json', 'application/*+json'],
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
    await run(this.json, req, res);
    await run(this.form, req, res);
    next();
  }
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
  if (e.status === 400 || e.status === 415) {
    const message = e.type === 'entity.parse.failed' ? 'is not valid JSON' : 'could not be read';
    return new DomainError('VALIDATION_FAILED', `body ${message}`, {
      errors: [{ field: 'body', message }],
    });
  }
  return error;
}
