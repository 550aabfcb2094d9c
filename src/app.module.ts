import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { AlertsModule } from './alerts/alerts.module.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { PrivateTokenGuard } from './auth/private-token.guard.js';
import { BodyMediaTypeInterceptor } from './common/body-media-type.interceptor.js';
import { ClockModule } from './common/clock.js';
import { BodyParserMiddleware } from './common/body-parser.middleware.js';
import { DomainErrorFilter } from './common/errors/domain-error.filter.js';
import { ConfigModule } from './config/config.module.js';
import { DashboardModule } from './dashboard/dashboard.module.js';
import { DatabaseModule } from './database/database.module.js';
import { FailuresModule } from './findings/failures.module.js';
import { FindingsModule } from './findings/findings.module.js';
import { HealthModule } from './health/health.module.js';
import { JobManagerModule } from './job-manager/job-manager.module.js';
import { JobStatusModule } from './job-status/job-status.module.js';
import { JobsModule } from './jobs/jobs.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { PeriodicModule } from './periodic/periodic.module.js';
import { RedisModule } from './redis/redis.module.js';
import { SchedulerModule } from './scheduler/scheduler.module.js';
import { SidekiqModule } from './sidekiq/sidekiq.module.js';
import { StatsHistoryModule } from './stats-history/stats-history.module.js';

@Module({
  imports: [
    ConfigModule,
    ClockModule,
    DatabaseModule,
    RedisModule,
    AuthModule,
    AuditModule,
    HealthModule,
    JobsModule,
    JobStatusModule,
    SidekiqModule,
    PeriodicModule,
    JobManagerModule,
    StatsHistoryModule,
    MetricsModule,
    AlertsModule,
    FailuresModule,
    FindingsModule,
    SchedulerModule,
    DashboardModule,
  ],
  providers: [
    { provide: APP_GUARD, useClass: PrivateTokenGuard },
    { provide: APP_FILTER, useClass: DomainErrorFilter },
    { provide: APP_INTERCEPTOR, useClass: BodyMediaTypeInterceptor },
  ],
})
export class AppModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(BodyParserMiddleware).forRoutes('*path');
  }
}
