import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module.js';
import { JobManagerController } from './job-manager.controller.js';
import { JobManagerService } from './job-manager.service.js';

@Module({
  imports: [JobsModule],
  controllers: [JobManagerController],
  providers: [JobManagerService],
  exports: [JobManagerService],
})
export class JobManagerModule {}
