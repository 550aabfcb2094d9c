import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module.js';
import { SidekiqModule } from '../sidekiq/sidekiq.module.js';
import { JobStatusData } from './job-status-data.entity.js';
import { JobStatusController } from './job-status.controller.js';
import { JobStatusService } from './job-status.service.js';

@Module({
  imports: [MikroOrmModule.forFeature([JobStatusData]), JobsModule, SidekiqModule],
  controllers: [JobStatusController],
  providers: [JobStatusService],
  exports: [JobStatusService],
})
export class JobStatusModule {}
