import { EnsureRequestContext } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { type RunEventRow, JobEventRepository } from './job-event.repository.js';
import {
  type JobKey,
  type RunBaselineRow,
  type RunningJobRow,
  type WaitingJobRow,
  JobRepository,
} from './job.repository.js';

export type { RunEventRow } from './job-event.repository.js';
export type { JobKey, RunBaselineRow, RunningJobRow, WaitingJobRow } from './job.repository.js';

/** The job history as the detectors (src/findings/) read it: read-only, each read bounded. */
@Injectable()
export class JobSignalsService {
  constructor(
    private readonly jobs: JobRepository,
    private readonly jobEvents: JobEventRepository,
    // used by @EnsureRequestContext: the detectors run from the scheduler, outside HTTP
    private readonly em: EntityManager,
  ) {}

  @EnsureRequestContext()
  running(limit: number): Promise<RunningJobRow[]> {
    return this.jobs.running(limit);
  }

  @EnsureRequestContext()
  runBaselines(
    classes: { instance: string; jobClass: string }[],
    since: Date,
    sampleRuns: number,
  ): Promise<RunBaselineRow[]> {
    return this.jobs.runBaselines(classes, since, sampleRuns);
  }

  @EnsureRequestContext()
  waitingSince(before: Date, limit: number): Promise<WaitingJobRow[]> {
    return this.jobs.waitingSince(before, limit);
  }

  @EnsureRequestContext()
  runEvents(since: Date, keep: JobKey[], limit: number): Promise<RunEventRow[]> {
    return this.jobEvents.runEvents(since, keep, limit);
  }
}
