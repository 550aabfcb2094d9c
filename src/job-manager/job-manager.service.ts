import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/errors/domain-error.js';
import type { JobResponseDto } from '../jobs/dto/job-response.dto.js';
import { type DurationKind, type JobFilter, JobsService } from '../jobs/jobs.service.js';
import { JobStatus } from '../jobs/job-status.js';
import { humanDuration } from './format.js';

/** Paging and window options every query takes. */
export interface QueryOptions {
  /** rows per page, 1 to 1000 (default 50) */
  limit?: number;
  /** rows to skip (default 0) */
  offset?: number;
  /** Sidekiq instance name */
  instance?: string;
  /** last activity at or after (ISO 8601 or Date) */
  from?: string | Date;
  /** last activity before (ISO 8601 or Date) */
  to?: string | Date;
}

export interface JobPage {
  jobs: JobResponseDto[];
  limit: number;
  offset: number;
  /** offset of the next page, null on the last one */
  next_offset: number | null;
}

export interface JobDuration {
  job_id: string;
  job_class: string | null;
  queue: string | null;
  arguments: string | null;
  from: string | null;
  completed_at: string | null;
  duration_ms: number;
  duration: string;
}

export interface DurationPage {
  durations: JobDuration[];
  limit: number;
  offset: number;
  next_offset: number | null;
}

const MAX_LIMIT = 1000;

/**
 * The operator's API over reported jobs, with the original supervisor's names and meanings. Used
 * by the REPL (`JobManager.queued_jobs('abc')`) and by REST under /api/v1/job-manager. Every query
 * takes an optional substring matched against the job's arguments JSON text.
 */
@Injectable()
export class JobManagerService {
  constructor(private readonly jobs: JobsService) {}

  /** Jobs whose latest status is queued. */
  queuedJobs(filter?: string | null, options: QueryOptions = {}): Promise<JobPage> {
    return this.page([JobStatus.Queued], filter, options);
  }

  /** Jobs whose latest status is running (started, never finished). */
  uncompletedJobs(filter?: string | null, options: QueryOptions = {}): Promise<JobPage> {
    return this.page([JobStatus.Running], filter, options);
  }

  /** Jobs whose latest status is succeeded. */
  completedJobs(filter?: string | null, options: QueryOptions = {}): Promise<JobPage> {
    return this.page([JobStatus.Succeeded], filter, options);
  }

  /** Jobs that failed for good (no retry) or died after their retries. */
  failedJobs(filter?: string | null, options: QueryOptions = {}): Promise<JobPage> {
    return this.page([JobStatus.Failed, JobStatus.Dead], filter, options);
  }

  /** Every job, newest first. */
  allJobs(filter?: string | null, options: QueryOptions = {}): Promise<JobPage> {
    return this.page([], filter, options);
  }

  /** Succeeded jobs with the time from queued to completed. */
  queuedToCompletionDuration(
    filter?: string | null,
    options: QueryOptions = {},
  ): Promise<DurationPage> {
    return this.durationPage('queued_to_completion', filter, options);
  }

  /** Succeeded jobs with the time from their (last) start to completed. */
  completedJobsDuration(filter?: string | null, options: QueryOptions = {}): Promise<DurationPage> {
    return this.durationPage('started_to_completion', filter, options);
  }

  private async page(statuses: string[], filter: unknown, options: QueryOptions): Promise<JobPage> {
    const query = toFilter(statuses, filter, options);
    const jobs = await this.jobs.find({ ...query, limit: query.limit + 1 });
    return {
      jobs: jobs.slice(0, query.limit),
      limit: query.limit,
      offset: query.offset,
      next_offset: jobs.length > query.limit ? query.offset + query.limit : null,
    };
  }

  private async durationPage(
    kind: DurationKind,
    filter: unknown,
    options: QueryOptions,
  ): Promise<DurationPage> {
    const query = toFilter([], filter, options);
    const rows = await this.jobs.durations(kind, { ...query, limit: query.limit + 1 });
    return {
      durations: rows.slice(0, query.limit).map((job) => ({
        job_id: job.job_id,
        job_class: job.job_class,
        queue: job.queue,
        arguments: job.arguments,
        from:
          kind === 'queued_to_completion' ? (job.enqueued_at ?? job.created_at) : job.started_at,
        completed_at: job.completed_at,
        duration_ms: job.elapsed_ms,
        duration: humanDuration(job.elapsed_ms),
      })),
      limit: query.limit,
      offset: query.offset,
      next_offset: rows.length > query.limit ? query.offset + query.limit : null,
    };
  }
}

function invalid(field: string, message: string): DomainError {
  return new DomainError('VALIDATION_FAILED', `${field} ${message}`, {
    errors: [{ field, message }],
  });
}

function toTime(field: string, value: unknown): Date | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : null;
  if (!date || Number.isNaN(date.getTime())) {
    throw invalid(field, 'must be an ISO 8601 date-time or a Date');
  }
  return date;
}

/** The REPL runs no pipes: every argument is checked here. */
export function toFilter(statuses: string[], filter: unknown, options: unknown): JobFilter {
  if (filter !== undefined && filter !== null && typeof filter !== 'string') {
    throw invalid('filter', 'must be a string (a substring of the arguments) or omitted');
  }
  if (typeof filter === 'string' && filter.length > 1000) {
    throw invalid('filter', 'must be at most 1000 characters');
  }
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw invalid('options', 'must be an object like { limit: 50, offset: 0 }');
  }
  const o = (options ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!['limit', 'offset', 'instance', 'from', 'to'].includes(key)) {
      throw invalid(key, 'is not an option (limit, offset, instance, from, to)');
    }
  }
  const limit = o.limit ?? 50;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw invalid('limit', `must be an integer from 1 to ${MAX_LIMIT}`);
  }
  const offset = o.offset ?? 0;
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) {
    throw invalid('offset', 'must be a whole number ≥ 0');
  }
  if (
    o.instance !== undefined &&
    (typeof o.instance !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(o.instance))
  ) {
    throw invalid('instance', 'must be an instance name');
  }
  return {
    statuses,
    argumentsContain: typeof filter === 'string' && filter.length > 0 ? filter : undefined,
    instance: o.instance as string | undefined,
    from: toTime('from', o.from),
    to: toTime('to', o.to),
    limit,
    offset,
  };
}
