import { applyDecorators, Controller, UseInterceptors } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ExactJsonInterceptor } from '../common/json/exact-json.interceptor.js';
import { ApiSidekiqErrors } from './sidekiq-api-errors.decorator.js';

/**
 * A controller over Sidekiq's Redis at `path`. `jobPayloads`: its answers carry job arguments,
 * whose integers beyond 2^53 and Ruby Floats must reach the client exactly.
 */
export const SidekiqController = (path: string, options: { jobPayloads?: boolean } = {}) =>
  applyDecorators(
    ApiTags('sidekiq'),
    ...(options.jobPayloads ? [UseInterceptors(ExactJsonInterceptor)] : []),
    ApiSidekiqErrors(),
    Controller(path),
  );
