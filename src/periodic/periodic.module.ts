import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module.js';
import { SidekiqModule } from '../sidekiq/sidekiq.module.js';
import { PeriodicController } from './periodic.controller.js';
import { PeriodicService } from './periodic.service.js';

/** Periodic jobs: sidekiq-cron's and sidekiq-scheduler's definitions with their history, and the overdue findings. */
@Module({
  imports: [SidekiqModule, JobsModule],
  controllers: [PeriodicController],
  providers: [PeriodicService],
  exports: [PeriodicService],
})
export class PeriodicModule {}
