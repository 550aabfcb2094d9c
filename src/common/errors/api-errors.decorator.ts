import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorBodyDto } from './error-body.dto.js';

const DESCRIPTIONS = {
  400: 'Invalid input; details.errors names each field at fault',
  401: 'Missing or invalid PRIVATE-TOKEN',
  403: 'The token lacks the scope this route needs',
  404: 'Not found',
  409: 'Conflict: nothing was changed',
  413: 'The request body is too large',
  415: "The body's Content-Type is not accepted here",
  429: 'Too many failed token checks from this address; see Retry-After',
  502: "Sidekiq's Redis answered with an error",
  503: 'A dependency is unavailable; retry later (Retry-After)',
} as const;

export type ErrorStatus = keyof typeof DESCRIPTIONS;

/** One error response, documented with the shared ErrorBody schema. */
export const ApiErrorResponse = (status: ErrorStatus, description: string = DESCRIPTIONS[status]) =>
  ApiResponse({ status, description, type: ErrorBodyDto });

/** Error responses with their default descriptions. */
export const ApiErrors = (...statuses: ErrorStatus[]) =>
  applyDecorators(...statuses.map((status) => ApiErrorResponse(status)));
