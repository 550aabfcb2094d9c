import { applyDecorators, Controller, UseInterceptors } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ExactJsonInterceptor } from '../common/json/exact-json.interceptor.js';
import { ApiSidekiqErrors } from './sidekiq-api-errors.decorator.js';
import { RedactPayloadsInterceptor } from './redact-payloads.interceptor.js';

/**
 * A controller over Sidekiq's Redis at `path`. `jobPayloads`: its answers carry job arguments,
 * whose integers beyond 2^53 and Ruby Floats must reach the client exactly, and whose secrets
 * only a token with the `sensitive` scope sees.
 */
export const SidekiqController = (path: string, options: { jobPayloads?: boolean } = {}) =>
  applyDecorators(
    ApiTags('sidekiq'),
    // the exact writer wraps the redaction: the rules see the answer before it is written
    ...(options.jobPayloads
      ? [UseInterceptors(ExactJsonInterceptor, RedactPayloadsInterceptor)]
      : []),
    ApiSidekiqErrors(),
    Controller(path),
  );
