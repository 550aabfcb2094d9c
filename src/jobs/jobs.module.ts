import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module } from '@nestjs/common';
import { JobEvent } from './job-event.entity.js';
import { JobInsightsService } from './job-insights.service.js';
import { JobMetricsService } from './job-metrics.service.js';
import { JobSignalsService } from './job-signals.service.js';
import { JobOutcomesService } from './job-outcomes.service.js';
import { Job } from './job.entity.js';
import { IngestWriterService } from './ingest/ingest-writer.service.js';
import { JobsController } from './jobs.controller.js';
import { JobsService } from './jobs.service.js';
import { EventPartitions } from './storage/event-partitions.js';
import { ProcessLivesController } from './processes/process-lives.controller.js';
import { ProcessLivesService } from './processes/process-lives.service.js';

@Module({
  imports: [MikroOrmModule.forFeature([Job, JobEvent])],
  controllers: [JobsController, ProcessLivesController],
  providers: [
    JobsService,
    IngestWriterService,
    JobMetricsService,
    JobInsightsService,
    JobSignalsService,
    JobOutcomesService,
    EventPartitions,
    ProcessLivesService,
  ],
  exports: [
    JobsService,
    IngestWriterService,
    JobMetricsService,
    JobInsightsService,
    JobSignalsService,
    JobOutcomesService,
    EventPartitions,
    ProcessLivesService,
  ],
})
export class JobsModule {}
