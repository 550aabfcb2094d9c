import { applyDecorators } from '@nestjs/common';
import { ApiErrorResponse } from '../common/errors/api-errors.decorator.js';

/** What every route over Sidekiq's Redis can answer besides its own errors. */
export const ApiSidekiqErrors = () =>
  applyDecorators(
    ApiErrorResponse(
      404,
      'INSTANCE_NOT_FOUND (unknown ?instance=), or the queue, job or process named in the path',
    ),
    ApiErrorResponse(502, "SIDEKIQ_REDIS_ERROR: Sidekiq's Redis answered with an error"),
    ApiErrorResponse(503, "SIDEKIQ_UNREACHABLE: Sidekiq's Redis does not answer; retry later"),
  );
