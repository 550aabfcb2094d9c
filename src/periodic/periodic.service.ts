import { MikroORM } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { REDACTED_ARGS } from '../common/redaction/redactor.js';
import { DomainError } from '../common/errors/domain-error.js';
import { AppConfig } from '../config/app-config.js';
import { thresholdsFor } from '../config/detector-overrides.js';
import { tryAdvisoryXactLock } from '../database/advisory-locks.js';
import { type FindingDraft, recordFindings } from '../findings/finding-writer.js';
import { type ClassOutcomeRow, JobOutcomesService } from '../jobs/job-outcomes.service.js';
import {
  type CronDefinition,
  type CronStatus,
  SidekiqCronService,
} from '../sidekiq/cron/sidekiq-cron.service.js';
import {
  ARGS_PREVIEW_CHARS,
  type PeriodicEnqueuedDto,
  type PeriodicJobDto,
  type PeriodicPageDto,
} from './dto/periodic.dto.js';
import {
  cronVerdict,
  formatSeconds,
  type LearnedInterval,
  learnedMissed,
  learnInterval,
  PeriodicStatus,
} from './periodic-status.js';

// Outcomes read per class (newest first): the last success is looked for among them, so a class
// failing more often than this since its last success reads as "none among the last N runs"
const OUTCOME_WINDOW = 500;
// Learned intervals: classes read per check, outcomes read per class, successes kept per class
const LEARN_CLASS_LIMIT = 1000;
const LEARN_WINDOW = 200;

export interface OverdueCheck {
  readonly ran: boolean;
  readonly open: string[];
  readonly ended: number;
  /** instances whose Redis did not answer (their findings are left as they were) */
  readonly unchecked: string[];
}

const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

/** Periodic jobs: sidekiq-cron's definitions joined with the job history, and the overdue check. */
@Injectable()
export class PeriodicService {
  private readonly logger = new Logger(PeriodicService.name);

  constructor(
    private readonly cron: SidekiqCronService,
    private readonly outcomes: JobOutcomesService,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly orm: MikroORM,
  ) {}

  /** `sensitive`: the token may see the args as stored (else the redaction rules apply). */
  async list(
    instance: string | undefined,
    page = 1,
    perPage = 25,
    sensitive = false,
  ): Promise<PeriodicPageDto> {
    const result = await this.cron.page(instance, (page - 1) * perPage, perPage);
    const outcomes = await this.outcomesOf(result.instance, result.definitions);
    const now = this.clock.date();
    return {
      instance: result.instance,
      page,
      per_page: perPage,
      total: result.total,
      truncated: result.truncated,
      jobs: result.definitions.map((d) => this.toDto(d, outcomes.get(d.jobClass), now, sensitive)),
    };
  }

  async setStatus(
    instance: string | undefined,
    name: string,
    status: CronStatus,
    sensitive = false,
  ): Promise<PeriodicJobDto> {
    const { instance: resolved, definition: def } = await this.cron.setStatus(
      instance,
      name,
      status,
    );
    const outcomes = await this.outcomesOf(resolved, [def]);
    return this.toDto(def, outcomes.get(def.jobClass), this.clock.date(), sensitive);
  }

  async enqueue(instance: string | undefined, name: string): Promise<PeriodicEnqueuedDto> {
    const pushed = await this.cron.enqueue(instance, name, this.clock.date());
    return {
      name: pushed.name,
      jid: pushed.jid,
      queue: pushed.queue,
      last_enqueue_time: pushed.lastEnqueueTime.toISOString(),
    };
  }

  /**
   * The overdue check (scheduler tick, under the `periodic` advisory lock): a finding per enabled
   * sidekiq-cron job past PERIODIC_OVERDUE_INTERVALS of its scheduled times without a success, and
   * per class without a cron definition that usually succeeds at a regular interval and has not
   * for that many of them; the findings of jobs that are no longer overdue end.
   */
  async checkOverdue(now: Date): Promise<OverdueCheck> {
    return this.orm.em.fork().transactional(async (em) => {
      if (!(await tryAdvisoryXactLock(em, 'periodic'))) {
        return { ran: false, open: [], ended: 0, unchecked: [] };
      }
      const findings: FindingDraft[] = [];
      const unchecked: string[] = [];
      const cronClasses = new Map<string, Set<string>>();
      for (const instance of this.cron.instanceNames()) {
        let definitions: CronDefinition[];
        try {
          definitions = (await this.cron.all(instance)).definitions;
        } catch (error) {
          if (error instanceof DomainError && error.code.startsWith('SIDEKIQ_')) {
            this.logger.warn(`periodic: ${instance} not checked: ${error.message}`);
            unchecked.push(instance);
            continue;
          }
          throw error;
        }
        cronClasses.set(instance, new Set(definitions.map((d) => d.jobClass)));
        const outcomes = await this.outcomesOf(instance, definitions);
        for (const def of definitions) {
          const finding = this.cronFinding(instance, def, outcomes.get(def.jobClass), now);
          if (finding) {
            findings.push(finding);
          }
        }
      }
      findings.push(...(await this.learnedFindings(now, cronClasses, unchecked)));
      // an unreachable instance's cron jobs are unknown: its findings stay as they were
      const { ended } = await recordFindings(em, 'overdue', findings, now, {
        exceptInstances: unchecked,
      });
      return { ran: true, open: findings.map((f) => f.identity), ended, unchecked };
    });
  }

