import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { type DetectorThresholds, thresholdsFor } from '../../config/detector-overrides.js';
import { JobSignalsService, type WaitingJobRow } from '../../jobs/job-signals.service.js';
import { type HoldingsReport, SidekiqJobsService } from '../../sidekiq/sidekiq-jobs.service.js';
import type { Observation } from '../findings.repository.js';
import { type Detector, type DetectorResult, isUnknownInstance } from './detector.js';
import { at, span } from './format.js';

/** Which sorted set a waiting job came (or is to come) from. */
function dueFrom(job: WaitingJobRow): 'retry' | 'schedule' | null {
  if (job.status === 'retrying' || (job.status === 'queued' && job.attempt > 0)) {
    return 'retry';
  }
  return job.status === 'scheduled' || job.scheduled ? 'schedule' : null;
}

function waitingText(job: WaitingJobRow, waitingMs: number): string {
  if (job.status === 'retrying') {
    return `retry ${job.attempt + 1} (after the failure at ${at(job.failedAt ?? job.waitingSince)}) due from the retry set by ${at(job.waitingSince)}, ${span(waitingMs)} ago, and not started`;
  }
  if (job.status === 'scheduled') {
    return `due from the scheduled set ${span(waitingMs)} ago (scheduled for ${at(job.waitingSince)}) and not started`;
  }
  const from = dueFrom(job);
  const what =
    from === 'retry'
      ? `retry ${job.attempt} queued from the retry set`
      : from === 'schedule'
        ? 'queued from the scheduled set'
        : 'queued';
  return `${what} ${span(waitingMs)} ago and not started`;
}

/**
 * The finding a job waiting to start makes, from where Sidekiq holds it (`report`): lost between
 * push and fetch (or between its sorted set and its queue) when Sidekiq holds it nowhere, stalled
 * when it waits in a queue that has not moved for longer than the threshold, or in the scheduled
 * or retry set past its time. Null while it is on its way, or while nothing says where it is.
 */
export function neverStartedVerdict(
  job: WaitingJobRow,
  report: HoldingsReport,
  t: DetectorThresholds,
  now: Date,
): Observation | null {
  const waitingMs = now.getTime() - job.waitingSince.getTime();
  const limitMs = t.neverStartedSeconds * 1000;
  if (waitingMs <= limitMs) {
    return null;
  }
  const waiting = waitingText(job, waitingMs);
  const base = {
    detector: 'never_started' as const,
    identity: `never_started:${job.instance}:${job.jid}`,
    instance: job.instance,
    jobClass: job.jobClass,
    jid: job.jid,
  };
  const evidence = {
    status: job.status,
    due_from: dueFrom(job),
    attempt: job.attempt,
    waiting_since: job.waitingSince.toISOString(),
    waiting_ms: waitingMs,
    limit_ms: limitMs,
    queue: job.queue,
    ...(job.failedAt ? { failed_at: job.failedAt.toISOString() } : {}),
  };
  const holding = report.held.get(job.jid);
  const queue = job.queue === null ? undefined : report.queues.get(job.queue);
  if (holding?.where === 'working') {
    // it runs: its start was not reported, which is not this detector's finding
    return null;
  }
  if (holding?.where === 'retry' || holding?.where === 'scheduled') {
    // its entry's score is the time it falls due (Sidekiq: epoch seconds, float)
    const dueMs = now.getTime() - holding.score * 1000;
    if (dueMs <= limitMs) {
      return null;
    }
    const set = holding.where === 'retry' ? 'retry set' : 'scheduled set';
    const prefix =
      job.status === 'retrying'
        ? `retry ${job.attempt + 1} (after the failure at ${at(job.failedAt ?? job.waitingSince)}) due from the retry set ${span(dueMs)} ago and not started`
        : waiting;
    return {
      ...base,
      severity: 'warning',
      summary: `${prefix}; still in Sidekiq's ${set} ${span(dueMs)} after its time (due at ${at(new Date(holding.score * 1000))}): nothing moves due jobs to their queue (is any Sidekiq process running its scheduler?)`,
      evidence: {
        ...evidence,
        held: holding.where,
        [holding.where === 'retry' ? 'retry_score' : 'scheduled_score']: holding.score,
        due_at: new Date(holding.score * 1000).toISOString(),
        due_ms: dueMs,
      },
    };
  }
  const unreadQueue = job.queue !== null && report.unread.includes(`queue:${job.queue}`);
  if (holding?.where === 'queue' || unreadQueue) {
    const latencyMs = (queue?.latency ?? 0) * 1000;
    if (latencyMs <= limitMs) {
      return null;
    }
    return {
      ...base,
      severity: 'warning',
      summary: `${waiting}; still in queue ${job.queue}, which has not moved for ${span(latencyMs)} (${queue?.size ?? 0} jobs waiting)`,
      evidence: {
        ...evidence,
        held: 'queue',
        // a long queue is read only so far: the job was not seen, but waits behind older ones
        confirmed: holding?.where === 'queue',
        queue_size: queue?.size ?? 0,
        queue_latency_s: queue?.latency ?? 0,
      },
    };
  }
  if (job.status === 'retrying' && report.unread.includes('retry')) {
    // a retry set too large to read within the bound: its entry may be there, due later (a class
    // with its own sidekiq_retry_in); nothing is said on no evidence
    return null;
  }
  const lost =
    job.status === 'retrying'
      ? "it left the retry set but reached no queue: lost between Sidekiq's retry poller and its queue"
      : job.status === 'scheduled'
        ? "it left the scheduled set but reached no queue: lost between Sidekiq's scheduler and its queue"
        : 'lost between push and fetch';
  return {
    ...base,
    severity: 'critical',
    summary: `${waiting}; Sidekiq holds it in no queue, set or worker: ${lost}`,
    evidence: {
      ...evidence,
      held: 'nowhere',
      queue_size: queue?.size ?? null,
      // sets too large to read whole within the bound: it could be there unseen
      unread: report.unread,
    },
  };
}

