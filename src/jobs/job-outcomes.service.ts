import { Injectable } from '@nestjs/common';
import { type ClassOutcomeRow, JobRepository, type RecentSuccessRow } from './job.repository.js';

export type { ClassOutcomeRow, RecentSuccessRow } from './job.repository.js';

/** The job history's outcomes per class, as the periodic-jobs checks read them (read-only). */
@Injectable()
export class JobOutcomesService {
  constructor(private readonly jobs: JobRepository) {}

  /** See JobRepository#classOutcomes; no query for no class. */
  async classOutcomes(
    classes: string[],
    instance: string,
    window: number,
  ): Promise<Map<string, ClassOutcomeRow>> {
    if (classes.length === 0) {
      return new Map();
    }
    const rows = await this.jobs.classOutcomes(classes, instance, window);
    return new Map(rows.map((r) => [r.jobClass, r]));
  }

  recentSuccesses(window: number, keep: number, classLimit: number): Promise<RecentSuccessRow[]> {
    return this.jobs.recentSuccesses(window, keep, classLimit);
  }
}
