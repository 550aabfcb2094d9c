import { Module } from '@nestjs/common';
import { SidekiqCronService } from './cron/sidekiq-cron.service.js';
import { SidekiqSchedulerService } from './scheduler/sidekiq-scheduler.service.js';
import { InstancesController } from './instances/instances.controller.js';
import { ProcessesController } from './processes/processes.controller.js';
import { ProcessesService } from './processes/processes.service.js';
import { QueuesController } from './queues/queues.controller.js';
import { QueuesService } from './queues/queues.service.js';
import { SidekiqAccessService } from './sidekiq-access.service.js';
import { SidekiqJobsService } from './sidekiq-jobs.service.js';
import { SidekiqRepository } from './sidekiq.repository.js';
import { SortedSetsController } from './sorted-sets/sorted-sets.controller.js';
import { SortedSetsService } from './sorted-sets/sorted-sets.service.js';
import { StatsController } from './stats/stats.controller.js';
import { StatsService } from './stats/stats.service.js';
import { WorkersController } from './workers/workers.controller.js';
import { WorkersService } from './workers/workers.service.js';

/**
 * Sidekiq's data API over Redis (REST under /api/v1/sidekiq). Needs the global ConfigModule
 * (AppConfig) and RedisModule (RedisRegistry).
 */
@Module({
  controllers: [
    QueuesController,
    SortedSetsController,
    ProcessesController,
    WorkersController,
    StatsController,
    InstancesController,
  ],
  providers: [
    SidekiqRepository,
    SidekiqAccessService,
    QueuesService,
    SortedSetsService,
    ProcessesService,
    WorkersService,
    StatsService,
    SidekiqJobsService,
    SidekiqCronService,
    SidekiqSchedulerService,
  ],
  exports: [
    SidekiqJobsService,
    StatsService,
    QueuesService,
    ProcessesService,
    WorkersService,
    SortedSetsService,
    SidekiqCronService,
    SidekiqSchedulerService,
  ],
})
export class SidekiqModule {}
