import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { map, type Observable } from 'rxjs';
import { holdsScope, Scope } from '../auth/scopes.decorator.js';
import { AppConfig } from '../config/app-config.js';
import { redactJobDto, SidekiqJobDto } from './dto/sidekiq-job.dto.js';

// an answer holds at most a page of jobs (or a process's workers) a few levels down
const MAX_DEPTH = 6;

/**
 * Applies the redaction rules to every job an answer of the Sidekiq routes shows, unless the
 * token holds the `sensitive` scope (admin does not imply it). Only the answer changes: Redis
 * keeps the payload as Sidekiq wrote it.
 */
@Injectable()
export class RedactPayloadsInterceptor implements NestInterceptor {
  constructor(private readonly config: AppConfig) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request: unknown = context.switchToHttp().getRequest();
    if (holdsScope(request, Scope.Sensitive)) {
      return next.handle();
    }
    return next.handle().pipe(
      map((body: unknown) => {
        this.redact(body, 0);
        return body;
      }),
    );
  }

  private redact(value: unknown, depth: number): void {
    if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) {
      return;
    }
    if (value instanceof SidekiqJobDto) {
      redactJobDto(value, this.config.redactor);
      return;
    }
    for (const child of Array.isArray(value) ? value : Object.values(value)) {
      if (typeof child === 'object' && child !== null) {
        this.redact(child, depth + 1);
      }
    }
  }
}
