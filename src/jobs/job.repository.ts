import { EntityRepository, type FilterQuery } from '@mikro-orm/postgresql';
import { DomainError } from '../common/errors/domain-error.js';
import { JobEvent } from './job-event.entity.js';
import type { Job } from './job.entity.js';

export type DurationKind = 'queued_to_completion' | 'started_to_completion';

export interface JobDurationRow {
  job: Job;
  durationMs: number;
}

export interface JobQuery {
  instance?: string;
  statuses?: string[];
  jobClass?: string;
  queue?: string;
  from?: Date;
  to?: Date;
  argumentsContain?: string;
  /** id of the last row of the previous page */
  afterId?: string;
  offset?: number;
  limit: number;
}

export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export class JobRepository extends EntityRepository<Job> {
  /** Newest job first; keyset pagination on id (stable while jobs change). */
  async search(query: JobQuery): Promise<Job[]> {
    return this.find(
      { $and: this.filters(query) },
      { orderBy: { id: 'desc' }, limit: query.limit, offset: query.offset },
    );
  }

  /**
   * Succeeded jobs with the time from enqueue (or creation when no queued event arrived) or from
   * the latest start, to completion; newest first.
   */
  async durations(kind: DurationKind, query: JobQuery): Promise<JobDurationRow[]> {
    const jobs = await this.find(
      {
        $and: [
          ...this.filters({ ...query, statuses: ['succeeded'] }),
          { completedAt: { $ne: null } },
          kind === 'queued_to_completion'
            ? { $or: [{ enqueuedAt: { $ne: null } }, { createdAt: { $ne: null } }] }
            : { startedAt: { $ne: null } },
        ],
      },
      { orderBy: { id: 'desc' }, limit: query.limit, offset: query.offset },
    );
    return jobs.map((job) => {
      const start =
        kind === 'queued_to_completion' ? (job.enqueuedAt ?? job.createdAt) : job.startedAt;
      return { job, durationMs: job.completedAt!.getTime() - start!.getTime() };
    });
  }

  private filters(query: JobQuery): FilterQuery<Job>[] {
    const where: FilterQuery<Job>[] = [];
    if (query.instance) {
      where.push({ instance: query.instance });
    }
    if (query.statuses?.length) {
      where.push({ status: { $in: query.statuses } });
    }
    if (query.jobClass) {
      where.push({ jobClass: query.jobClass });
    }
    if (query.queue) {
      where.push({ queue: query.queue });
    }
    if (query.from) {
      where.push({ lastEventAt: { $gte: query.from } });
    }
    if (query.to) {
      where.push({ lastEventAt: { $lt: query.to } });
    }
    if (query.argumentsContain) {
      where.push({ arguments: { $like: `%${escapeLike(query.argumentsContain)}%` } });
    }
    if (query.afterId) {
      where.push({ id: { $lt: query.afterId } });
    }
    return where;
  }

  async findByJid(jid: string, instance?: string): Promise<Job> {
    const rows = await this.find(instance ? { jid, instance } : { jid }, {
      orderBy: { lastEventAt: 'desc' },
      limit: 2,
      populate: ['payload'],
    });
    if (rows.length === 0) {
      throw new DomainError('JOB_NOT_FOUND', `No job with job_id ${jid}`, { field: 'job_id' });
    }
    if (rows.length > 1) {
      throw new DomainError(
        'CONFLICT',
        `job_id ${jid} exists in several instances; pass instance`,
        {
          field: 'instance',
        },
      );
    }
    return rows[0];
  }

  timeline(job: Job): Promise<JobEvent[]> {
    return this.em.find(
      JobEvent,
      { instance: job.instance, jid: job.jid },
      { orderBy: [{ occurredAt: 'asc' }, { attempt: 'asc' }, { id: 'asc' }] },
    );
  }
}
