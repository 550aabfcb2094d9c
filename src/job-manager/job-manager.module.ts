import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module.js';
import { SidekiqModule } from '../sidekiq/sidekiq.module.js';
import { JobManagerController } from './job-manager.controller.js';
import { JobManagerService } from './job-manager.service.js';

@Module({
  imports: [JobsModule, SidekiqModule],
  controllers: [JobManagerController],
  providers: [JobManagerService],
  exports: [JobManagerService],
})
export class JobManagerModule {}
