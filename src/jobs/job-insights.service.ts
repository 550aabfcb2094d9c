import { Injectable } from '@nestjs/common';
import { type FailureEventRow, JobEventRepository } from './job-event.repository.js';
import { type AroundRow, JobRepository } from './job.repository.js';

export type { FailureEventRow } from './job-event.repository.js';
export type { AroundRow } from './job.repository.js';

/** The job history as the findings module reads it (read-only). */
@Injectable()
export class JobInsightsService {
  constructor(
    private readonly jobs: JobRepository,
    private readonly jobEvents: JobEventRepository,
  ) {}

  /** The last job_events id handed out (its transaction may still be running). */
  lastIssuedEventId(): Promise<string> {
    return this.jobEvents.lastIssuedId();
  }

  /** Failures reported by events with ids in (afterId, upToId], each failed run once. */
  failuresBetween(afterId: string, upToId: string): Promise<FailureEventRow[]> {
    return this.jobEvents.failuresBetween(afterId, upToId);
  }

  /** Per job class of the instance: terminal jobs in [from, at) and in [at, to). */
  around(instance: string, from: Date, at: Date, to: Date): Promise<AroundRow[]> {
    return this.jobs.around(instance, from, at, to);
  }
}
