import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { Observable } from 'rxjs';
import { FORM_TYPE, hasBody, JSON_TYPES, unsupportedMediaType } from './body-parser.middleware.js';

// where @nestjs/swagger's @ApiConsumes keeps its list (DECORATORS.API_CONSUMES, not exported)
const API_CONSUMES = 'swagger/apiConsumes';

/**
 * Form bodies only where a route declares them with @ApiConsumes (the ingest routes): elsewhere a
 * form's values are all strings and its options would read differently from the JSON the route
 * documents, so it is refused (415) like any other media type the route does not take.
 */
@Injectable()
export class BodyMediaTypeInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request>();
    if (hasBody(req) && req.is(FORM_TYPE)) {
      const consumes = this.reflector.getAllAndOverride<string[] | undefined>(API_CONSUMES, [
        context.getHandler(),
        context.getClass(),
      ]) ?? [JSON_TYPES[0]];
      if (!consumes.includes(FORM_TYPE)) {
        throw unsupportedMediaType(req.headers['content-type'], consumes);
      }
    }
    return next.handle();
  }
}
