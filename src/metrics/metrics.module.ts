import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module.js';
import { SidekiqModule } from '../sidekiq/sidekiq.module.js';
import { ClassMetricsService } from './class-metrics.service.js';
import { GitlabMetricsController } from './gitlab-metrics.controller.js';
import { GitlabMetricsService } from './gitlab-metrics.service.js';
import { HttpMetricsMiddleware } from './http-metrics.middleware.js';
import { JobMetricsController } from './job-metrics.controller.js';
import { JobWindowMetricsService } from './job-window-metrics.service.js';
import { LifecycleMetricsService } from './lifecycle-metrics.service.js';
import { MetricsRegistry } from './metrics-registry.js';
import { PrometheusController } from './prometheus.controller.js';
import { PrometheusService } from './prometheus.service.js';
import { SidekiqStateService } from './sidekiq-state.service.js';
import { StatsdService } from './statsd.service.js';

/**
 * GitLab-compatible /api/v4/sidekiq/*, Prometheus /metrics, job metrics over a window, and the
 * optional StatsD push. Reads jobs and sidekiq through their exported services only.
 */
@Module({
  imports: [JobsModule, SidekiqModule],
  controllers: [GitlabMetricsController, PrometheusController, JobMetricsController],
  providers: [
    MetricsRegistry,
    GitlabMetricsService,
    SidekiqStateService,
    LifecycleMetricsService,
    PrometheusService,
    StatsdService,
    JobWindowMetricsService,
    ClassMetricsService,
  ],
  exports: [LifecycleMetricsService, MetricsRegistry],
})
export class MetricsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes('*path');
  }
}
