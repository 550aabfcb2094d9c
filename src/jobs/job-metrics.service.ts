import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { type LifecycleEventRow, JobEventRepository } from './job-event.repository.js';
import { Job } from './job.entity.js';
import {
  type ClassListRow,
  type ClassWindowQuery,
  type ClassWindowRow,
  type JobWindowQuery,
  type JobWindowRow,
  JobRepository,
} from './job.repository.js';

export type { LifecycleEventRow } from './job-event.repository.js';
export type {
  ClassListRow,
  ClassWindowQuery,
  ClassWindowRow,
  JobWindowQuery,
  JobWindowRow,
} from './job.repository.js';

// A window over every class is split into this many class ranges, read concurrently (the
// percentile sorts are CPU-bound and Postgres runs each statement's aggregate on one core)
const WINDOW_PARTS = 4;

function compareNullsLast(a: string | null, b: string | null): number {
  if (a === b) {
    return 0;
  }
  if (a === null) {
    return 1;
  }
  if (b === null) {
    return -1;
  }
  return a < b ? -1 : 1;
}

const byClassAndQueue = (a: JobWindowRow, b: JobWindowRow) =>
  compareNullsLast(a.jobClass, b.jobClass) || compareNullsLast(a.queue, b.queue);

/** The job history as the metrics module reads it (read-only). */
@Injectable()
export class JobMetricsService {
  constructor(
    private readonly jobs: JobRepository,
    private readonly jobEvents: JobEventRepository,
    private readonly em: EntityManager,
  ) {}

  // A class's window over days is ~35,000 index entries: past JIT's cost thresholds, and compiling
  // costs more than it saves on work this size (bench:detectors; see JobSignalsService too)
  private withoutJit<T>(read: (jobs: JobRepository) => Promise<T>): Promise<T> {
    return this.em.fork().transactional(async (em) => {
      await em.execute('set local jit = off');
      return read(em.getRepository(Job));
    });
  }

  async window(query: JobWindowQuery): Promise<JobWindowRow[]> {
    if (query.jobClass !== undefined) {
      return this.jobs.outcomeWindow(query, null, null);
    }
    const classes = await this.jobs.terminalClasses();
    const bounds: (string | null)[] = [null];
    for (let i = 1; i < WINDOW_PARTS; i++) {
      const bound = classes[Math.floor((i * classes.length) / WINDOW_PARTS)];
      if (bound !== undefined && bound !== bounds.at(-1)) {
        bounds.push(bound);
      }
    }
    const parts = await Promise.all([
      ...bounds.map((lo, i) => this.jobs.outcomeWindow(query, lo, bounds[i + 1] ?? null)),
      this.jobs.outcomeWindow(query, null, null, true),
    ]);
    return parts.flat().sort(byClassAndQueue);
  }

  /** One class's terminal jobs over a window: counts, percentiles, buckets, histogram. */
  classWindow(query: ClassWindowQuery): Promise<ClassWindowRow> {
    return this.withoutJit((jobs) => jobs.classWindow(query));
  }

  hasTerminalJobs(jobClass: string, instance?: string): Promise<boolean> {
    return this.jobs.hasTerminalJobs(jobClass, instance);
  }

  /** The first `limit` classes by name with their counts and run p50/p95 over a window. */
  classList(
    from: Date,
    to: Date,
    instance: string | undefined,
    limit: number,
  ): Promise<{ rows: ClassListRow[]; more: boolean }> {
    return this.withoutJit((jobs) => jobs.classList(from, to, instance, limit));
  }

  maxEventId(): Promise<string> {
    return this.jobEvents.maxId();
  }

  /** Ids of events after `afterId`, oldest first. */
  eventIdsAfter(afterId: string, limit: number): Promise<string[]> {
    return this.jobEvents.idsAfter(afterId, limit);
  }

  /** The events with these ids (those that exist), with their job's class, queue and times. */
  events(ids: string[]): Promise<LifecycleEventRow[]> {
    return this.jobEvents.lifecycleEvents(ids);
  }
}