// waiting jobs judged per evaluation (queued and scheduled; retries due, apart: a retry set of
// thousands must not crowd out the queues), and entries of each queue or set read looking for them
const MAX_WAITING = 1000;
const MAX_RETRIES_DUE = 500;
const READ_BUDGET = 10_000;

/** Jobs enqueued (or due) longer than their threshold ago and not started. */
@Injectable()
export class NeverStartedDetector implements Detector {
  readonly name = 'never_started' as const;
  private readonly logger = new Logger(NeverStartedDetector.name);

  constructor(
    private readonly signals: JobSignalsService,
    private readonly sidekiq: SidekiqJobsService,
    private readonly config: AppConfig,
  ) {}

  async evaluate(now: Date): Promise<DetectorResult> {
    const { defaults, overrides } = this.config.detectors;
    const shortest = Math.min(
      defaults.neverStartedSeconds,
      ...[...overrides.values()].map((o) => o.neverStartedSeconds ?? Infinity),
    );
    const before = new Date(now.getTime() - shortest * 1000);
    const queued = await this.signals.waitingSince(before, MAX_WAITING);
    const retries = await this.signals.retriesDueBefore(before, MAX_RETRIES_DUE);
    const waiting = [...queued, ...retries].filter(
      (job) =>
        now.getTime() - job.waitingSince.getTime() >
        thresholdsFor(defaults, overrides, job.jobClass).neverStartedSeconds * 1000,
    );
    let complete = queued.length < MAX_WAITING && retries.length < MAX_RETRIES_DUE;
    const observations: Observation[] = [];
    for (const instance of new Set(waiting.map((j) => j.instance))) {
      const jobs = waiting.filter((j) => j.instance === instance);
      let report: HoldingsReport;
      try {
        report = await this.sidekiq.holdings(
          instance,
          jobs.map((j) => ({
            jid: j.jid,
            queue: j.queue,
            // a retry with its own sidekiq_retry_in may have reached its queue at any time since
            since: (j.status === 'retrying' ? now : j.waitingSince).getTime() / 1000,
          })),
          READ_BUDGET,
        );
      } catch (error) {
        if (isUnknownInstance(error)) {
          continue;
        }
        this.logger.warn(
          `never_started: Sidekiq's Redis "${instance}" is out of reach, its waiting jobs not judged: ${(error as Error).message}`,
        );
        complete = false;
        continue;
      }
      if (report.unread.includes('retry') && jobs.some((j) => j.status === 'retrying')) {
        complete = false;
      }
      for (const job of jobs) {
        const verdict = neverStartedVerdict(
          job,
          report,
          thresholdsFor(defaults, overrides, job.jobClass),
          now,
        );
        if (verdict) {
          observations.push(verdict);
        }
      }
    }
    return { detector: this.name, observations, complete };
  }
}
