import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { type DetectorThresholds, thresholdsFor } from '../../config/detector-overrides.js';
import { JobSignalsService, type RunningJobRow } from '../../jobs/job-signals.service.js';
import { judgeRun, processEvidence, type RunVerdict } from '../../jobs/processes/lost-rule.js';
import { ProcessLivesService } from '../../jobs/processes/process-lives.service.js';
import { ProcessesService } from '../../sidekiq/processes/processes.service.js';
import { type HoldingsReport, SidekiqJobsService } from '../../sidekiq/sidekiq-jobs.service.js';
import { WorkersService } from '../../sidekiq/workers/workers.service.js';
import type { Observation } from '../findings.repository.js';
import {
  type Detector,
  type DetectorResult,
  isUnknownInstance,
  type ProcessWorld,
} from './detector.js';
import { count, span, worker } from './format.js';

/** A class's recent successful runs: how many, and their p99 (null: none). */
export interface Baseline {
  samples: number;
  p99Ms: number | null;
}

/** The run time past which a job of the class is stuck, and where it comes from. */
export interface Limit {
  ms: number;
  source: 'p99' | 'floor' | 'default';
}

/**
 * p99 of the class's recent runs, but never under the floor (a class of 2 ms jobs is not stuck at
 * 3 ms: a slow database moment is not an incident); while the class has too few runs for a p99 to
 * mean anything, the default limit.
 */
export function runLimit(baseline: Baseline, t: DetectorThresholds): Limit {
  if (baseline.samples < t.stuckMinSamples || baseline.p99Ms === null) {
    return { ms: t.stuckDefaultSeconds * 1000, source: 'default' };
  }
  const floor = t.stuckFloorSeconds * 1000;
  return baseline.p99Ms >= floor
    ? { ms: baseline.p99Ms, source: 'p99' }
    : { ms: floor, source: 'floor' };
}

/** JobManager's lost rule (lost-rule.ts); null when the processes are unknown. */
export function processVerdict(job: RunningJobRow, world: ProcessWorld | null): RunVerdict | null {
  if (world === null || job.hostname === null || job.pid === null) {
    return null;
  }
  return judgeRun(job, world);
}

/** 'gone' when the job's process is over and no live worker runs it (JobManager's lost). */
export function processState(
  job: RunningJobRow,
  world: ProcessWorld | null,
): 'alive' | 'gone' | 'unknown' {
  const verdict = processVerdict(job, world);
  return verdict === null ? 'unknown' : verdict.lost ? 'gone' : 'alive';
}

function baselineWords(baseline: Baseline, limit: Limit, t: DetectorThresholds): string {
  if (limit.source === 'default') {
    return `only ${count(baseline.samples)} recent successful runs of this class to learn from (fewer than ${count(t.stuckMinSamples)}), so the default limit of ${span(limit.ms)} applies`;
  }
  const usual = `this class usually finishes within ${span(baseline.p99Ms!)} (p99 of ${count(baseline.samples)} runs)`;
  return limit.source === 'floor'
    ? `${usual}; no job is called stuck before ${span(limit.ms)}`
    : usual;
}

