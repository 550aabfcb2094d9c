import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { Deploy } from './deploys/deploy.entity.js';
import { DeploysController } from './deploys/deploys.controller.js';
import { DeploysService } from './deploys/deploys.service.js';
import { FailureFingerprint } from './fingerprints/failure-fingerprint.entity.js';
import { FailuresController } from './fingerprints/failures.controller.js';
import { FingerprintsService } from './fingerprints/fingerprints.service.js';

/**
 * Failure fingerprints and deploy marks (#23, items 5 and 6): reads the job history through the
 * jobs module's exported service, writes its own tables and its new_failure and
 * deploy_regression findings, and feeds one gauge of the metrics registry.
 */
@Module({
  imports: [MikroOrmModule.forFeature([FailureFingerprint, Deploy]), JobsModule, MetricsModule],
  controllers: [FailuresController, DeploysController],
  providers: [FingerprintsService, DeploysService],
  exports: [FingerprintsService],
})
export class FailuresModule {}
