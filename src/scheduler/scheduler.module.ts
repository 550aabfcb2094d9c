import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { AlertsModule } from '../alerts/alerts.module.js';
import { FailuresModule } from '../findings/failures.module.js';
import { FindingsModule } from '../findings/findings.module.js';
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
    AlertsModule,
    FailuresModule,
    FindingsModule,
    PeriodicModule,
  ],
  providers: [TaskScheduler],
  exports: [TaskScheduler],
})
export class SchedulerModule {}
