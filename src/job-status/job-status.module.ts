import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module.js';
import { SidekiqModule } from '../sidekiq/sidekiq.module.js';
import { JobStatusController } from './job-status.controller.js';
import { JobStatusService } from './job-status.service.js';

@Module({
  imports: [JobsModule, SidekiqModule],
  controllers: [JobStatusController],
  providers: [JobStatusService],
  exports: [JobStatusService],
})
export class JobStatusModule {}
