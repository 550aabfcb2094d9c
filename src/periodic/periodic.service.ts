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
  type SchedulerDefinition,
  SidekiqSchedulerService,
} from '../sidekiq/scheduler/sidekiq-scheduler.service.js';
import { parseRufusDuration } from '../sidekiq/scheduler/scheduler-definition.js';
import {
  ARGS_PREVIEW_CHARS,
  type PeriodicEnqueuedDto,
  type PeriodicJobDto,
  type PeriodicPageDto,
  type PeriodicSource,
} from './dto/periodic.dto.js';
import {
  cronVerdict,
  type CronVerdict,
  formatSeconds,
  intervalVerdict,
  type LearnedInterval,
  learnedMissed,
  learnInterval,
  onceVerdict,
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

/** A periodic job of either gem. */
type Periodic =
  | { readonly source: 'sidekiq-cron'; readonly def: CronDefinition }
  | { readonly source: 'sidekiq-scheduler'; readonly def: SchedulerDefinition };

const fromCron = (def: CronDefinition): Periodic => ({ source: 'sidekiq-cron', def });
const fromScheduler = (def: SchedulerDefinition): Periodic => ({
  source: 'sidekiq-scheduler',
  def,
});

/**
 * Periodic jobs: sidekiq-cron's definitions and sidekiq-scheduler's schedules joined with the job
 * history, and the overdue check.
 */
@Injectable()
export class PeriodicService {
  private readonly logger = new Logger(PeriodicService.name);

  constructor(
    private readonly cron: SidekiqCronService,
    private readonly scheduler: SidekiqSchedulerService,
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
    // sidekiq-cron's jobs first, then sidekiq-scheduler's: one page may hold the end of the one
    // and the start of the other
    const offset = (page - 1) * perPage;
    const cron = await this.cron.page(instance, offset, perPage);
    const cronShown = Math.max(0, Math.min(perPage, cron.total - offset));
    const scheduler = await this.scheduler.page(
      cron.instance,
      Math.max(0, offset - cron.total),
      perPage - cronShown,
    );
    const jobs = [...cron.definitions.map(fromCron), ...scheduler.definitions.map(fromScheduler)];
    const outcomes = await this.outcomesOf(cron.instance, jobs);
    const now = this.clock.date();
    return {
      instance: cron.instance,
      page,
      per_page: perPage,
      total: cron.total + scheduler.total,
      truncated: cron.truncated || scheduler.truncated,
      jobs: jobs.map((j) => this.toDto(j, outcomes.get(j.def.jobClass), now, sensitive)),
    };
  }

  /**
   * The gem a name belongs to: `source` when given, else the one that has a job of that name
   * (404 when neither does, 409 when both do).
   */
  private async sourceOf(
    instance: string | undefined,
    name: string,
    source: PeriodicSource | undefined,
  ): Promise<PeriodicSource> {
    // read-only mode refuses before the name is looked up, whichever gem has it
    this.scheduler.assertWritable(instance);
    if (source !== undefined) {
      return source;
    }
    const [inCron, inScheduler] = await Promise.all([
      this.cron.has(instance, name),
      this.scheduler.has(instance, name),
    ]);
    if (!inCron && !inScheduler) {
      throw new DomainError(
        'PERIODIC_JOB_NOT_FOUND',
        `Neither sidekiq-cron nor sidekiq-scheduler has a job "${name}"`,
        { field: 'name' },
      );
    }
    if (inCron && inScheduler) {
      throw new DomainError(
        'CONFLICT',
        `Both sidekiq-cron and sidekiq-scheduler have a job "${name}": say which with ?source=`,
        { field: 'source', name },
      );
    }
    return inScheduler ? 'sidekiq-scheduler' : 'sidekiq-cron';
  }

  async setStatus(
    instance: string | undefined,
    name: string,
    status: CronStatus,
    sensitive = false,
    source?: PeriodicSource,
  ): Promise<PeriodicJobDto> {
    let resolved: string;
    let job: Periodic;
    if ((await this.sourceOf(instance, name, source)) === 'sidekiq-scheduler') {
      const set = await this.scheduler.setEnabled(instance, name, status === 'enabled');
      resolved = set.instance;
      job = fromScheduler(set.definition);
    } else {
      const set = await this.cron.setStatus(instance, name, status);
      resolved = set.instance;
      job = fromCron(set.definition);
    }
    const outcomes = await this.outcomesOf(resolved, [job]);
    return this.toDto(job, outcomes.get(job.def.jobClass), this.clock.date(), sensitive);
  }

  async enqueue(
    instance: string | undefined,
    name: string,
    source?: PeriodicSource,
  ): Promise<PeriodicEnqueuedDto> {
    if ((await this.sourceOf(instance, name, source)) === 'sidekiq-scheduler') {
      const pushed = await this.scheduler.enqueue(instance, name, this.clock.date());
      return {
        source: 'sidekiq-scheduler',
        name: pushed.name,
        jid: pushed.jid,
        queue: pushed.queue,
        last_enqueue_time: pushed.enqueuedAt.toISOString(),
      };
    }
    const pushed = await this.cron.enqueue(instance, name, this.clock.date());
    return {
      source: 'sidekiq-cron',
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
        let definitions: Periodic[];
        try {
          definitions = [
            ...(await this.cron.all(instance)).definitions.map(fromCron),
            ...(await this.scheduler.all(instance)).definitions.map(fromScheduler),
          ];
        } catch (error) {
          if (error instanceof DomainError && error.code.startsWith('SIDEKIQ_')) {
            this.logger.warn(`periodic: ${instance} not checked: ${error.message}`);
            unchecked.push(instance);
            continue;
          }
          throw error;
        }
        cronClasses.set(instance, new Set(definitions.map((d) => d.def.jobClass)));
        const outcomes = await this.outcomesOf(instance, definitions);
        for (const job of definitions) {
          const finding =
            job.source === 'sidekiq-cron'
              ? this.cronFinding(instance, job.def, outcomes.get(job.def.jobClass), now)
              : this.schedulerFinding(instance, job.def, outcomes.get(job.def.jobClass), now);
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
    const o = this.overdue(outcome, verdict, limit, def.jobClass);
    return {
      identity: `overdue:${instance}:${def.name}`,
      instance,
      jobClass: def.jobClass,
      jid: null,
      severity: o.severity,
      summary: `Cron job "${def.name}" (${def.jobClass}, "${def.cron}") ${o.since}: ${o.missed} scheduled runs went by ${o.limit}`,
      evidence: {
        source: 'sidekiq-cron',
        name: def.name,
        cron: def.cron,
        queue: def.queue,
        ...o.lastRun,
        last_enqueue_time: iso(def.lastEnqueueTime),
        ...o.counts,
      },
    };
  }

  private schedulerFinding(
    instance: string,
    def: SchedulerDefinition,
    outcome: ClassOutcomeRow | undefined,
    now: Date,
  ): FindingDraft | null {
    const limit = this.overdueIntervals(def.jobClass);
    const verdict = this.schedulerVerdict(def, outcome, now, limit);
    if (verdict.status !== PeriodicStatus.Overdue) {
      return null;
    }
    const o = this.overdue(outcome, verdict, limit, def.jobClass);
    const runs = def.scheduleType === 'cron' ? 'scheduled runs' : 'intervals';
    return {
      identity: `overdue:${instance}:sidekiq-scheduler:${def.name}`,
      instance,
      jobClass: def.jobClass,
      jid: null,
      severity: o.severity,
      summary: `sidekiq-scheduler job "${def.name}" (${def.jobClass}, ${def.scheduleType} "${def.schedule}") ${o.since}: ${o.missed} ${runs} went by ${o.limit}`,
      evidence: {
        source: 'sidekiq-scheduler',
        name: def.name,
        schedule_type: def.scheduleType,
        schedule: def.schedule,
        queue: def.queue,
        ...o.lastRun,
        last_time: iso(def.lastTime),
        ...o.counts,
      },
    };
  }

  /** What an overdue schedule's finding says whichever gem defines it (sidekiq-cron, sidekiq-scheduler). */
  private overdue(
    outcome: ClassOutcomeRow | undefined,
    verdict: { missedRuns?: number | null; since?: Date | null; nextRun?: Date | null },
    limit: number,
    jobClass: string,
  ) {
    const missed = verdict.missedRuns!;
    const critical = missed >= limit * 2;
    const source = this.limitSource(jobClass);
    return {
      since: outcome?.lastSuccessAt
        ? `has not succeeded since ${iso(outcome.lastSuccessAt)}`
        : `has not succeeded in its last ${OUTCOME_WINDOW} runs or since ${iso(verdict.since)}`,
      severity: critical ? ('critical' as const) : ('warning' as const),
      missed: critical ? `${missed} or more` : String(missed),
      limit: `(overdue after ${limit}${source === 'override' ? ', its own limit' : ''})`,
      lastRun: {
        last_success_at: iso(outcome?.lastSuccessAt),
        last_run_at: iso(outcome?.lastRunAt),
        last_run_status: outcome?.lastRunStatus ?? null,
      },
      counts: {
        missed_runs: missed,
        next_run: iso(verdict.nextRun),
        overdue_intervals: limit,
        limit_source: source,
      },
    };
  }

  /**
   * A sidekiq-scheduler schedule's status: a `cron` one as a sidekiq-cron job (its next run the
   * one the scheduler wrote when there is one), `every`/`interval` by whole intervals since the
   * last success, `at`/`in` (once) never overdue.
   */
  private schedulerVerdict(
    def: SchedulerDefinition,
    outcome: ClassOutcomeRow | undefined,
    now: Date,
    limit: number,
  ): CronVerdict {
    switch (def.scheduleType) {
      case 'cron': {
        // rufus-scheduler reads a cron without a zone in the scheduler process's local time
        const verdict = cronVerdict(
          { cron: def.schedule ?? '', enabled: def.enabled, timeZone: def.processZone ?? 'UTC' },
          outcome,
          now,
          limit,
        );
        return { ...verdict, nextRun: def.nextTime ?? verdict.nextRun };
      }
      case 'every':
      case 'interval':
        return intervalVerdict(
          {
            intervalSeconds: def.schedule === null ? null : parseRufusDuration(def.schedule),
            enabled: def.enabled,
            nextTime: def.nextTime,
            lastTime: def.lastTime,
            schedule: def.schedule ?? '',
          },
          outcome,
          now,
          limit,
        );
      case 'at':
      case 'in':
      case null:
        return onceVerdict({ enabled: def.enabled, nextTime: def.nextTime }, outcome);
    }
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
    jobs: readonly Periodic[],
  ): Promise<Map<string, ClassOutcomeRow>> {
    const classes = [...new Set(jobs.map((j) => j.def.jobClass))];
    return this.outcomes.classOutcomes(classes, instance, OUTCOME_WINDOW);
  }

  private toDto(
    job: Periodic,
    outcome: ClassOutcomeRow | undefined,
    now: Date,
    sensitive: boolean,
  ): PeriodicJobDto {
    return job.source === 'sidekiq-cron'
      ? this.cronDto(job.def, outcome, now, sensitive)
      : this.schedulerDto(job.def, outcome, now, sensitive);
  }

  /** The args Redis holds, as the Sidekiq routes show them (README "Redaction"). */
  private shownArgs(jobClass: string, argsText: string, sensitive: boolean): string {
    const redactor = this.config.redactor;
    return sensitive
      ? argsText
      : redactor.hidesClass(jobClass)
        ? REDACTED_ARGS
        : redactor.redactJsonText(argsText);
  }

  private schedulerDto(
    def: SchedulerDefinition,
    outcome: ClassOutcomeRow | undefined,
    now: Date,
    sensitive: boolean,
  ): PeriodicJobDto {
    const args = this.shownArgs(def.jobClass, def.argsText, sensitive);
    const verdict = this.schedulerVerdict(def, outcome, now, this.overdueIntervals(def.jobClass));
    return {
      source: 'sidekiq-scheduler',
      name: def.name,
      schedule_type: def.scheduleType,
      schedule: def.schedule,
      cron: def.scheduleType === 'cron' ? def.schedule : null,
      class: def.jobClass,
      queue: def.queue,
      args: args.slice(0, ARGS_PREVIEW_CHARS),
      args_bytes: Buffer.byteLength(args),
      description: def.description,
      enabled: def.enabled,
      status: verdict.status,
      last_enqueue_time: iso(def.lastTime),
      next_run: iso(verdict.nextRun),
      last_run_at: iso(outcome?.lastRunAt),
      last_run_status: outcome?.lastRunStatus ?? null,
      last_success_at: iso(outcome?.lastSuccessAt),
      missed_runs: verdict.missedRuns,
      schedule_error: verdict.scheduleError,
    };
  }

  private cronDto(
    def: CronDefinition,
    outcome: ClassOutcomeRow | undefined,
    now: Date,
    sensitive: boolean,
  ): PeriodicJobDto {
    const args = this.shownArgs(def.jobClass, def.argsText, sensitive);
    const verdict = cronVerdict(
      { cron: def.cron, enabled: def.status === 'enabled' },
      outcome,
      now,
      this.overdueIntervals(def.jobClass),
    );
    return {
      source: 'sidekiq-cron',
      name: def.name,
      schedule_type: 'cron',
      schedule: def.cron,
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
