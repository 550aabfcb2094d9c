import { MikroORM } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';
import { DomainError } from '../common/errors/domain-error.js';
import { AppConfig } from '../config/app-config.js';
import { tryAdvisoryXactLock } from '../database/advisory-locks.js';
import { INSTANCE_LABEL, MetricsRegistry } from '../metrics/metrics-registry.js';
import type { Detector } from './detectors/detector.js';
import { DuplicateDetector } from './detectors/duplicate.detector.js';
import { NeverStartedDetector } from './detectors/never-started.detector.js';
import { StuckDetector } from './detectors/stuck.detector.js';
import { Finding, FINDING_DETECTORS } from './finding.entity.js';
import { recordFindings, type RecordResult } from './finding-writer.js';
import { type FindingQuery, type FindingRow } from './findings.repository.js';

export type { FindingQuery, FindingRow, FindingState } from './findings.repository.js';

/** One evaluation: per detector what changed, or why it did not run. */
export type Evaluation = Record<string, RecordResult | { failed: string }>;

/**
 * The findings: every detector evaluated on the scheduler's tick, their findings opened, refreshed
 * and ended here, and read by REST (and by the alerts, through this service).
 */
@Injectable()
export class FindingsService {
  private readonly logger = new Logger(FindingsService.name);
  private readonly detectors: Detector[];

  constructor(
    private readonly orm: MikroORM,
    private readonly metrics: MetricsRegistry,
    private readonly config: AppConfig,
    stuck: StuckDetector,
    neverStarted: NeverStartedDetector,
    duplicate: DuplicateDetector,
  ) {
    this.detectors = [stuck, neverStarted, duplicate];
  }

  /**
   * Runs every detector once, on the one copy of the service that gets the detectors' lock (null
   * on the others), and records what each saw. A detector that fails leaves its findings as they
   * were; the others go on.
   */
  async evaluate(now: Date): Promise<Evaluation | null> {
    const result = await this.orm.em.fork().transactional(async (em) => {
      if (!(await tryAdvisoryXactLock(em, 'detectors'))) {
        return null;
      }
      const evaluation: Evaluation = {};
      for (const detector of this.detectors) {
        try {
          // a savepoint each: a detector whose writes fail leaves the others' standing
          evaluation[detector.name] = await em.transactional(async (inner) => {
            const open = await inner.getRepository(Finding).open(detector.name);
            const seen = await detector.evaluate(now, open);
            return recordFindings(
              inner,
              detector.name,
              seen.observations,
              now,
              seen.complete ? 'all' : 'none',
            );
          });
        } catch (error) {
          this.logger.warn(`detector ${detector.name} failed: ${(error as Error).message}`);
          evaluation[detector.name] = { failed: (error as Error).message };
        }
      }
      return evaluation;
    });
    await this.refreshGauge();
    return result;
  }

  /** sidekiq_supervisor_findings_open from the table: every copy serves the same numbers. */
  async refreshGauge(): Promise<void> {
    const counts = await this.orm.em.fork().getRepository(Finding).openCounts();
    const gauge = this.metrics.findingsOpen;
    gauge.reset();
    // a zero for each detector and instance, so that an alert rule tells "none" from "no data"
    for (const detector of FINDING_DETECTORS) {
      for (const instance of this.config.sidekiqInstances) {
        gauge.set({ detector, [INSTANCE_LABEL]: instance.name }, 0);
      }
    }
    for (const c of counts) {
      gauge.set({ detector: c.detector, [INSTANCE_LABEL]: c.instance }, c.open);
    }
  }

  list(query: FindingQuery): Promise<{ rows: FindingRow[]; more: boolean }> {
    return this.orm.em.fork().getRepository(Finding).list(query);
  }

  async get(id: string): Promise<FindingRow> {
    const row = /^\d{1,18}$/.test(id)
      ? await this.orm.em.fork().getRepository(Finding).byId(id)
      : null;
    if (row === null) {
      throw new DomainError('NOT_FOUND', `No finding ${id}`);
    }
    return row;
  }
}