/** The finding a running job makes, or null while it is within its class's limit and alive. */
export function stuckVerdict(
  job: RunningJobRow,
  baseline: Baseline,
  t: DetectorThresholds,
  world: ProcessWorld | null,
  now: Date,
): Observation | null {
  const limit = runLimit(baseline, t);
  const runningMs = job.startedAt === null ? null : now.getTime() - job.startedAt.getTime();
  const over = runningMs !== null && runningMs > limit.ms;
  const verdict = processVerdict(job, world);
  const process = verdict === null ? 'unknown' : verdict.lost ? 'gone' : 'alive';
  if (!over && process !== 'gone') {
    return null;
  }
  const running =
    runningMs === null ? 'running since an unknown time' : `running ${span(runningMs)}`;
  const parts = !verdict?.lost
    ? [running]
    : verdict.basis === 'gone'
      ? [
          `${running} on ${worker(job.hostname, job.pid)}, a process that is gone (no heartbeat in Sidekiq's processes, and no live worker runs it)`,
        ]
      : [
          `${running} on ${worker(job.hostname, job.pid)}, a process that is over: ${verdict.reason}`,
        ];
  if (over) {
    parts.push(baselineWords(baseline, limit, t));
  }
  return {
    detector: 'stuck',
    identity: `stuck:${job.instance}:${job.jid}`,
    instance: job.instance,
    jobClass: job.jobClass,
    jid: job.jid,
    severity: process === 'gone' ? 'critical' : 'warning',
    summary: parts.join('; '),
    evidence: {
      reason: process === 'gone' ? 'process gone' : 'running past its class limit',
      ...(verdict?.lost && verdict.basis !== 'gone'
        ? { process_identity: verdict.identity, process_end: verdict.basis }
        : {}),
      started_at: job.startedAt?.toISOString() ?? null,
      running_ms: runningMs,
      limit_ms: limit.ms,
      limit_source: limit.source,
      baseline: { p99_ms: baseline.p99Ms, samples: baseline.samples },
      queue: job.queue,
      hostname: job.hostname,
      pid: job.pid,
      process,
    },
  };
}

// running jobs read per evaluation: Sidekiq runs at most its processes' threads at once, so more
// than this means jobs left running by lost processes piled up (each one stays a finding)
const MAX_RUNNING = 10_000;
// entries of each queue and set read to tell requeued jobs apart (as never_started reads)
const READ_BUDGET = 10_000;

/** Jobs running longer than their class usually takes, and jobs whose process is gone. */
@Injectable()
export class StuckDetector implements Detector {
  readonly name = 'stuck' as const;
  private readonly logger = new Logger(StuckDetector.name);
  private readonly baselineCache = new Map<string, { at: number; baseline: Baseline }>();

  constructor(
    private readonly signals: JobSignalsService,
    private readonly processes: ProcessesService,
    private readonly workers: WorkersService,
    private readonly processLives: ProcessLivesService,
    private readonly sidekiq: SidekiqJobsService,
    private readonly config: AppConfig,
  ) {}

  async evaluate(now: Date): Promise<DetectorResult> {
    const settings = this.config.detectors;
    const running = await this.signals.running(MAX_RUNNING);
    let complete = running.length < MAX_RUNNING;
    const classes = new Map<string, { instance: string; jobClass: string }>();
    for (const job of running) {
      if (job.jobClass !== null) {
        classes.set(`${job.instance}\u0000${job.jobClass}`, {
          instance: job.instance,
          jobClass: job.jobClass,
        });
      }
    }
    const baselines = await this.baselines([...classes.values()], now);
    const worlds = new Map<string, ProcessWorld | null>();
    for (const instance of new Set(running.map((j) => j.instance))) {
      const world = await this.world(instance);
      complete &&= world !== 'unreachable';
      worlds.set(instance, world === 'unreachable' || world === 'unknown' ? null : world);
    }
    const observations: Observation[] = [];
    const gone: RunningJobRow[] = [];
    for (const job of running) {
      const verdict = stuckVerdict(
        job,
        baselines.get(`${job.instance}\u0000${job.jobClass}`) ?? { samples: 0, p99Ms: null },
        thresholdsFor(settings.defaults, settings.overrides, job.jobClass),
        worlds.get(job.instance) ?? null,
        now,
      );
      if (verdict) {
        observations.push(verdict);
        if (verdict.severity === 'critical') {
          gone.push(job);
        }
      }
    }
    const { held, read } = await this.heldAgain(gone);
    complete &&= read;
    return {
      detector: this.name,
      observations: observations.filter((o) => !held.has(`${o.instance}\u0000${o.jid}`)),
      complete,
    };
  }

