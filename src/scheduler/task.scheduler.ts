import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { AlertsService } from '../alerts/alerts.service.js';
import { AuditService } from '../audit/audit.service.js';
import { AppConfig } from '../config/app-config.js';
import { FindingsService } from '../findings/findings.service.js';
import { JobStatusService } from '../job-status/job-status.service.js';
import { JobsService } from '../jobs/jobs.service.js';
import { FingerprintsService } from '../findings/fingerprints/fingerprints.service.js';
import { EventPartitions } from '../jobs/storage/event-partitions.js';
import { ProcessLivesService } from '../jobs/processes/process-lives.service.js';
import { PeriodicService } from '../periodic/periodic.service.js';
import { StatsHistoryService } from '../stats-history/stats-history.service.js';

type TickName =
  | 'snapshot'
  | 'import'
  | 'retention'
  | 'partitions'
  | 'detectors'
  | 'fingerprints'
  | 'alerts'
  | 'periodic';

/**
 * The one list of timers. Each tick skips while its previous run is still going, takes its Postgres
 * advisory lock (src/database/advisory-locks.ts) inside the service (one copy of the service works,
 * the others skip), and turns an outage into a logged warning: the next tick tries again.
 */
@Injectable()
export class TaskScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger(TaskScheduler.name);
  private readonly running = new Set<TickName>();

  constructor(
    private readonly registry: SchedulerRegistry,
    private readonly config: AppConfig,
    private readonly history: StatsHistoryService,
    private readonly jobs: JobsService,
    private readonly statusData: JobStatusService,
    private readonly partitions: EventPartitions,
    private readonly alerts: AlertsService,
    private readonly fingerprints: FingerprintsService,
    private readonly findings: FindingsService,
    private readonly periodic: PeriodicService,
    private readonly audit: AuditService,
    private readonly processLives: ProcessLivesService,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.scheduler.enabled) {
      return;
    }
    const timers: [TickName, string][] = [
      ['snapshot', this.config.scheduler.snapshotCron],
      ['import', this.config.scheduler.importCron],
      ['retention', this.config.scheduler.retentionCron],
      ['partitions', this.config.scheduler.partitionCron],
      ['alerts', this.config.alerts.cron],
      ['fingerprints', this.config.scheduler.fingerprintsCron],
      ['detectors', this.config.scheduler.detectorsCron],
      ['periodic', this.config.scheduler.periodicCron],
    ];
    for (const [name, cron] of timers) {
      const job = CronJob.from({
        cronTime: cron,
        onTick: () => void this.tick(name, new Date()),
        start: false,
      });
      this.registry.addCronJob(`stats-history.${name}`, job);
      job.start();
    }
    // history starts with what Sidekiq already has
    void this.tick('import', new Date());
    // today's events go to their own partition even after days without a running copy
    void this.tick('partitions', new Date());
  }

  /** Runs one tick now (the cron calls this; tests call it with their own clock). */
  async tick(name: TickName, now: Date): Promise<'ran' | 'skipped' | 'overlap' | 'failed'> {
    if (this.running.has(name)) {
      return 'overlap';
    }
    this.running.add(name);
    try {
      switch (name) {
        case 'snapshot':
          return (await this.history.takeSnapshot(now)).ran ? 'ran' : 'skipped';
        case 'import':
          return (await this.history.importDaily(now)).ran ? 'ran' : 'skipped';
        case 'partitions': {
          const made = await this.partitions.ensure(now, this.config.scheduler.partitionDaysAhead);
          if (made === null) {
            return 'skipped';
          }
          if (made.created.length > 0) {
            this.logger.log(
              `partitions: made job_events partitions for ${made.created.join(', ')}, ${made.moved} events moved out of the default partition`,
            );
          }
          return 'ran';
        }
        case 'alerts':
          return (await this.alerts.tick(now)).ran ? 'ran' : 'skipped';
        case 'fingerprints': {
          const result = await this.fingerprints.tick(now);
          if (result.findings.opened + result.findings.ended > 0) {
            this.logger.log(
              `fingerprints: ${result.failures} failures read, ${result.findings.opened} findings opened, ${result.findings.ended} ended`,
            );
          }
          return result.ran ? 'ran' : 'skipped';
        }
        case 'detectors': {
          const evaluation = await this.findings.evaluate(now);
          return evaluation === null ? 'skipped' : 'ran';
        }
        case 'periodic': {
          const check = await this.periodic.checkOverdue(now);
          if (!check.ran) {
            return 'skipped';
          }
          if (check.ended > 0 || check.unchecked.length > 0) {
            this.logger.log(
              `periodic: ${check.open.length} overdue, ${check.ended} no longer overdue${check.unchecked.length > 0 ? `, not checked: ${check.unchecked.join(', ')}` : ''}`,
            );
          }
          return 'ran';
        }
        case 'retention': {
          const expired = await this.partitions.dropExpired(now, this.config.retention.eventDays);
          if (expired && expired.dropped.length + expired.defaultDeleted > 0) {
            this.logger.log(
              `retention: job_events partitions dropped for ${expired.dropped.join(', ') || 'no day'}, ${expired.defaultDeleted} expired events deleted from the default partition`,
            );
          }
          const snapshots = await this.history.pruneSnapshots(now);
          const cutoff = new Date(now.getTime() - this.config.retention.jobDays * 86_400_000);
          const jobs = (await this.jobs.pruneOlderThan(cutoff, this.config.retention.batch)) ?? 0;
          const statuses = await this.statusData.pruneExpired(now);
          const audit = (await this.audit.prune(now)) ?? 0;
          const lives = await this.processLives.prune(
            new Date(now.getTime() - this.config.retention.processDays * 86_400_000),
            this.config.retention.batch,
          );
          if (snapshots + jobs + statuses + audit + lives > 0) {
            this.logger.log(
              `retention: ${snapshots} snapshots, ${jobs} jobs, the status data of ${statuses} finished jobs, ${audit} audit records and ${lives} ended process lives removed`,
            );
          }
          return 'ran';
        }
      }
    } catch (error) {
      this.logger.warn(`${name} tick failed, the next one retries: ${(error as Error).message}`);
      return 'failed';
    } finally {
      this.running.delete(name);
    }
  }
}
