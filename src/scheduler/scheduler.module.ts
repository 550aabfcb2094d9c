import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { JobStatusModule } from '../job-status/job-status.module.js';
import { JobsModule } from '../jobs/jobs.module.js';
import { PeriodicModule } from '../periodic/periodic.module.js';
import { StatsHistoryModule } from '../stats-history/stats-history.module.js';
import { TaskScheduler } from './task.scheduler.js';

@Module({
  imports: [
    ScheduleModule.forRoot(),
    StatsHistoryModule,
    JobsModule,
    JobStatusModule,
    PeriodicModule,
  ],
  providers: [TaskScheduler],
  exports: [TaskScheduler],
})
export class SchedulerModule {}
