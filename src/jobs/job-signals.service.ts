import { EnsureRequestContext } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { type RunEventRow, JobEventRepository } from './job-event.repository.js';
import { Job } from './job.entity.js';
import {
  type ConcurrentRunRow,
  type JobKey,
  type RunBaselineRow,
  type RunningJobRow,
  type WaitingJobRow,
  JobRepository,
} from './job.repository.js';

export type { RunEventRow } from './job-event.repository.js';
export type {
  ConcurrentRunRow,
  JobKey,
  RunBaselineRow,
  RunningJobRow,
  WaitingJobRow,
} from './job.repository.js';

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

  runBaselines(
    classes: { instance: string; jobClass: string }[],
    since: Date,
    sampleRuns: number,
  ): Promise<RunBaselineRow[]> {
    // One short index walk per class, but Postgres takes the class list for 100 rows and the
    // plan past JIT's thresholds: compiling it took 0.5 s for 20 ms of work (bench:detectors)
    return this.em.fork().transactional(async (em) => {
      await em.execute('set local jit = off');
      return em.getRepository(Job).runBaselines(classes, since, sampleRuns);
    });
  }

  @EnsureRequestContext()
  waitingSince(before: Date, limit: number): Promise<WaitingJobRow[]> {
    return this.jobs.waitingSince(before, limit);
  }

  @EnsureRequestContext()
  concurrentRuns(classes: readonly string[], limit: number): Promise<ConcurrentRunRow[]> {
    return this.jobs.concurrentRuns(classes, limit);
  }

  @EnsureRequestContext()
  retriesDueBefore(before: Date, limit: number): Promise<WaitingJobRow[]> {
    return this.jobs.retriesDueBefore(before, limit);
  }

  @EnsureRequestContext()
  runEvents(since: Date, keep: JobKey[], limit: number): Promise<RunEventRow[]> {
    return this.jobEvents.runEvents(since, keep, limit);
  }
}
