import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
  StreamableFile,
} from '@nestjs/common';
import type { Response } from 'express';
import { map, type Observable } from 'rxjs';
import { stringifyExact } from './ruby-json.js';

/**
 * For routes that show values read from Ruby (job arguments): writes the response body with
 * stringifyExact, so that each RubyNumber reaches the client as its exact JSON text. Express's
 * res.json would go through JSON.stringify and write the rounded double instead.
 */
@Injectable()
export class ExactJsonInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      map((body: unknown) => {
        if (
          typeof body !== 'object' ||
          body === null ||
          body instanceof StreamableFile ||
          Buffer.isBuffer(body)
        ) {
          return body;
        }
        const text = stringifyExact(body);
        if (text === undefined) {
          return body;
        }
        // the type res.json would set; Nest then sends the string as is
        context.switchToHttp().getResponse<Response>().type('application/json');
        return text;
      }),
    );
  }
}
