import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { type DetectorThresholds, thresholdsFor } from '../../config/detector-overrides.js';
import { JobSignalsService, type WaitingJobRow } from '../../jobs/job-signals.service.js';
import { type HoldingsReport, SidekiqJobsService } from '../../sidekiq/sidekiq-jobs.service.js';
import type { Observation } from '../findings.repository.js';
import { type Detector, type DetectorResult, isUnknownInstance } from './detector.js';
import { at, span } from './format.js';

/**
 * The finding a job waiting to start makes, from where Sidekiq holds it (`report`): lost between
 * push and fetch when Sidekiq holds it nowhere, stalled when it waits in a queue that has not moved
 * for longer than the threshold, or in the scheduled set past its time. Null while it is on its way.
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
  const waiting =
    job.status === 'scheduled'
      ? `due ${span(waitingMs)} ago (scheduled for ${at(job.waitingSince)}) and not started`
      : `queued ${span(waitingMs)} ago and not started`;
  const base = {
    detector: 'never_started' as const,
    identity: `never_started:${job.instance}:${job.jid}`,
    instance: job.instance,
    jobClass: job.jobClass,
    jid: job.jid,
  };
  const evidence = {
    status: job.status,
    waiting_since: job.waitingSince.toISOString(),
    waiting_ms: waitingMs,
    limit_ms: limitMs,
    queue: job.queue,
  };
  const holding = report.held.get(job.jid);
  const queue = job.queue === null ? undefined : report.queues.get(job.queue);
  if (holding?.where === 'working') {
    // it runs: its start was not reported, which is not this detector's finding
    return null;
  }
  if (holding?.where === 'retry') {
    return null;
  }
  if (holding?.where === 'scheduled') {
    const dueMs = now.getTime() - holding.score * 1000;
    if (dueMs <= limitMs) {
      return null;
    }
    return {
      ...base,
      severity: 'warning',
      summary: `${waiting}; still in Sidekiq's scheduled set ${span(dueMs)} after its time: nothing moves due jobs to their queue (is any Sidekiq process running its scheduler?)`,
      evidence: { ...evidence, held: 'scheduled', scheduled_score: holding.score },
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
  return {
    ...base,
    severity: 'critical',
    summary: `${waiting}; Sidekiq holds it in no queue, set or worker: lost between push and fetch`,
    evidence: {
      ...evidence,
      held: 'nowhere',
      queue_size: queue?.size ?? null,
      // sets too large to read whole within the bound: it could be there unseen
      unread: report.unread,
    },
  };
}

// waiting jobs judged per evaluation, and entries of each queue or set read looking for them
const MAX_WAITING = 1000;
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
    const waiting = (
      await this.signals.waitingSince(new Date(now.getTime() - shortest * 1000), MAX_WAITING)
    ).filter(
      (job) =>
        now.getTime() - job.waitingSince.getTime() >
        thresholdsFor(defaults, overrides, job.jobClass).neverStartedSeconds * 1000,
    );
    let complete = waiting.length < MAX_WAITING;
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
            since: j.waitingSince.getTime() / 1000,
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
