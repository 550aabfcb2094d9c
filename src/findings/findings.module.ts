import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { SidekiqModule } from '../sidekiq/sidekiq.module.js';
import { DuplicateDetector } from './detectors/duplicate.detector.js';
import { NeverStartedDetector } from './detectors/never-started.detector.js';
import { StuckDetector } from './detectors/stuck.detector.js';
import { Finding } from './finding.entity.js';
import { FindingsController } from './findings.controller.js';
import { FindingsService } from './findings.service.js';

/**
 * Detectors over the job history and Sidekiq's Redis, and the findings they keep (REST under
 * /api/v1/findings, the findings gauge). Reads jobs, sidekiq and metrics through their exports;
 * FindingsService is what other modules (the scheduler, the alerts) use.
 */
@Module({
  imports: [MikroOrmModule.forFeature([Finding]), JobsModule, SidekiqModule, MetricsModule],
  controllers: [FindingsController],
  providers: [FindingsService, StuckDetector, NeverStartedDetector, DuplicateDetector],
  exports: [FindingsService],
})
export class FindingsModule {}
