import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { MetricsRegistry } from './metrics-registry.js';

/** Counts every response by route pattern (never the raw URL: bounded label values). */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: MetricsRegistry) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const started = performance.now();
    res.once('finish', () => {
      const pattern = (req.route as { path?: unknown } | undefined)?.path;
      const route = typeof pattern === 'string' ? `${req.baseUrl}${pattern}` : 'unmatched';
      const method = req.method;
      this.metrics.httpRequests.inc({ method, route, status: String(res.statusCode) });
      this.metrics.httpDuration.observe({ method, route }, (performance.now() - started) / 1000);
    });
    next();
  }
}
