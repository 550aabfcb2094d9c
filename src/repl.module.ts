import { Module } from '@nestjs/common';
import { AuditModule } from './audit/audit.module.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { JobManagerModule } from './job-manager/job-manager.module.js';
import { JobsModule } from './jobs/jobs.module.js';
import { RedisModule } from './redis/redis.module.js';
import { ClockModule } from './common/clock.js';

// Features only: no HTTP globals, no scheduler, no health checks.
@Module({
  imports: [
    ConfigModule,
    ClockModule,
    DatabaseModule,
    RedisModule,
    AuditModule,
    JobsModule,
    JobManagerModule,
  ],
})
export class ReplModule {}