  /**
   * Of the jobs whose process is gone, those Sidekiq holds again (on shutdown it pushes the jobs
   * in progress back to their queue; JobManager's lost_jobs leaves them out too): waiting to run,
   * not stuck. Each queue read from its oldest end, at most READ_BUDGET entries; a queue not read
   * to its end counts as holding them.
   */
  private async heldAgain(jobs: RunningJobRow[]): Promise<{ held: Set<string>; read: boolean }> {
    const held = new Set<string>();
    let read = true;
    for (const instance of new Set(jobs.map((j) => j.instance))) {
      const list = jobs.filter((j) => j.instance === instance);
      let report: HoldingsReport | null;
      try {
        report = await this.sidekiq.holdingsIfKnown(
          instance,
          list.map((j) => ({
            jid: j.jid,
            queue: j.queue,
            since: (j.startedAt?.getTime() ?? 0) / 1000,
          })),
          READ_BUDGET,
        );
      } catch (error) {
        this.logger.warn(
          `stuck: Sidekiq's Redis "${instance}" is out of reach, requeued jobs not told apart: ${(error as Error).message}`,
        );
        read = false;
        continue;
      }
      for (const job of list) {
        const where = report?.held.get(job.jid)?.where;
        if (
          (where !== undefined && where !== 'working') ||
          report?.unread.includes(`queue:${job.queue}`)
        ) {
          held.add(`${instance}\u0000${job.jid}`);
        }
      }
    }
    return { held, read };
  }

  /**
   * The baselines of `classes`: each class's read again once DETECTOR_STUCK_BASELINE_TTL_S has
   * passed since it was read (the p99 of thousands of runs over days moves slowly, and reading it
   * is most of an evaluation's work), so an evaluation reads those of new and expired classes only.
   */
  private async baselines(
    classes: { instance: string; jobClass: string }[],
    now: Date,
  ): Promise<Map<string, Baseline>> {
    const settings = this.config.detectors;
    const ttlMs = settings.baselineTtlSeconds * 1000;
    const key = (c: { instance: string; jobClass: string }) => `${c.instance}\u0000${c.jobClass}`;
    const fresh = (at: number) => ttlMs > 0 && now.getTime() >= at && now.getTime() - at < ttlMs;
    const stale = classes.filter((c) => {
      const kept = this.baselineCache.get(key(c));
      return kept === undefined || !fresh(kept.at);
    });
    if (stale.length > 0) {
      const since = new Date(now.getTime() - settings.baselineDays * 86_400_000);
      const read = new Map<string, Baseline>();
      for (const row of await this.signals.runBaselines(stale, since, settings.sampleRuns)) {
        read.set(key(row), { samples: row.samples, p99Ms: row.p99Ms });
      }
      for (const c of stale) {
        this.baselineCache.set(key(c), {
          at: now.getTime(),
          baseline: read.get(key(c)) ?? { samples: 0, p99Ms: null },
        });
      }
    }
    // only the classes running now are kept: the cache is bounded by the running jobs' classes
    const wanted = new Set(classes.map(key));
    for (const k of this.baselineCache.keys()) {
      if (!wanted.has(k)) {
        this.baselineCache.delete(k);
      }
    }
    return new Map(classes.map((c) => [key(c), this.baselineCache.get(key(c))!.baseline]));
  }

  /** The instance's live processes and busy jids, if they can be read. */
  private async world(instance: string): Promise<ProcessWorld | 'unreachable' | 'unknown'> {
    try {
      const [processes, workers, lives] = await Promise.all([
        this.processes.list(instance),
        this.workers.list(instance),
        this.processLives.lives(instance),
      ]);
      return processEvidence(processes, workers, lives, this.processLives.silentBefore(new Date()));
    } catch (error) {
      if (isUnknownInstance(error)) {
        return 'unknown';
      }
      this.logger.warn(
        `stuck: the processes of ${instance} are out of reach, lost jobs not judged: ${(error as Error).message}`,
      );
      return 'unreachable';
    }
  }
}