  private cronFinding(
    instance: string,
    def: CronDefinition,
    outcome: ClassOutcomeRow | undefined,
    now: Date,
  ): FindingDraft | null {
    const limit = this.overdueIntervals(def.jobClass);
    const verdict = cronVerdict(
      { cron: def.cron, enabled: def.status === 'enabled' },
      outcome,
      now,
      limit,
    );
    if (verdict.status !== PeriodicStatus.Overdue) {
      return null;
    }
    const missed = verdict.missedRuns!;
    const since = outcome?.lastSuccessAt
      ? `has not succeeded since ${iso(outcome.lastSuccessAt)}`
      : `has not succeeded in its last ${OUTCOME_WINDOW} runs or since ${iso(verdict.since)}`;
    return {
      identity: `overdue:${instance}:${def.name}`,
      instance,
      jobClass: def.jobClass,
      jid: null,
      severity: missed >= limit * 2 ? 'critical' : 'warning',
      summary: `Cron job "${def.name}" (${def.jobClass}, "${def.cron}") ${since}: ${missed >= limit * 2 ? `${missed} or more` : missed} scheduled runs went by (overdue after ${limit}${this.limitSource(def.jobClass) === 'override' ? ', its own limit' : ''})`,
      evidence: {
        source: 'sidekiq-cron',
        name: def.name,
        cron: def.cron,
        queue: def.queue,
        last_success_at: iso(outcome?.lastSuccessAt),
        last_run_at: iso(outcome?.lastRunAt),
        last_run_status: outcome?.lastRunStatus ?? null,
        last_enqueue_time: iso(def.lastEnqueueTime),
        missed_runs: missed,
        next_run: iso(verdict.nextRun),
        overdue_intervals: limit,
        limit_source: this.limitSource(def.jobClass),
      },
    };
  }

  private async learnedFindings(
    now: Date,
    cronClasses: Map<string, Set<string>>,
    unchecked: readonly string[],
  ): Promise<FindingDraft[]> {
    const minSuccesses = this.config.periodic.learnMinSuccesses;
    const rows = await this.outcomes.recentSuccesses(
      LEARN_WINDOW,
      minSuccesses * 2 + 1,
      LEARN_CLASS_LIMIT,
    );
    const findings: FindingDraft[] = [];
    for (const row of rows) {
      // a class with a cron definition is judged by its schedule; an unreachable instance's
      // definitions are unknown, so its classes wait for the next check
      if (unchecked.includes(row.instance) || cronClasses.get(row.instance)?.has(row.jobClass)) {
        continue;
      }
      const interval = learnInterval(row.times, minSuccesses);
      if (interval === null) {
        continue;
      }
      const missed = learnedMissed(interval, now);
      const limit = this.overdueIntervals(row.jobClass);
      if (missed >= limit) {
        findings.push(this.learnedFinding(row.instance, row.jobClass, interval, missed, limit));
      }
    }
    return findings;
  }

  private learnedFinding(
    instance: string,
    jobClass: string,
    interval: LearnedInterval,
    missed: number,
    limit: number,
  ): FindingDraft {
    return {
      identity: `overdue:${instance}:class:${jobClass}`,
      instance,
      jobClass,
      jid: null,
      severity: missed >= limit * 2 ? 'critical' : 'warning',
      summary: `${jobClass} usually succeeds every ${formatSeconds(interval.medianSeconds)} (median of its last ${interval.gaps} gaps) and has not since ${iso(interval.lastSuccessAt)}: ${missed} intervals went by (overdue after ${limit}${this.limitSource(jobClass) === 'override' ? ', its own limit' : ''})`,
      evidence: {
        source: 'learned',
        interval_seconds: interval.medianSeconds,
        gaps: interval.gaps,
        last_success_at: iso(interval.lastSuccessAt),
        missed_intervals: missed,
        overdue_intervals: limit,
        limit_source: this.limitSource(jobClass),
      },
    };
  }

  /** PERIODIC_OVERDUE_INTERVALS, or the class's own overdue_intervals (DETECTOR_OVERRIDES). */
  private overdueIntervals(jobClass: string): number {
    const { defaults, overrides } = this.config.detectors;
    return thresholdsFor(defaults, overrides, jobClass).overdueIntervals;
  }

  private limitSource(jobClass: string): 'override' | 'default' {
    return this.config.detectors.overrides.get(jobClass)?.overdueIntervals === undefined
      ? 'default'
      : 'override';
  }

  private outcomesOf(
    instance: string,
    definitions: readonly CronDefinition[],
  ): Promise<Map<string, ClassOutcomeRow>> {
    const classes = [...new Set(definitions.map((d) => d.jobClass))];
    return this.outcomes.classOutcomes(classes, instance, OUTCOME_WINDOW);
  }

  private toDto(
    def: CronDefinition,
    outcome: ClassOutcomeRow | undefined,
    now: Date,
    sensitive: boolean,
  ): PeriodicJobDto {
    const redactor = this.config.redactor;
    // the args Redis holds, as the Sidekiq routes show them (README "Redaction")
    const args = sensitive
      ? def.argsText
      : redactor.hidesClass(def.jobClass)
        ? REDACTED_ARGS
        : redactor.redactJsonText(def.argsText);
    const verdict = cronVerdict(
      { cron: def.cron, enabled: def.status === 'enabled' },
      outcome,
      now,
      this.overdueIntervals(def.jobClass),
    );
    return {
      name: def.name,
      cron: def.cron,
      class: def.jobClass,
      queue: def.queue,
      args: args.slice(0, ARGS_PREVIEW_CHARS),
      args_bytes: Buffer.byteLength(args),
      description: def.description,
      enabled: def.status === 'enabled',
      status: verdict.status,
      last_enqueue_time: iso(def.lastEnqueueTime),
      next_run: iso(verdict.nextRun),
      last_run_at: iso(outcome?.lastRunAt),
      last_run_status: outcome?.lastRunStatus ?? null,
      last_success_at: iso(outcome?.lastSuccessAt),
      missed_runs: verdict.missedRuns,
      schedule_error: verdict.scheduleError,
    };
  }
}
