import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';

export const IS_PUBLIC = 'isPublic';

/** Opens a route without PRIVATE-TOKEN; the e2e route census keeps this list short. */
export const Public = () =>
  applyDecorators(SetMetadata(IS_PUBLIC, true), ApiExtension('x-public', true));

export const PUBLIC_WHEN = 'publicWhen';

/** Opens a route without PRIVATE-TOKEN only while this AppConfig flag is true (METRICS_PUBLIC). */
export const PublicWhen = (flag: 'metricsPublic') => SetMetadata(PUBLIC_WHEN, flag);
